"""Citedesk's desktop program: the Qt window and the ``citedesk`` command.

Importing this package does not import Qt, so the command line stays light;
``create_window`` loads the GUI when it is first asked for.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_window":
        from .app import create_window

        return create_window
    raise AttributeError(name)
