"""Citedesk's library: schema, queries, BibTeX and citation keys. No Qt here."""

from .bibtex import Failure, ParsedFile, parse_file, parse_text
from .errors import (
    BibFileError,
    LibraryDamagedError,
    LibraryError,
    LibraryLockedError,
    LibraryTooNewError,
    UnknownPaperError,
)
from .keys import DEFAULT_PATTERN, KeyPatternError
from .library import Library
from .names import Person
from .values import (
    ENTRY_TYPES,
    STATUS_LABELS,
    STATUSES,
    Changes,
    DeletedPapers,
    ImportReport,
    Note,
    Paper,
    Query,
    Row,
    TagInfo,
    normal_tag,
)

__all__ = [
    "BibFileError", "Changes", "DEFAULT_PATTERN", "DeletedPapers", "ENTRY_TYPES", "Failure",
    "ImportReport", "KeyPatternError", "Library", "LibraryDamagedError", "LibraryError",
    "LibraryLockedError", "LibraryTooNewError", "Note", "Paper", "ParsedFile", "Person", "Query",
    "Row", "STATUS_LABELS", "STATUSES", "TagInfo", "UnknownPaperError", "normal_tag",
    "parse_file", "parse_text",
]
