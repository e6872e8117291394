"""Where the library lives when nobody says: ``--library``, ``$CITEDESK_LIBRARY``, data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_VAR = "CITEDESK_LIBRARY"


def data_dir() -> Path:
    """The platform's per-user data folder for Citedesk (no Qt needed)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
        return base / "Citedesk"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Citedesk"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "citedesk"


def default_library_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return data_dir() / "library.sqlite"
