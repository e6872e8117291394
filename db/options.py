"""The library-wide settings, declared once: each one's stored name, type and default.

They live in the library file (its ``settings`` table), so every window and script that
opens the file sees the same values; the window's own preferences are desktop/settings.py's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .keys import DEFAULT_PATTERN

T = TypeVar("T")


@dataclass(frozen=True)
class LibrarySetting(Generic[T]):
    """One setting: the name it is stored under and what it is when never set."""

    name: str
    default: T

    def fresh_default(self) -> T:
        """The default as a value of its own, which a caller may change."""
        return copy.deepcopy(self.default)


#: The pattern new citation keys follow (see db/keys.py).
KEY_PATTERN: LibrarySetting[str] = LibrarySetting("key_pattern", DEFAULT_PATTERN)
#: How many automatic daily backups are kept; 0 makes none.
BACKUP_KEEP: LibrarySetting[int] = LibrarySetting("backup_keep", 7)
#: The saved export profiles, by name, as ExportProfile.to_dict() writes them.
EXPORT_PROFILES: LibrarySetting[dict[str, dict[str, Any]]] = LibrarySetting("export_profiles", {})
#: The e-mail address sent with lookups (doi.org, Crossref, arXiv, Open Library ask for a
#: contact in the User-Agent); empty sends Citedesk's own. CITEDESK_CONTACT overrides it.
LOOKUP_CONTACT: LibrarySetting[str] = LibrarySetting("lookup_contact", "")
#: The saved searches, by name (as first typed), each ``{"search", "tag", "status"}``: what
#: the search box held and the sidebar's tag or status (see db/saved.py).
SAVED_SEARCHES: LibrarySetting[dict[str, dict[str, Any]]] = LibrarySetting("saved_searches", {})
#: The files kept up to date after every write (see db/autoexport.py).
AUTOEXPORTS: LibrarySetting[list[dict[str, Any]]] = LibrarySetting("autoexports", [])

#: The version of the rules (db/derive.py DERIVE_VERSION) the papers' shown values (title,
#: short author list...) were derived by; a library derived by older rules is derived again
#: when opened. Unset: a library from before versions were kept (version 1).
DERIVED_WITH: LibrarySetting[int] = LibrarySetting("derived_with", 1)

#: Where stored files are kept: a folder, taken from the library's folder when relative.
#: Empty: ``files`` beside the library.
FILES_DIR: LibrarySetting[str] = LibrarySetting("files_dir", "")
#: How a stored file is named, before its extension: ``{key}`` is the citation key.
FILE_PATTERN: LibrarySetting[str] = LibrarySetting("file_pattern", "{key}")

LIBRARY_SETTINGS = (
    KEY_PATTERN,
    BACKUP_KEEP,
    EXPORT_PROFILES,
    AUTOEXPORTS,
    SAVED_SEARCHES,
    DERIVED_WITH,
    FILES_DIR,
    FILE_PATTERN,
)
