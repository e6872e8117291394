"""The one facade over a Citedesk library file.

Every write runs in one transaction and returns a :class:`Changes` value that says what
changed, so a window can refresh only what it shows, and how to undo it (captured in that
same transaction): :meth:`Library.undo` puts it back and returns the redo.

:class:`Library` holds the parts that do the work, as Anki's ``Collection`` holds its
managers, and each of its methods hands over to one of them:

- :mod:`db.store`: the SQLite file (connection, transactions, settings, errors);
- :mod:`db.queries`: finding papers, their order, the search indexes;
- :mod:`db.papers`: papers and their BibTeX fields; :mod:`db.personal`: tags, status,
  rating, notes; :mod:`db.citekeys`: keys; :mod:`db.duplicates`: duplicates and merges;
- :mod:`db.bibin`: BibTeX in; :mod:`db.bibout` and :mod:`db.autoexport`: BibTeX out;
- :mod:`db.history`: undo and redo of any write, from the row images it captured;
- :mod:`db.backup`: backups (the window and the command line call it directly).

The window and the command line use this class only, never a part.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import backup as backup_mod
from . import bibitems, csl, csljson, entrytypes, options, ris
from . import cite as cite_mod
from .arrivals import Arrivals, FieldDiff, Preview, SamePaper, SearchFor
from .attachments import Attachment, Attachments, RelinkReport, file_hash
from .autoexport import AutoExports
from .bibin import Imports
from .bibout import Exports, write_export
from .citekeys import CiteKeys
from .derive import DERIVE_VERSION
from .duplicates import Duplicates
from .entrytypes import FormRow
from .errors import LibraryError
from .export import ExportProfile
from .fulltext import (
    Fulltext,
    FulltextHit,
    FulltextReport,
    FulltextStatus,
    Progress,
    annotation_note,
    paper_fields,
)
from .group import Conflict, Group, GroupStatus, SyncReport
from .history import History
from .macros import StringMacros
from .options import LibrarySetting
from .papers import Papers
from .personal import Personal
from .queries import SORT_COLUMNS, Queries, SearchIndex
from .saved import SavedSearch, SavedSearches
from .store import DamagedFile, Store, file_problem
from .values import (
    STATUSES,
    Changes,
    ImportReport,
    Note,
    Paper,
    Query,
    Row,
    TagInfo,
    Undo,
)

if TYPE_CHECKING:  # httpx (~150 ms to import) only once a lookup is made: see lookup()
    from .http import CachedAnswer
    from .lookup import Lookup
    from .sources import Found

# What ``db.library`` has always offered, wherever it is made now.
__all__ = [
    "STATUSES",
    "SORT_COLUMNS",
    "Changes",
    "ImportReport",
    "Attachment",
    "Library",
    "Note",
    "Paper",
    "Query",
    "Row",
    "TagInfo",
    "write_export",
]


T = TypeVar("T")


class Library:
    """A Citedesk library: one SQLite file.

    Open with :meth:`open`; pass the object to whoever needs data (no globals).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.path
        self.conn = store.conn
        self.db = store.db
        self.index = SearchIndex(store)
        self.queries = Queries(store)
        self.string_macros = StringMacros(store)
        self.keys = CiteKeys(store, self.string_macros)
        self.personal = Personal(store, self.index)
        self.papers = Papers(store, self.index, self.string_macros, self.keys, self.personal)
        self.duplicates = Duplicates(store, self.index, self.papers, self.personal)
        self.history = History(store, self.index, self.personal, self.string_macros)
        self.imports = Imports(
            store, self.index, self.string_macros, self.keys, self.personal, self.papers
        )
        self.exports = Exports(store, self.queries, self.keys)
        self.autoexport = AutoExports(store, self.queries, self.exports)
        self.attachments = Attachments(store)
        self.fulltext = Fulltext(store, self.attachments)
        self.arrivals = Arrivals(store, self.papers, self.keys)
        self.group = Group(
            store, self.papers, self.keys, self.personal, self.imports, self.attachments
        )
        #: Rewrite auto-exports right after each write (the command line). The window
        #: leaves this off and runs them in the background instead, so edits stay fast.
        self.autoexport_after_write = False
        self.last_autoexport: list[tuple[str, str]] = []
        store.after_commit.append(self._after_write)

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, seed: bool = True) -> Library:
        """Open the library at ``path``, creating it (with the seeded papers) if missing."""
        p = Path(path).expanduser()
        is_new = not p.exists() or p.stat().st_size == 0
        if p.is_dir():
            raise LibraryError(f"{p}: is a directory, not a library file")
        if is_new and p.exists() and backup_mod.newest_backup(p) is not None:
            # An emptied library file (a crash, a bad copy): offer the backup, do not seed it.
            raise backup_mod.damaged(p, "is empty (0 bytes)")
        if is_new:
            p.parent.mkdir(parents=True, exist_ok=True)
        else:
            problem = file_problem(p)
            if problem:
                raise backup_mod.damaged(p, problem)
        try:
            store = Store.open(p, new=is_new, before_migration=backup_mod.before_migration)
        except DamagedFile as exc:
            raise backup_mod.damaged(p, exc.problem) from None
        lib = cls(store)
        lib.attachments.settle()  # moves a crash left undone
        lib.attachments.restore_stored()  # stored files moved by hand inside the folder
        if is_new:
            lib.change_setting(options.DERIVED_WITH, DERIVE_VERSION)
            if seed:
                lib.import_seed()
        elif lib.setting(options.DERIVED_WITH) < DERIVE_VERSION:
            lib.rederive_all()
        return lib

    def rederive_all(self) -> int:
        """Derive every paper's shown values again by today's rules (done on opening a
        library derived by older ones); returns how many papers."""
        with self.store.write():
            n = self.papers.rederive_all()
            self.change_setting(options.DERIVED_WITH, DERIVE_VERSION)
        return n

    def close(self, optimize: bool = True) -> None:
        """Close the library (``optimize=False``: a worker's connection beside a window;
        see :meth:`db.store.Store.close`)."""
        self.store.close(optimize)

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- undo and redo (db/history.py) ----------------------------------------------------------

    def undo(self, undo: Undo) -> Changes:
        """Put back what a write changed, from the ``undo`` of the :class:`Changes` it
        returned. The result's own ``undo`` redoes the write."""
        return self.history.undo(undo)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all of them happen or none (undo commands use it)."""
        with self.store.write():
            yield

    #: The old name of :meth:`transaction`, which scripts and tests still use.
    _write = transaction

    def _after_write(self) -> None:
        if self.autoexport_after_write and self.store.setting(options.AUTOEXPORTS):
            self.last_autoexport = self.run_autoexports()

    def data_version(self) -> int:
        return self.store.data_version()

    def get_setting(self, name: str, default: Any = None) -> Any:
        return self.store.get_setting(name, default)

    def set_setting(self, name: str, value: Any) -> Changes:
        return self.store.set_setting(name, value)

    def setting(self, setting: LibrarySetting[T]) -> T:
        """A declared library-wide setting (db/options.py)."""
        return self.store.setting(setting)

    def change_setting(self, setting: LibrarySetting[T], value: T) -> Changes:
        return self.store.change_setting(setting, value)

    # -- finding papers (db/queries.py) -------------------------------------------------------

    def search_hint(self, text: str) -> str | None:
        return self.queries.search_hint(text)

    def count(self, query: Query | None = None) -> int:
        return self.queries.count(query)

    def paper_ids(
        self,
        query: Query | None = None,
        sort: str = "added",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[int]:
        return self.queries.paper_ids(query, sort, descending, limit, offset)

    def rows(self, ids: Sequence[int]) -> dict[int, Row]:
        return self.queries.rows(ids)

    def records(
        self, query: Query | None = None, sort: str = "added", descending: bool = False
    ) -> Iterator[dict[str, Any]]:
        return self.queries.records(query, sort, descending)

    def rebuild_index(self) -> None:
        self.index.rebuild()

    # -- citation keys (db/citekeys.py) -------------------------------------------------------

    @property
    def key_pattern(self) -> str:
        return self.keys.key_pattern

    def set_key_pattern(self, pattern: str) -> Changes:
        return self.keys.set_key_pattern(pattern)

    def id_for_key(self, key: str) -> int | None:
        return self.keys.id_for_key(key)

    def require_key(self, key: str) -> int:
        return self.keys.require_key(key)

    def generate_key(self, fields: list[tuple[str, str]], pattern: str | None = None) -> str:
        return self.keys.generate_key(fields, pattern)

    def set_key(self, paper_id: int, new_key: str, keep_alias: bool = True) -> Changes:
        return self.keys.set_key(paper_id, new_key, keep_alias)

    def plan_keys(
        self, ids: Iterable[int] | None = None, pattern: str | None = None
    ) -> dict[int, tuple[str, str]]:
        """Which keys :meth:`regenerate_keys` would change (a read: nothing is written)."""
        return self.keys.plan_keys(ids, pattern)

    def regenerate_keys(
        self, ids: Iterable[int] | None = None, pattern: str | None = None
    ) -> Changes:
        return self.keys.regenerate_keys(ids, pattern)

    # -- papers and their fields (db/papers.py) -----------------------------------------------

    def paper(self, paper_id: int) -> Paper:
        return self.papers.paper(paper_id)

    def paper_by_key(self, key: str) -> Paper:
        return self.papers.paper(self.keys.require_key(key))

    def entry_source(self, paper_id: int) -> str | None:
        return self.papers.entry_source(paper_id)

    def macros(self) -> dict[str, str]:
        """The library's @string macros, evaluated (lower-case name -> text)."""
        return self.string_macros.current()

    def next_pos(self) -> int:
        return self.papers.next_pos()

    def add_paper(
        self,
        fields: Sequence[tuple[str, str]] | dict[str, str],
        entry_type: str = "article",
        key: str | None = None,
    ) -> Changes:
        """Add a paper; the new paper's id is the change's ``new_paper``."""
        return self.papers.add_paper(fields, entry_type, key)

    def update_fields(self, paper_id: int, changes: dict[str, str | None]) -> Changes:
        return self.papers.update_fields(paper_id, changes)

    def set_fields_raw(
        self, paper_id: int, fields: list[tuple[str, str]], source: str | None = None
    ) -> Changes:
        return self.papers.set_fields_raw(paper_id, fields, source)

    def set_entry_type(self, paper_id: int, entry_type: str) -> Changes:
        return self.papers.set_entry_type(paper_id, entry_type)

    def set_entry_types(self, ids: Iterable[int], entry_type: str) -> Changes:
        return self.papers.set_entry_types(ids, entry_type)

    def replace_entry(self, paper_id: int, text: str) -> Changes:
        """Make a paper what one BibTeX entry's ``text`` says (type, key, fields), or
        raise a ``LibraryError`` saying what is wrong and where, changing nothing."""
        return self.papers.replace_entry(paper_id, text)

    def form_rows(self, entry_type: str, field_names: Sequence[str]) -> list[FormRow]:
        """The rows a field form shows for an entry: its type's required fields, then its
        optional ones, then the other fields it has (see db/entrytypes.py)."""
        return entrytypes.form_rows(entry_type, field_names)

    def field_names(self) -> list[str]:
        """Field names a person may want to add (those the form knows by name)."""
        return sorted(entrytypes.LABELS)

    def field_label(self, name: str) -> str:
        return entrytypes.label(name.lower())

    def valid_field_name(self, name: str) -> bool:
        """Whether a field may be called ``name`` (lower case; see update_fields)."""
        return entrytypes.valid_field_name(name)

    def delete_papers(self, ids: Iterable[int]) -> Changes:
        return self.papers.delete_papers(ids)

    def delete_import(self, report: ImportReport) -> Changes:
        return self.papers.delete_import(report)

    # -- personal data (db/personal.py) -------------------------------------------------------

    def paper_tags(self, paper_id: int) -> list[str]:
        return self.personal.paper_tags(paper_id)

    def notes(self, paper_id: int) -> list[Note]:
        return self.personal.notes(paper_id)

    def note(self, note_id: int) -> Note | None:
        return self.personal.note(note_id)

    def tags(self) -> list[TagInfo]:
        """All tags with their colours and paper counts."""
        return self.personal.tags()

    def paper_tag_colors(self, paper_id: int) -> list[tuple[str, str | None]]:
        return self.personal.paper_tag_colors(paper_id)

    def tag_color(self, name: str) -> str | None:
        return self.personal.tag_color(name)

    def status_counts(self) -> dict[str, int]:
        return self.personal.status_counts()

    def add_tags(self, ids: Iterable[int], names: Iterable[str]) -> Changes:
        return self.personal.add_tags(ids, names)

    def remove_tags(self, ids: Iterable[int], names: Iterable[str]) -> Changes:
        return self.personal.remove_tags(ids, names)

    def set_tags(self, paper_id: int, names: Iterable[str]) -> Changes:
        return self.personal.set_tags(paper_id, names)

    def rename_tag(self, old: str, new: str) -> Changes:
        return self.personal.rename_tag(old, new)

    def merge_tags(self, sources: Iterable[str], target: str) -> Changes:
        return self.personal.merge_tags(sources, target)

    def delete_tag(self, name: str) -> Changes:
        return self.personal.delete_tag(name)

    def set_tag_color(self, name: str, color: str | None) -> Changes:
        return self.personal.set_tag_color(name, color)

    def set_status(self, ids: Iterable[int], status: str) -> Changes:
        return self.personal.set_status(ids, status)

    def set_rating(self, ids: Iterable[int], rating: int) -> Changes:
        return self.personal.set_rating(ids, rating)

    def add_note(self, paper_id: int, body: str = "") -> Changes:
        """Add a note; the new note's id is the change's ``new_note``."""
        return self.personal.add_note(paper_id, body)

    def update_note(self, note_id: int, body: str) -> Changes:
        return self.personal.update_note(note_id, body)

    def delete_note(self, note_id: int) -> Changes:
        return self.personal.delete_note(note_id)

    # -- duplicates (db/duplicates.py) --------------------------------------------------------

    def find_duplicates(self) -> list[list[int]]:
        return self.duplicates.find_duplicates()

    def merge_papers(self, keep: int, others: Iterable[int]) -> Changes:
        return self.duplicates.merge_papers(keep, others)

    # -- a group library on PostgreSQL (db/group.py) ------------------------------------------

    def group_server(self) -> str | None:
        """The group's server as its connection string (no password), or None: in no group."""
        return self.group.conninfo

    def group_init(self, conninfo: str, *, share_files: bool = False) -> SyncReport:
        """Make a group on a PostgreSQL server from this library (schema, every paper;
        with ``share_files``, the stored files' contents go through the server too)."""
        return self.group.init(conninfo, share_files=share_files)

    def group_join(self, conninfo: str) -> SyncReport:
        """Fill this new, empty library from a group's server and stay in step with it."""
        return self.group.join(conninfo)

    def group_sync(self, *, push: bool = True, conninfo: str | None = None) -> SyncReport:
        """Pull the group's changes (merging them with this library's) and push this
        library's; see :class:`db.group.SyncReport`."""
        return self.group.sync(push=push, conninfo=conninfo)

    def group_share_files(self, on: bool) -> int:
        """Let the stored files' contents go through the group's server, or stop them (the
        files' metadata is shared either way). Turning it on sends this library's stored
        files the server lacks; returns how many. Needs a writer's rights."""
        return self.group.share_files(on)

    def group_seen(self) -> int:
        """The group's last version this library has pulled (one settings read)."""
        return self.group.seen()

    def group_status(self, *, ask_server: bool = True) -> GroupStatus:
        return self.group.status(ask_server=ask_server)

    def group_conflicts(self) -> list[Conflict]:
        """Parts of papers changed here and in the group, waiting for the member's choice."""
        return self.group.conflicts()

    def resolve_conflict(self, conflict_id: int, keep: str) -> Changes:
        """Keep "mine" or "theirs" for one conflict (undoable)."""
        return self.group.resolve([conflict_id], keep)

    def resolve_conflicts(self, conflict_ids: Iterable[int], keep: str) -> Changes:
        """Keep "mine" or "theirs" for several conflicts in one write (one undo)."""
        return self.group.resolve(conflict_ids, keep)

    def set_note_shared(self, note_id: int, shared: bool) -> Changes:
        """Share a note with the group, or make it personal again (undoable)."""
        return self.group.set_note_shared(note_id, shared)

    # -- BibTeX in (db/bibin.py, db/importer.py) ----------------------------------------------

    def import_seed(self) -> ImportReport:
        return self.imports.import_seed()

    def import_text(self, text: str, name: str = "<pasted text>") -> ImportReport:
        return self.imports.import_text(text, name)

    def import_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        strict: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportReport:
        return self.imports.import_files(
            paths, strict=strict, progress=progress, cancelled=cancelled
        )

    def import_parsed(
        self,
        files: Sequence[bibitems.ParsedFile],
        *,
        strict: bool = False,
        extra_failures: Sequence[bibitems.Failure] = (),
        cancelled: Callable[[], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        return self.imports.import_parsed(
            files,
            strict=strict,
            extra_failures=extra_failures,
            cancelled=cancelled,
            progress=progress,
        )

    def import_other_text(self, text: str, name: str = "<pasted text>") -> ImportReport:
        """Import a BibTeX, RIS or CSL-JSON text, told by its content."""
        return self.imports.import_other_text(text, name)

    # -- papers by their identifiers (db/lookup.py, db/sources.py, db/arrivals.py) ---------

    def lookup(self, *, timeout: float | None = None) -> Lookup:
        """A lookup session with this library's contact address and response cache. It may
        run on any thread; hand its ``fresh_answers`` to :meth:`save_lookup_cache` after."""
        from .lookup import CacheReader, Lookup

        return Lookup(
            contact=self.setting(options.LOOKUP_CONTACT),
            cache=CacheReader(self.path),
            timeout=timeout,
        )

    def save_lookup_cache(self, answers: Sequence[CachedAnswer]) -> None:
        self.arrivals.save_cache(answers)

    def preview_found(
        self, founds: Sequence[Found], taken: set[str] | None = None
    ) -> list[Preview]:
        """Looked-up records as they would be added: key, BibTeX, probable duplicates.
        ``taken`` carries the keys promised so far when a long list goes in parts."""
        return self.arrivals.preview(founds, taken)

    def same_papers(self, found: Found) -> list[SamePaper]:
        return self.arrivals.same_papers(found)

    def add_found(self, founds: Sequence[Found], name: str = "lookup") -> ImportReport:
        """Add looked-up records (previewed: each keeps the key its preview showed) as one
        import: one transaction, one undo, the import's report."""
        if not founds:
            return ImportReport()
        entries = [f.entry for f in founds]
        return self.import_parsed([csljson.parsed_file(name, entries)])

    def search_for(self, paper_id: int) -> SearchFor:
        """What a paper is looked up by: identifiers, else title, first author and year."""
        return self.arrivals.search_for(self.paper(paper_id))

    def refresh_diff(self, paper_id: int, found: Found) -> list[FieldDiff]:
        """The fields a newer record would add or change (never the key)."""
        return self.arrivals.diff(self.paper(paper_id), found)

    def apply_refresh(self, paper_id: int, accepted: Sequence[FieldDiff]) -> Changes:
        """Write the accepted differences of a refresh: one write, one undo."""
        return self.arrivals.apply(paper_id, accepted)

    # -- other tools' formats out (db/csljson.py, db/ris.py) ---------------------------------

    #: The formats :meth:`export_other` writes.
    OTHER_FORMATS = ("csl-json", "ris")

    def csl_items(
        self, query: Query | None = None, ids: Sequence[int] | None = None
    ) -> list[csljson.Item]:
        """The papers a query (or ``ids``) selects as CSL items, in the library's order."""
        if ids is None:
            ids = self.queries.paper_ids(query, sort="added")
        macros = self.string_macros.current()
        items: list[csljson.Item] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = {
                pid: (key, entry_type, fields_json)
                for pid, key, entry_type, fields_json in self.conn.execute(
                    "SELECT id, key, entry_type, fields FROM papers "
                    "WHERE id IN (SELECT value FROM json_each(?))",
                    [json.dumps(chunk)],
                )
            }
            for pid in chunk:
                if pid in rows:
                    key, entry_type, fields_json = rows[pid]
                    fields = [(str(n), str(v)) for n, v in json.loads(fields_json)]
                    items.append(csljson.item_from_entry(key, entry_type, fields, macros))
        return items

    def export_other(
        self, fmt: str, query: Query | None = None, ids: Sequence[int] | None = None
    ) -> tuple[str, int]:
        """CSL-JSON or RIS text for the papers selected, and how many records it holds."""
        items = self.csl_items(query, ids)
        if fmt == "csl-json":
            return csljson.dumps(items), len(items)
        if fmt == "ris":
            return ris.dumps(items), len(items)
        raise ValueError(f"unknown export format {fmt!r}")

    # -- BibTeX out (db/bibout.py) ------------------------------------------------------------

    def entry_text(self, paper_id: int) -> str:
        return self.exports.entry_text(paper_id)

    def profile(self, name: str | None = None, dialect: str | None = None) -> ExportProfile:
        return self.exports.profile(name, dialect)

    def profile_names(self) -> list[str]:
        return self.exports.profile_names()

    def save_profile(self, profile: ExportProfile) -> Changes:
        return self.exports.save_profile(profile)

    def remove_profile(self, name: str) -> Changes:
        return self.exports.remove_profile(name)

    def export_text(
        self,
        query: Query | None = None,
        profile: ExportProfile | None = None,
        ids: Sequence[int] | None = None,
        extra_keys: dict[int, list[str]] | None = None,
        *,
        order: str = "library",
    ) -> tuple[str, int]:
        """The export as text and its number of entries; ``order="key"``: entries by
        citation key (the same bytes from every member of a group, whatever each library's
        layout)."""
        return self.exports.export_text(query, profile, ids, extra_keys, order=order)

    def export_format(self, keep_encoding: bool = False) -> tuple[str, str]:
        return self.exports.export_format(keep_encoding)

    def encode_export(self, text: str, keep_encoding: bool = False) -> bytes:
        return self.exports.encode_export(text, keep_encoding)

    def export(
        self,
        dest: str | os.PathLike[str],
        query: Query | None = None,
        profile: ExportProfile | None = None,
        *,
        keep_encoding: bool = False,
    ) -> int:
        return self.exports.export(dest, query, profile, keep_encoding=keep_encoding)

    def aux_selection(
        self, aux_path: str | os.PathLike[str], profile: ExportProfile | None = None
    ) -> tuple[list[int] | None, list[str], dict[int, list[str]]]:
        return self.exports.aux_selection(aux_path, profile)

    def export_aux(
        self,
        aux_path: str | os.PathLike[str],
        dest: str | os.PathLike[str],
        profile: ExportProfile | None = None,
    ) -> tuple[int, list[str]]:
        return self.exports.export_aux(aux_path, dest, profile)

    # -- auto-export (db/autoexport.py) -------------------------------------------------------

    def autoexports(self) -> list[dict[str, Any]]:
        return self.autoexport.autoexports()

    def add_autoexport(
        self,
        path: str | os.PathLike[str],
        *,
        tag: str | None = None,
        aux: str | os.PathLike[str] | None = None,
        profile: str | None = None,
        saved: str | None = None,
    ) -> Changes:
        """Keep ``path`` written after every change (the new entry is ``autoexports()[-1]``);
        ``saved``: the papers of that saved search, as it is at each run."""
        return self.autoexport.add_autoexport(path, tag=tag, aux=aux, profile=profile, saved=saved)

    def remove_autoexport(self, path: str | os.PathLike[str]) -> Changes:
        return self.autoexport.remove_autoexport(path)

    def autoexport_data(self, spec: dict[str, Any]) -> bytes:
        return self.autoexport.autoexport_data(spec)

    def run_autoexports(self) -> list[tuple[str, str]]:
        # write_export is looked up here at each run: tests/desktop/test_autoexport.py
        # holds a run at its write by patching db.library.write_export.
        return self.autoexport.run_autoexports(write_export)

    # -- citations and formatted references (db/cite.py, db/csl.py) -----------------------

    def cite(
        self,
        ids: Sequence[int],
        fmt: str = "latex",
        *,
        command: str = "",
        brackets: bool = False,
        style: str = "apa",
        locale: str = "en-US",
        output: str = "text",
    ) -> str:
        """The papers cited in one of Better BibTeX's cite-as-you-write formats
        (:data:`db.cite.FORMATS`); CiteFormatError saying why for a bad format or style."""
        rows = self.rows(ids)
        keys = [rows[i].key for i in ids if i in rows]
        items = self.csl_items(ids=ids) if fmt in cite_mod.NEEDS_ITEMS else None

        def translate(wanted: Sequence[str]) -> str:
            return "\n".join(self.entry_text(self.require_key(k)).rstrip("\n") for k in wanted)

        return cite_mod.cite(
            keys,
            fmt,
            command=command,
            brackets=brackets,
            items=items,
            style=style,
            locale=locale,
            output=output,
            translate=translate,
        )

    def bibliography(
        self,
        ids: Sequence[int],
        style: str | os.PathLike[str] = "apa",
        locale: str = "en-US",
        output: str = "text",
    ) -> list[str]:
        """The papers' formatted references, in the style's order (one string each)."""
        return csl.bibliography(self.csl_items(ids=ids), style, locale, output)

    # -- saved searches and the reading queue (db/saved.py) ---------------------------------

    def saved_searches(self) -> list[SavedSearch]:
        """Every saved search, by name; ``count(s.query)`` is how many papers each finds."""
        return SavedSearches(self.store).all()

    def saved_query(self, name: str) -> Query:
        """The query saved as ``name`` (any case); LibraryError naming it when unknown."""
        return SavedSearches(self.store).query_of(name)

    def save_search(self, name: str, query: Query) -> Changes:
        """Save the search text, tag and status of ``query`` as ``name`` (a new name)."""
        return SavedSearches(self.store).save(name, query)

    def update_saved_search(self, name: str, query: Query) -> Changes:
        return SavedSearches(self.store).update(name, query)

    def rename_saved_search(self, old: str, new: str) -> Changes:
        return SavedSearches(self.store).rename(old, new)

    def remove_saved_search(self, name: str) -> Changes:
        """Refused (LibraryError naming the file) while an auto-export follows it."""
        return SavedSearches(self.store).remove(name)

    def mark_opened(self, paper_id: int) -> Changes:
        """Note that the paper was opened now (the reading queue shows when). Not an undo
        step: the changes carry no undo and the undo history is left as it is."""
        return SavedSearches(self.store).mark_opened(paper_id)

    # -- attached files ---------------------------------------------------------------------

    @property
    def files_dir(self) -> Path:
        """The folder stored files are kept in."""
        return self.attachments.files_dir

    def attachments_of(self, paper_id: int) -> list[Attachment]:
        return self.attachments.of_paper(paper_id)

    def attachment(self, attachment_id: int) -> Attachment:
        return self.attachments.get(attachment_id)

    def all_attachments(self, paper_ids: Iterable[int] | None = None) -> list[Attachment]:
        return self.attachments.all(paper_ids)

    def main_file(self, paper_id: int) -> Attachment | None:
        return self.attachments.main_file(paper_id)

    def attach(
        self,
        paper_id: int,
        paths: Sequence[str | os.PathLike[str]],
        *,
        store: bool = True,
        role: str | None = None,
    ) -> Changes:
        return self.attachments.attach(paper_id, paths, store=store, role=role)

    def detach(self, attachment_ids: Iterable[int]) -> Changes:
        return self.attachments.detach(attachment_ids)

    def rename_attachment(self, attachment_id: int, name: str) -> Changes:
        return self.attachments.rename(attachment_id, name)

    def set_attachment_role(self, attachment_id: int, role: str) -> Changes:
        return self.attachments.set_role(attachment_id, role)

    def relink(self, folders: Sequence[str | os.PathLike[str]]) -> RelinkReport:
        return self.attachments.relink(folders)

    def restore_stored_files(self) -> int:
        return self.attachments.restore_stored()

    def move_files_folder(self, folder: str | os.PathLike[str]) -> Path:
        return self.attachments.move_folder(folder)

    def empty_file_trash(self) -> int:
        return self.attachments.empty_trash()

    def paper_for_file(self, path: str | os.PathLike[str], digest: str | None = None) -> int | None:
        """The paper that already has a file with this content (``digest``: its SHA-256,
        when the caller has read it already), if one does."""
        digest = digest or file_hash(Path(path))
        row = self.conn.execute(
            "SELECT paper_id FROM attachments WHERE hash = ? ORDER BY id LIMIT 1", [digest]
        ).fetchone()
        return None if row is None else int(row[0])

    def paper_from_pdf(
        self,
        path: str | os.PathLike[str],
        *,
        store: bool = True,
        read: tuple[str, list[tuple[str, str]]] | None = None,
    ) -> Changes:
        """A new paper from what a PDF says of itself (title, authors, year, DOI, arXiv id,
        ISBN), with the PDF attached: one write, one undo. ``new_paper`` is its id.

        ``read``: what :func:`read_pdf_paper` gave for the file, read beforehand off the
        GUI thread (reading takes tens of milliseconds; the write, a few).
        Raises LibraryError, saying why, for a file that is not a readable PDF.
        """
        p = Path(path).expanduser().absolute()
        if not p.is_file():
            raise LibraryError(f"{p} does not exist")
        entry_type, fields = read if read is not None else paper_fields(p)
        with self.store.write() as w:
            added = self.papers.add_paper(fields, entry_type)
            attached = self.attachments.attach(added.new_paper, [p], store=store)
        changes = added.merge(attached)
        return w.result(changes)

    # -- full text --------------------------------------------------------------------------

    def index_fulltext(
        self,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        workers: int | None = None,
        rebuild: bool = False,
    ) -> FulltextReport:
        """Read the text of attached PDFs not read yet (see db/fulltext.py); call it from
        a thread of its own with a Library of its own when a window must stay responsive."""
        return self.fulltext.index(progress, cancel, workers, rebuild)

    def fulltext_status(self) -> FulltextStatus:
        return self.fulltext.status()

    def fulltext_pending(self) -> bool:
        return self.fulltext.pending()

    def fulltext_hits(self, paper_id: int, search_text: str, limit: int = 5) -> list[FulltextHit]:
        return self.fulltext.hits(paper_id, search_text, limit)

    def has_fulltext(self) -> bool:
        return self.queries.has_fulltext()

    def import_annotations(self, attachment_id: int) -> Changes:
        """The highlights and comments of a PDF as a Markdown note of its paper, updated in
        place when run again; what the reader wrote in that note is kept."""
        from . import pdfread  # PDFium is loaded when a PDF is read (100 ms)

        a = self.attachments.get(attachment_id)
        if a.missing:
            raise LibraryError(f"{a.path} is missing")
        try:
            found = pdfread.annotations(a.path)
        except pdfread.PdfProblem as exc:
            raise LibraryError(f"{a.name} {exc}") from None
        fresh = pdfread.annotations_markdown(a.name, found)
        with self.store.write() as w:
            last = annotation_note(self.store, attachment_id)
            if not found and last is None:
                raise LibraryError(f"{a.name} has no highlights or comments to make a note of")
            w.capture("annotation_notes", "note_id", [last[0]] if last else [])
            if last is None:
                changes = self.personal.add_note(a.paper_id, fresh)
                self.conn.execute(
                    "INSERT INTO annotation_notes(note_id, attachment_id, generated) "
                    "VALUES (?, ?, ?)",
                    [changes.new_note, attachment_id, fresh],
                )
                w.created("annotation_notes", "note_id", [changes.new_note])
            else:
                note_id, generated, body = last
                merged = pdfread.merge_annotation_note(generated, body, fresh)
                if merged == body and generated == fresh:
                    return Changes()
                changes = self.personal.update_note(note_id, merged)
                changes.note_ids.add(note_id)
                self.conn.execute(
                    "UPDATE annotation_notes SET generated = ? WHERE note_id = ?", [fresh, note_id]
                )
        return w.result(changes)
