"""Citedesk's desktop program: the Qt window and the ``citedesk`` command.

Importing this package does not import Qt, so the command line stays light;
``create_window`` loads the GUI when it is first asked for.
"""

from __future__ import annotations

from typing import Any

from .qtfix import guard_singletons

# Before any Qt call: PySide6 6.12.0 on Python 3.11 leaks a reference to None per call of a
# void Qt method and would abort a long session (see qtfix.py). No Qt is imported by this.
guard_singletons()


def __getattr__(name: str) -> Any:
    if name == "create_window":
        from .app import create_window

        return create_window
    raise AttributeError(name)
