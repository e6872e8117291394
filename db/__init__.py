"""Citedesk's library: schema, queries, BibTeX and citation keys. No Qt here."""

from .arrivals import GOOD_MATCH, FieldDiff, Preview, SamePaper, SearchFor
from .attachments import TRASH as FILES_TRASH
from .attachments import Attachment, RelinkReport, file_hash, human_size
from .backup import (
    FILES_SUFFIX,
    FilesBackup,
    FilesRestore,
    backup_dir,
    backup_with_files,
    check_files_archive,
    check_library,
    files_archive,
    newest_backup,
    restore_files,
)
from .backup import backup as backup_library
from .backup import backups as list_backups
from .backup import restore as restore_library
from .backup import rotate as rotate_backups
from .bibitems import Failure, ParsedFile
from .bibout import EXPORT_ORDERS, write_export
from .bibtex import parse_file, parse_text
from .cite import FORMATS as CITE_FORMATS
from .cite import CiteFormatError
from .csl import CslError
from .csl import styles as csl_styles
from .errors import (
    BibFileError,
    LibraryDamagedError,
    LibraryError,
    LibraryLockedError,
    LibraryTooNewError,
    UnknownPaperError,
)
from .export import DIALECTS, ExportProfile, parse_exclude, read_aux
from .fulltext import FulltextHit, FulltextReport, FulltextStatus
from .fulltext import paper_fields as read_pdf_paper
from .group import Conflict as GroupConflict
from .group import (
    GroupError,
    GroupStatus,
    GroupUnreachableError,
    ReadOnlyMemberError,
    SyncReport,
)
from .group import grant as group_grant
from .group import listen as group_listen
from .group import shown as shown_server
from .identifiers import (
    Identifier,
    arxiv_base,
    find_identifiers,
    identifiers_in,
    parse_identifier,
)
from .indexjob import index_apart
from .keys import DEFAULT_PATTERN, KeyPatternError, check_pattern, format_key
from .latex import display_text
from .library import Library
from .names import Person
from .options import (
    AUTOEXPORTS,
    BACKUP_KEEP,
    EXPORT_PROFILES,
    FILE_PATTERN,
    FILES_DIR,
    KEY_PATTERN,
    LOOKUP_CONTACT,
    SAVED_SEARCHES,
    LibrarySetting,
)
from .paths import ENV_VAR, default_library_path
from .saved import SavedSearch, narrowed
from .store import DatabaseError, SQLiteError
from .values import (
    ENTRY_TYPES,
    STATUS_LABELS,
    STATUSES,
    Changes,
    ImportReport,
    Note,
    Paper,
    Query,
    Row,
    RowImage,
    TagInfo,
    Undo,
    normal_tag,
)

__all__ = [
    "GroupConflict",
    "GroupError",
    "GroupStatus",
    "GroupUnreachableError",
    "ReadOnlyMemberError",
    "SyncReport",
    "EXPORT_ORDERS",
    "group_grant",
    "group_listen",
    "shown_server",
    "display_text",
    "CslError",
    "csl_styles",
    "CITE_FORMATS",
    "CiteFormatError",
    "FieldDiff",
    "Preview",
    "SamePaper",
    "LookupCancelled",
    "SourceError",
    "Identifier",
    "arxiv_base",
    "find_identifiers",
    "parse_identifier",
    "identifiers_in",
    "GOOD_MATCH",
    "Candidates",
    "Lookup",
    "Outcome",
    "SearchFor",
    "Endpoints",
    "Found",
    "Attachment",
    "FulltextHit",
    "FulltextReport",
    "FulltextStatus",
    "read_pdf_paper",
    "index_apart",
    "RelinkReport",
    "FILES_TRASH",
    "file_hash",
    "human_size",
    "FILES_SUFFIX",
    "FilesBackup",
    "FilesRestore",
    "backup_with_files",
    "check_files_archive",
    "files_archive",
    "restore_files",
    "FILE_PATTERN",
    "FILES_DIR",
    "AUTOEXPORTS",
    "BACKUP_KEEP",
    "LOOKUP_CONTACT",
    "SAVED_SEARCHES",
    "SavedSearch",
    "narrowed",
    "EXPORT_PROFILES",
    "KEY_PATTERN",
    "LibrarySetting",
    "DEFAULT_PATTERN",
    "DIALECTS",
    "ENTRY_TYPES",
    "ENV_VAR",
    "STATUSES",
    "STATUS_LABELS",
    "BibFileError",
    "Changes",
    "DatabaseError",
    "ExportProfile",
    "Failure",
    "ImportReport",
    "KeyPatternError",
    "Library",
    "LibraryDamagedError",
    "LibraryError",
    "LibraryLockedError",
    "LibraryTooNewError",
    "Note",
    "Paper",
    "ParsedFile",
    "Person",
    "Query",
    "Row",
    "SQLiteError",
    "RowImage",
    "TagInfo",
    "Undo",
    "UnknownPaperError",
    "backup_dir",
    "backup_library",
    "list_backups",
    "check_library",
    "check_pattern",
    "default_library_path",
    "format_key",
    "newest_backup",
    "normal_tag",
    "parse_exclude",
    "parse_file",
    "parse_text",
    "read_aux",
    "restore_library",
    "rotate_backups",
    "write_export",
]

#: What is looked up over the network (db/http.py, db/sources.py, db/lookup.py) brings
#: httpx, ~150 ms to import: every ``citedesk`` command and the window's start would pay
#: it. Those names are imported when first asked for (PEP 562).
_LAZY = {
    "LookupCancelled": ("http", "Cancelled"),
    "SourceError": ("http", "SourceError"),
    "Lookup": ("lookup", "Lookup"),
    "Outcome": ("lookup", "Outcome"),
    "Candidates": ("sources", "Candidates"),
    "Endpoints": ("sources", "Endpoints"),
    "Found": ("sources", "Found"),
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value
