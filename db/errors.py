"""Errors a person can act on. Anything else that escapes ``db`` is a bug."""

from __future__ import annotations


class LibraryError(Exception):
    """Base for errors with a message meant for people."""


class LibraryTooNewError(LibraryError):
    """The file was written by a newer Citedesk; it is left untouched."""


class LibraryDamagedError(LibraryError):
    """The file is not a readable Citedesk library (not SQLite, truncated, corrupt).

    ``path`` is the damaged file (left untouched) and ``backup`` the newest backup of it
    found (or None), so the window can offer to restore it.
    """

    def __init__(self, message: str, *, path: object = None, backup: object = None) -> None:
        super().__init__(message)
        self.path = path
        self.backup = backup


class LibraryLockedError(LibraryError):
    """Another process held the library for longer than the busy timeout."""


class UnknownPaperError(LibraryError, KeyError):
    """No paper has the given citation key or id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown paper"


class BibFileError(LibraryError):
    """A .bib file could not be read at all (missing, a directory, unreadable)."""
