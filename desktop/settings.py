"""Every desktop setting, declared in one place (as Picard's ``options.py``).

Two kinds live here, kept apart: *preferences* a person chooses in the Preferences dialog,
and *window state* the program remembers by itself (the size of the window and of every
dialog, every splitter, the columns, the last paper). Library-wide choices such as the
citation key pattern are stored in the library file itself (``Library.key_pattern``), not
here, so they travel with the library.

Where the file lives: Qt's usual place for organisation "Citedesk", unless the environment
variable ``CITEDESK_SETTINGS_DIR`` names a folder; then an INI file ``citedesk.ini`` in that
folder is used. Tests set it to a temporary folder so they never touch a person's settings.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "Citedesk"
APPLICATION = "Citedesk"
SETTINGS_DIR_ENV = "CITEDESK_SETTINGS_DIR"

T = TypeVar("T")


@dataclass(frozen=True)
class Option(Generic[T]):
    """One stored value: its key, its default and the type it is read back as."""

    key: str
    default: T
    kind: type


# -- preferences (the Preferences dialog) ------------------------------------------------------

#: The export profile exports start with: "" writes entries as stored (lossless);
#: else a profile name, built in ("bibtex": ASCII, "biblatex": UTF-8) or saved in the library.
#: A saved profile the open library lacks falls back to "".
EXPORT_PROFILE: Option[str] = Option("preferences/export_profile", "", str)
#: Cite as you write (``cayw.py``): editors ask for citations over loopback HTTP. The
#: environment variable ``CITEDESK_CAYW_PORT`` overrides both (tests set it to 0).
CAYW_ENABLED: Option[bool] = Option("preferences/cayw_enabled", True, bool)
#: Its port: Better BibTeX's and JabRef's 23119, which editor plugins call; 0 for any free
#: port. Taken, the next free one of the ten after it is used (and the status bar says so).
CAYW_PORT: Option[int] = Option("preferences/cayw_port", 23119, int)
#: Formatted references and citations (Copy As, the detail pane, Export Bibliography): a
#: shipped CSL style's name (``db.csl_styles()``) or the path of a user's own .csl file.
CITATION_STYLE: Option[str] = Option("preferences/citation_style", "apa", str)
#: The language they are written in (a CSL locale: dates, "and", "et al.").
CITATION_LOCALE: Option[str] = Option("preferences/citation_locale", "en-US", str)

# -- window state (remembered by itself) ---------------------------------------------------------

#: Folder last used in a file dialog, so the next dialog starts there.
LAST_FOLDER: Option[str] = Option("window/last_folder", "", str)
#: The main window's size and place (see :func:`geometry_option`).
GEOMETRY: Option[QByteArray] = Option("window/geometry", QByteArray(), QByteArray)
#: The main window's toolbar.
WINDOW_STATE: Option[QByteArray] = Option("window/state", QByteArray(), QByteArray)
#: The main splitter: sidebar | table | detail pane (see :func:`splitter_option`).
SPLITTER: Option[QByteArray] = Option("window/splitter", QByteArray(), QByteArray)
#: The side panes' widths as the person chose them, "sidebar,detail" ("" for the defaults):
#: a window too narrow for them narrows them for the titles, and they come back with room.
PANE_WIDTHS: Option[str] = Option("window/panes", "", str)
#: How many columns the table had when its header was saved (0: before this was kept, when
#: it had 8): columns added since start as their defaults say (the Key column hidden).
HEADER_COLUMNS: Option[int] = Option("window/header_columns", 0, int)
#: The table header: column order, widths, hidden columns and the sort column and order.
HEADER: Option[QByteArray] = Option("window/header", QByteArray(), QByteArray)
#: Per library (see :func:`library_group`): the citation key of the paper last selected.
LAST_PAPER: Option[str] = Option("last_paper", "", str)


def geometry_option(name: str) -> Option[QByteArray]:
    """The size and place of the window or dialog with this object name
    (``desktop/geometry.py``). The main window keeps the key it had before dialogs were
    remembered too, so a saved layout survives."""
    if name == "mainWindow":
        return GEOMETRY
    return Option(f"window/dialogs/{name}", QByteArray(), QByteArray)


def splitter_option(name: str) -> Option[QByteArray]:
    """The sizes of the splitter with this object name (``desktop/geometry.py``); the main
    splitter keeps its earlier key, as the main window does."""
    if name == "mainSplitter":
        return SPLITTER
    return Option(f"window/splitters/{name}", QByteArray(), QByteArray)


def start_folder(settings: Settings) -> str:
    """Where a file dialog starts: the folder last used while it is still there, else home."""
    folder = settings.get(LAST_FOLDER)
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def remember_folder(settings: Settings, path: str) -> None:
    """The next file dialog starts in this file's folder."""
    settings.set(LAST_FOLDER, str(Path(path).parent))


def library_group(path: str | os.PathLike[str]) -> str:
    """A settings group for one library file, so each library remembers its own paper."""
    digest = hashlib.sha1(str(Path(path).resolve()).encode("utf-8")).hexdigest()[:16]
    return f"libraries/{digest}"


class Settings:
    """Typed access to the settings file; pass it to whoever needs it (no global)."""

    def __init__(self, qsettings: QSettings) -> None:
        self.qsettings = qsettings

    @classmethod
    def open(cls) -> Settings:
        """The settings file for this user, or the one under ``$CITEDESK_SETTINGS_DIR``."""
        folder = os.environ.get(SETTINGS_DIR_ENV)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            qs = QSettings(str(Path(folder) / "citedesk.ini"), QSettings.Format.IniFormat)
        else:
            qs = QSettings(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
            )
        return cls(qs)

    @property
    def path(self) -> str:
        return self.qsettings.fileName()

    def get(self, option: Option[T], group: str | None = None) -> T:
        value: Any = self.qsettings.value(self._key(option, group), option.default)
        if value is None:
            return option.default
        if option.kind is bool and isinstance(value, str):
            return value.lower() in ("true", "1", "yes")  # type: ignore[return-value]
        if not isinstance(value, option.kind):
            try:
                value = option.kind(value)
            except (TypeError, ValueError):
                return option.default
        return value  # type: ignore[no-any-return]

    def set(self, option: Option[T], value: T, group: str | None = None) -> None:
        self.qsettings.setValue(self._key(option, group), value)

    def sync(self) -> None:
        self.qsettings.sync()

    @staticmethod
    def _key(option: Option[Any], group: str | None) -> str:
        return f"{group}/{option.key}" if group else option.key
