"""The one facade over a Citedesk library file.

Every write runs in one transaction and returns a :class:`Changes` value that says what
changed, so a window can refresh only what it shows and build undo commands from it.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sqlite3
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from . import backup as backup_mod
from . import bibtex, bibvalue, keys, schema
from . import export as export_mod
from .errors import (
    LibraryDamagedError,
    LibraryError,
    LibraryLockedError,
    LibraryTooNewError,
    UnknownPaperError,
)
from .export import ExportProfile
from .identifiers import is_doi
from .latex import ascii_fold, escape_user_text
from .names import Person, short_authors
from .search import SEARCH_TABLES, WORD_CONDITION, parse_query

STATUSES = ("unread", "reading", "read")
BUSY_TIMEOUT_MS = 10_000
#: Page size of new libraries. A paper's row is about 5 KB (its BibTeX twice, as written
#: and as fields, and its abstract): on 4 KB pages each row spills to an overflow page,
#: on 16 KB pages three fit. Importing 100,000 papers took 3 s less (25.1 s, not 28.1,
#: counting the checkpoint). Libraries made before keep the size they have.
PAGE_SIZE = 16384

#: Table columns the window may sort by, and the SQL that sorts them (each has an index).
SORT_COLUMNS = {
    "title": "p.title_sort",
    "authors": "p.first_author",
    "year": "p.year",
    "venue": "p.venue COLLATE NOCASE",
    "tags": "p.tags COLLATE NOCASE",
    "status": "p.status",
    "rating": "p.rating",
    "added": "p.added",
    "key": "p.key COLLATE NOCASE",
}


#: A paper's notes as one text, for its row in the search index.
_NOTES_OF_PAPER = ("coalesce((SELECT group_concat(body, ' ') FROM notes n "
                   "WHERE n.paper_id = p.id), '')")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


# -- values returned to callers -------------------------------------------------------------

@dataclass
class Changes:
    """What a write changed. Views refresh from this; empty means nothing happened."""

    papers: set[int] = field(default_factory=set)
    added: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)
    tags: bool = False
    notes: bool = False
    status: bool = False

    def __bool__(self) -> bool:
        return bool(self.papers or self.added or self.removed or self.tags or self.notes
                    or self.status)

    def merge(self, other: Changes) -> Changes:
        self.papers |= other.papers
        self.added |= other.added
        self.removed |= other.removed
        self.tags |= other.tags
        self.notes |= other.notes
        self.status |= other.status
        return self


@dataclass(frozen=True)
class Query:
    """Which papers a view or an export wants. Empty means all."""

    search: str = ""
    tag: str | None = None
    status: str | None = None
    keys: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()
    recent_days: int | None = None


@dataclass(frozen=True)
class Row:
    """What one line of the paper table shows."""

    id: int
    key: str
    title: str
    authors: str
    year: int | None
    venue: str
    tags: str
    status: str
    rating: int
    added: str


@dataclass(frozen=True)
class Note:
    id: int
    paper_id: int
    body: str
    created: str
    updated: str


@dataclass(frozen=True)
class TagInfo:
    name: str
    color: str | None
    count: int


@dataclass
class Paper:
    """One paper in full: its BibTeX fields as written, decoded values and personal data."""

    id: int
    key: str
    entry_type: str
    fields: list[tuple[str, str]]
    title: str
    authors: list[Person]
    editors: list[Person]
    year: int | None
    month: int | None
    date: str | None
    venue: str
    volume: str | None
    number: str | None
    pages: str | None
    doi: str | None
    url: str | None
    arxiv: str | None
    abstract: str
    keywords: str
    category: str | None
    tags: list[str]
    notes: list[Note]
    status: str
    status_changed: str | None
    rating: int
    added: str
    modified: str
    edited: bool
    aliases: list[str]

    def raw(self, name: str) -> str | None:
        """A field's raw BibTeX value (with delimiters), or None."""
        return bibtex.field_map(self.fields).get(name.lower())

    def text(self, name: str) -> str:
        """A field's LaTeX text without delimiters (what an editor shows), or ''."""
        raw = self.raw(name)
        return bibvalue.evaluate(raw) if raw is not None else ""

    @property
    def links(self) -> list[tuple[str, str]]:
        """(label, URL) pairs a reader can open: DOI, URL, arXiv, code."""
        out = []
        if self.doi:
            out.append(("DOI", "https://doi.org/" + self.doi))
        if self.url:
            out.append(("URL", self.url))
        if self.arxiv:
            out.append(("arXiv", "https://arxiv.org/abs/" + self.arxiv))
        code = self.text("code").strip()
        if code:
            out.append(("Code", code))
        return out


@dataclass
class ImportReport:
    """What an import did: every entry is in exactly one list."""

    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failures: list[bibtex.Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    #: The library's records of the files imported (their layout; see delete_import).
    file_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        parts = [f"{len(self.added)} added"]
        parts.append(f"{len(self.duplicates)} duplicate{'s' if len(self.duplicates) != 1 else ''}")
        parts.append(f"{len(self.failures)} failed")
        return ", ".join(parts)


@dataclass
class DeletedPapers:
    """Everything needed to bring deleted papers back exactly (for undo)."""

    papers: list[dict[str, Any]]
    persons: list[dict[str, Any]]
    paper_tags: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    aliases: list[dict[str, Any]]
    #: An import's files and their blocks (@string, @comment, the text between entries).
    files: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)


# -- the facade -----------------------------------------------------------------------------

class Library:
    """A Citedesk library: one SQLite file.

    Open with :meth:`open`; pass the object to whoever needs data (no globals).
    """

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path
        self.conn: sqlite3.Connection = db.conn
        self._macros_cache: dict[str, str] | None = None
        self._macros_version = 0  # data_version() when the macros were read
        # The whole library's ids in one sort order, with the state it was read in.
        self._order_cache: tuple[tuple[Any, ...], list[int], dict[int, int] | None] | None = None
        #: Rewrite auto-exports right after each write (the command line). The window
        #: leaves this off and runs them in the background instead, so edits stay fast.
        self.autoexport_after_write = False
        self.last_autoexport: list[tuple[str, str]] = []

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
            raise _damaged(p, "is empty (0 bytes)")
        if is_new:
            p.parent.mkdir(parents=True, exist_ok=True)
        else:
            problem = backup_mod.file_problem(p)
            if problem:
                raise _damaged(p, problem)
        conn = None
        try:
            conn = sqlite3.connect(str(p), isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = schema.schema_version(conn)
            if not is_new:
                # Before anything is written: a damaged or foreign file is left as it is.
                _check_readable(conn, p, version)
            if version > schema.SCHEMA_VERSION:
                conn.close()
                raise LibraryTooNewError(
                    f"{p} was written by a newer Citedesk (library version {version}; this "
                    f"Citedesk knows up to {schema.SCHEMA_VERSION}). Update Citedesk to open it; "
                    "the file was left untouched."
                )
            if is_new:
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before the first table
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            if 0 < version < schema.SCHEMA_VERSION:
                _backup_before_migration(conn, p, version)
            schema.migrate(conn)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if not isinstance(exc, sqlite3.DatabaseError):
                raise
            if "locked" in str(exc) or "busy" in str(exc):
                raise LibraryLockedError(f"{p} is busy in another program: {exc}") from None
            raise _damaged(p, f"cannot be read as a library ({exc})") from None
        lib = cls(sqlite_utils.Database(conn), p)
        if is_new and seed:
            lib.import_seed()
        return lib

    def close(self) -> None:
        try:
            self.conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass
        self.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction, taken at once so two processes queue instead of failing."""
        if self.conn.in_transaction:
            # Nested: sqlite-utils' atomic() makes a savepoint.
            with self.db.atomic():
                yield
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise LibraryLockedError(
                f"the library is busy in another Citedesk for over "
                f"{BUSY_TIMEOUT_MS // 1000} s: {exc}"
            ) from None
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._macros_cache = None
            raise
        self.conn.execute("COMMIT")
        if self.autoexport_after_write and self.get_setting("autoexports"):
            self.last_autoexport = self.run_autoexports()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all of them happen or none (undo commands use it)."""
        with self._write():
            yield

    def data_version(self) -> int:
        """Changes when another connection commits; a window polls it to notice them."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- settings -----------------------------------------------------------------------------

    def get_setting(self, name: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, name: str, value: Any) -> None:
        with self._write():
            self.conn.execute(
                "INSERT INTO settings(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                [name, json.dumps(value)],
            )

    @property
    def key_pattern(self) -> str:
        return str(self.get_setting("key_pattern", keys.DEFAULT_PATTERN))

    def set_key_pattern(self, pattern: str) -> None:
        keys.check_pattern(pattern)
        self.set_setting("key_pattern", pattern)

    # -- reading ------------------------------------------------------------------------------

    def _where(self, query: Query | None) -> tuple[str, list[Any], str | None]:
        if query is None:
            return "1", [], None
        where: list[str] = []
        params: list[Any] = []
        hint = None
        if query.search.strip():
            parsed = parse_query(query.search)
            where.append(parsed.where)
            params.extend(parsed.params)
            hint = parsed.hint
        if query.tag is not None:
            where.append(
                "p.id IN (SELECT pt.paper_id FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id"
                " WHERE t.name = ? COLLATE NOCASE)"
            )
            params.append(query.tag)
        if query.status is not None:
            where.append("p.status = ?")
            params.append(query.status)
        if query.keys:
            where.append("p.key COLLATE NOCASE IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(query.keys)))
        if query.ids:
            where.append("p.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(query.ids)))
        if query.recent_days is not None:
            where.append("p.added >= ?")
            since = datetime.now(UTC).timestamp() - query.recent_days * 86400
            params.append(datetime.fromtimestamp(since, UTC).isoformat())
        return (" AND ".join(where) or "1"), params, hint

    def search_hint(self, text: str) -> str | None:
        """A short hint when a typed query was only partly usable, else None."""
        return parse_query(text).hint

    def count(self, query: Query | None = None) -> int:
        where, params, _ = self._where(query)
        try:
            return int(self.conn.execute(f"SELECT count(*) FROM papers p WHERE {where}",
                                         params).fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    def paper_ids(self, query: Query | None = None, sort: str = "added",
                  descending: bool = False, limit: int | None = None,
                  offset: int = 0) -> list[int]:
        """Ids of matching papers in display order. Sorting happens in SQL, over an index.

        Without ``limit``, the order of the whole library is read from its index once and
        kept until the library changes; a query's matches (found by SQL and FTS5) are then
        put in that order here. At 100,000 papers that takes 5-30 ms, where an ORDER BY over
        a 100,000-row IN list takes 70-160 ms (a one-letter search matches nearly all).
        """
        where, params, _ = self._where(query)
        column = SORT_COLUMNS.get(sort)
        if column is None:
            raise ValueError(f"cannot sort by {sort!r}; choose one of {', '.join(SORT_COLUMNS)}")
        direction = "DESC" if descending else "ASC"
        nulls = f"p.year IS NULL {direction}, " if sort == "year" else ""
        order = f"ORDER BY {nulls}{column} {direction}, p.id {direction}"
        try:
            if limit is None:
                return self._ordered_ids(query, where, params, order)
            sql = f"SELECT p.id FROM papers p WHERE {where} {order} LIMIT ? OFFSET ?"
            return [r[0] for r in self.conn.execute(sql, [*params, limit, offset])]
        except sqlite3.OperationalError as exc:
            # Only FTS can reject a query built by search.py; report nothing found.
            if "fts5" in str(exc).lower() or "match" in str(exc).lower():
                return []
            raise

    def _ordered_ids(self, query: Query | None, where: str, params: list[Any],
                     order: str) -> list[int]:
        state = (order, self.conn.total_changes, self.data_version())
        if self._order_cache is None or self._order_cache[0] != state:
            # One row holding a JSON array: 100,000 ids cost 20 ms, not 40 as rows.
            (text,) = self.conn.execute(
                f"SELECT json_group_array(id) FROM (SELECT p.id FROM papers p {order})"
            ).fetchone()
            self._order_cache = (state, json.loads(text), None)
        _, full, positions = self._order_cache
        if where == "1":
            return list(full)
        parsed = None
        if query is not None and query == Query(search=query.search):
            parsed = parse_query(query.search)
        if parsed is not None and parsed.words_only:
            # Only words to find: the indexes' row ids are the paper ids.
            wanted = self._word_matches(parsed.words, parsed.exclude)
        else:
            # "+p.id": look the words up once, not the wide papers row of each hit (a year
            # or a status is then read from its index).
            plain = where.replace(WORD_CONDITION, "+" + WORD_CONDITION)
            sql = f"SELECT json_group_array(p.id) FROM papers p WHERE {plain}"
            wanted = set(json.loads(self.conn.execute(sql, params).fetchone()[0]))
        if len(wanted) * 8 < len(full):
            if positions is None:
                positions = {pid: i for i, pid in enumerate(full)}
                self._order_cache = (state, full, positions)
            at = positions.get
            return sorted((m for m in wanted if at(m) is not None), key=positions.__getitem__)
        return [pid for pid in full if pid in wanted]

    def _word_matches(self, words: list[tuple[str | None, str | None]],
                      exclude: tuple[str | None, str | None] | None) -> set[int]:
        """Ids of the papers that match every word (in either index) and no excluded one."""

        def found(pair: tuple[str | None, str | None]) -> set[int]:
            ids: set[int] = set()
            for table, expr in zip(SEARCH_TABLES, pair, strict=True):
                if expr is not None:
                    (text,) = self.conn.execute(
                        f"SELECT json_group_array(rowid) FROM {table} WHERE {table} MATCH ?",
                        [expr]).fetchone()
                    ids.update(json.loads(text))
            return ids

        wanted = found(words[0])
        for pair in words[1:]:
            if not wanted:
                break
            wanted &= found(pair)
        if exclude is not None and wanted:
            wanted -= found(exclude)
        return wanted

    def rows(self, ids: Sequence[int]) -> dict[int, Row]:
        """Table rows for these ids (the window asks only for what it shows)."""
        if not ids:
            return {}
        cur = self.conn.execute(
            "SELECT id, key, title, authors, year, venue, tags, status, rating, added "
            "FROM papers WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(ids))],
        )
        return {r[0]: Row(*r) for r in cur}

    def id_for_key(self, key: str) -> int | None:
        row = self.conn.execute("SELECT id FROM papers WHERE key = ? COLLATE NOCASE",
                                [key]).fetchone()
        if row:
            return int(row[0])
        row = self.conn.execute("SELECT paper_id FROM key_aliases WHERE alias = ?",
                                [key]).fetchone()
        return int(row[0]) if row else None

    def require_key(self, key: str) -> int:
        pid = self.id_for_key(key)
        if pid is None:
            raise UnknownPaperError(f"no paper with citation key {key!r}")
        return pid

    def paper(self, paper_id: int) -> Paper:
        cur = self.conn.execute("SELECT * FROM papers WHERE id = ?", [paper_id])
        row = cur.fetchone()
        if row is None:
            raise UnknownPaperError(f"no paper with id {paper_id}")
        r = dict(zip((d[0] for d in cur.description), row, strict=True))
        people: dict[str, list[Person]] = {"author": [], "editor": []}
        for role, family, given, prefix, suffix in self.conn.execute(
            "SELECT role, family, given, prefix, suffix FROM persons WHERE paper_id = ? "
            "ORDER BY role, position", [paper_id]
        ):
            people[role].append(Person(family, given, prefix, suffix))
        return Paper(
            id=r["id"], key=r["key"], entry_type=r["entry_type"],
            fields=[tuple(x) for x in json.loads(r["fields"])],  # type: ignore[misc]
            title=r["title"], authors=people["author"], editors=people["editor"],
            year=r["year"], month=r["month"], date=r["date"], venue=r["venue"],
            volume=r["volume"], number=r["number"], pages=r["pages"], doi=r["doi"],
            url=r["url"], arxiv=r["arxiv"], abstract=r["abstract"], keywords=r["keywords"],
            category=r["category"], tags=self.paper_tags(paper_id), notes=self.notes(paper_id),
            status=r["status"], status_changed=r["status_changed"], rating=r["rating"],
            added=r["added"], modified=r["modified"], edited=r["source"] is None,
            aliases=[a for (a,) in self.conn.execute(
                "SELECT alias FROM key_aliases WHERE paper_id = ? ORDER BY rowid", [paper_id])],
        )

    def paper_by_key(self, key: str) -> Paper:
        return self.paper(self.require_key(key))

    def paper_tags(self, paper_id: int) -> list[str]:
        return [n for (n,) in self.conn.execute(
            "SELECT t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
            "WHERE pt.paper_id = ? ORDER BY t.name COLLATE NOCASE", [paper_id])]

    def notes(self, paper_id: int) -> list[Note]:
        return [Note(*r) for r in self.conn.execute(
            "SELECT id, paper_id, body, created, updated FROM notes WHERE paper_id = ? "
            "ORDER BY id", [paper_id])]

    def note(self, note_id: int) -> Note | None:
        r = self.conn.execute("SELECT id, paper_id, body, created, updated FROM notes "
                              "WHERE id = ?", [note_id]).fetchone()
        return Note(*r) if r else None

    def tags(self) -> list[TagInfo]:
        """All tags with how many papers carry each, by name."""
        return [TagInfo(*r) for r in self.conn.execute(
            "SELECT t.name, t.color, count(pt.paper_id) FROM tags t "
            "LEFT JOIN paper_tags pt ON pt.tag_id = t.id GROUP BY t.id "
            "ORDER BY t.name COLLATE NOCASE")]

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status, n in self.conn.execute("SELECT status, count(*) FROM papers GROUP BY status"):
            counts[status] = n
        return counts

    def macros(self) -> dict[str, str]:
        """The library's @string macros, evaluated (lower-case name -> text)."""
        # Another connection (the window's import worker, another process) may have added
        # some since they were read; data_version() changes when it commits.
        version = self.data_version()
        if self._macros_cache is None or self._macros_version != version:
            out: dict[str, str] = {}
            # In file order: a macro defined again holds from its new definition on (as in
            # BibTeX), so the last definition is the one in force after everything.
            for name, value in self.conn.execute(
                "SELECT name, value FROM blocks WHERE kind = 'string' ORDER BY pos"
            ):
                out[name.lower()] = bibvalue.evaluate(value, out)
            self._macros_cache = out
            self._macros_version = version
        return self._macros_cache

    # -- personal data: tags, status, rating, notes ----------------------------------------------

    def _tag_id(self, name: str, create: bool) -> int | None:
        # No NUL: SQLite's NOCASE stops comparing there, so "a\0b" would equal "a\0c".
        name = " ".join(name.replace("\x00", "").split())
        row = self.conn.execute("SELECT id FROM tags WHERE name = ? COLLATE NOCASE",
                                [name]).fetchone()
        if row:
            return int(row[0])
        if not create:
            return None
        if not name:
            raise LibraryError("a tag needs a name")
        return int(self.conn.execute("INSERT INTO tags(name) VALUES (?)", [name]).lastrowid or 0)

    def _tag_papers(self, ids: Sequence[int], name: str, color: str | None = None) -> None:
        """Tag papers inside a write (an import's groups); a new tag takes ``color``."""
        tag_id = self._tag_id(name, create=True)
        if color and not self.tag_color(name):
            self.conn.execute("UPDATE tags SET color = ? WHERE id = ?", [color, tag_id])
        self.conn.execute("INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                          "SELECT value, ? FROM json_each(?)", [tag_id, json.dumps(list(ids))])
        self._refresh_tags_text(ids)

    def _refresh_tags_text(self, ids: Iterable[int]) -> None:
        self.conn.execute(
            "UPDATE papers SET tags = coalesce((SELECT group_concat(name, ', ') FROM ("
            " SELECT t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id"
            " WHERE pt.paper_id = papers.id ORDER BY t.name COLLATE NOCASE)), '') "
            "WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(sorted(set(ids)))])

    def add_tags(self, ids: Iterable[int], names: Iterable[str]) -> Changes:
        ids, names = list(ids), [n for n in names if n.strip()]
        changed: set[int] = set()
        with self._write():
            for name in names:
                tag_id = self._tag_id(name, create=True)
                for pid in ids:
                    cur = self.conn.execute(
                        "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                        "SELECT id, ? FROM papers WHERE id = ?", [tag_id, pid])
                    if cur.rowcount:
                        changed.add(pid)
            self._after_personal_change(changed)
        return Changes(papers=changed, tags=True)

    def remove_tags(self, ids: Iterable[int], names: Iterable[str]) -> Changes:
        ids = list(ids)
        changed: set[int] = set()
        with self._write():
            for name in names:
                tag_id = self._tag_id(name, create=False)
                if tag_id is None:
                    continue
                for pid in ids:
                    cur = self.conn.execute(
                        "DELETE FROM paper_tags WHERE paper_id = ? AND tag_id = ?",
                        [pid, tag_id])
                    if cur.rowcount:
                        changed.add(pid)
            self._after_personal_change(changed)
        return Changes(papers=changed, tags=True)

    def set_tags(self, paper_id: int, names: Iterable[str]) -> Changes:
        """Make a paper's tags exactly ``names``."""
        wanted = {" ".join(n.split()).lower(): " ".join(n.split()) for n in names if n.strip()}
        current = {t.lower(): t for t in self.paper_tags(paper_id)}
        with self._write():
            changes = Changes(tags=True)
            gone = [current[k] for k in current if k not in wanted]
            new = [wanted[k] for k in wanted if k not in current]
            if gone:
                changes.merge(self.remove_tags([paper_id], gone))
            if new:
                changes.merge(self.add_tags([paper_id], new))
        return changes

    def _paper_ids_with_tag(self, tag_id: int) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT paper_id FROM paper_tags WHERE tag_id = ?", [tag_id])]

    def rename_tag(self, old: str, new: str) -> Changes:
        """Rename a tag; renaming onto an existing tag merges the two."""
        new = " ".join(new.split())
        if not new:
            raise LibraryError("a tag needs a name")
        with self._write():
            tag_id = self._tag_id(old, create=False)
            if tag_id is None:
                raise LibraryError(f"no tag named {old!r}")
            other = self._tag_id(new, create=False)
            if other is not None and other != tag_id:
                return self.merge_tags([old], new)
            ids = self._paper_ids_with_tag(tag_id)
            self.conn.execute("UPDATE tags SET name = ? WHERE id = ?", [new, tag_id])
            self._after_personal_change(ids)
        return Changes(papers=set(ids), tags=True)

    def merge_tags(self, sources: Iterable[str], target: str) -> Changes:
        """Put every paper of ``sources`` under ``target`` and remove the sources."""
        changed: set[int] = set()
        with self._write():
            target_id = self._tag_id(target, create=True)
            for name in sources:
                tag_id = self._tag_id(name, create=False)
                if tag_id is None or tag_id == target_id:
                    continue
                ids = self._paper_ids_with_tag(tag_id)
                self.conn.execute(
                    "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                    "SELECT paper_id, ? FROM paper_tags WHERE tag_id = ?", [target_id, tag_id])
                self.conn.execute("DELETE FROM tags WHERE id = ?", [tag_id])
                changed.update(ids)
            self._after_personal_change(changed)
        return Changes(papers=changed, tags=True)

    def delete_tag(self, name: str) -> Changes:
        with self._write():
            tag_id = self._tag_id(name, create=False)
            if tag_id is None:
                return Changes()
            ids = self._paper_ids_with_tag(tag_id)
            self.conn.execute("DELETE FROM tags WHERE id = ?", [tag_id])
            self._after_personal_change(ids)
        return Changes(papers=set(ids), tags=True)

    def set_tag_color(self, name: str, color: str | None) -> Changes:
        with self._write():
            tag_id = self._tag_id(name, create=False)
            if tag_id is None:
                raise LibraryError(f"no tag named {name!r}")
            self.conn.execute("UPDATE tags SET color = ? WHERE id = ?", [color, tag_id])
        return Changes(tags=True)

    def tag_color(self, name: str) -> str | None:
        row = self.conn.execute("SELECT color FROM tags WHERE name = ? COLLATE NOCASE",
                                [name]).fetchone()
        return row[0] if row else None

    def set_status(self, ids: Iterable[int], status: str) -> Changes:
        if status not in STATUSES:
            raise LibraryError(f"unknown reading status {status!r}; use {', '.join(STATUSES)}")
        ids = list(ids)
        stamp = now()
        with self._write():
            changed = set()
            for pid in ids:
                cur = self.conn.execute(
                    "UPDATE papers SET status = ?, status_changed = ?, modified = ? "
                    "WHERE id = ? AND status != ?", [status, stamp, stamp, pid, status])
                if cur.rowcount:
                    changed.add(pid)
        return Changes(papers=changed, status=bool(changed))

    def set_rating(self, ids: Iterable[int], rating: int) -> Changes:
        if not 0 <= int(rating) <= 5:
            raise LibraryError("a rating is from 0 to 5")
        ids = list(ids)
        stamp = now()
        with self._write():
            changed = set()
            for pid in ids:
                cur = self.conn.execute(
                    "UPDATE papers SET rating = ?, modified = ? WHERE id = ? AND rating != ?",
                    [int(rating), stamp, pid, int(rating)])
                if cur.rowcount:
                    changed.add(pid)
        return Changes(papers=changed)

    def add_note(self, paper_id: int, body: str = "") -> Note:
        stamp = now()
        with self._write():
            if not self.conn.execute("SELECT 1 FROM papers WHERE id = ?", [paper_id]).fetchone():
                raise UnknownPaperError(f"no paper with id {paper_id}")
            note_id = self.conn.execute(
                "INSERT INTO notes(paper_id, body, created, updated) VALUES (?, ?, ?, ?)",
                [paper_id, body, stamp, stamp]).lastrowid
            self._after_personal_change([paper_id])
        return Note(int(note_id or 0), paper_id, body, stamp, stamp)

    def update_note(self, note_id: int, body: str) -> Changes:
        with self._write():
            row = self.conn.execute("SELECT paper_id, body FROM notes WHERE id = ?",
                                    [note_id]).fetchone()
            if row is None:
                raise LibraryError(f"note {note_id} no longer exists")
            if row[1] == body:
                return Changes()
            self.conn.execute("UPDATE notes SET body = ?, updated = ? WHERE id = ?",
                              [body, now(), note_id])
            self._after_personal_change([row[0]], modified=False)
        return Changes(papers={row[0]}, notes=True)

    def delete_note(self, note_id: int) -> Note | None:
        """Delete a note; returns it so an undo can put it back with :meth:`restore_note`."""
        with self._write():
            note = self.note(note_id)
            if note is None:
                return None
            self.conn.execute("DELETE FROM notes WHERE id = ?", [note_id])
            self._after_personal_change([note.paper_id], modified=False)
        return note

    def restore_note(self, note: Note) -> None:
        with self._write():
            try:
                self.conn.execute(
                    "INSERT INTO notes(id, paper_id, body, created, updated) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [note.id, note.paper_id, note.body, note.created, note.updated])
            except sqlite3.IntegrityError:
                raise LibraryError(f"note {note.id} cannot be restored: its paper is gone "
                                   "or its id is in use") from None
            self._after_personal_change([note.paper_id], modified=False)

    def _after_personal_change(self, ids: Iterable[int], modified: bool = True) -> None:
        ids = sorted(set(ids))
        if not ids:
            return
        self._refresh_tags_text(ids)
        if modified:
            self.conn.execute("UPDATE papers SET modified = ? WHERE id IN "
                              "(SELECT value FROM json_each(?))", [now(), json.dumps(ids)])
        self._index(ids)

    # -- the full-text index ----------------------------------------------------------------------

    def _index(self, ids: Sequence[int]) -> None:
        """Bring the FTS rows of these papers in step with their data (same transaction)."""
        selection, arg = "IN (SELECT value FROM json_each(?))", [json.dumps(list(ids))]
        self._unindex(selection, arg)
        self._fill_index(selection, arg)

    def _fill_index(self, selection: str, params: Sequence[Any], notes: bool = True) -> None:
        """Add the papers whose ``p.id`` matches ``selection`` to both search indexes.

        The importer passes ``notes=False``: papers it has just added have none.
        """
        notes_text = _NOTES_OF_PAPER if notes else "''"
        self.conn.execute(
            "INSERT INTO papers_fts(rowid, title, authors, venue, keywords, tags, notes) "
            f"SELECT p.id, p.title, p.authors_full, p.venue, p.keywords, p.tags, {notes_text} "
            f"FROM papers p WHERE p.id {selection}", params)
        self.conn.execute(
            "INSERT INTO papers_abstract(rowid, abstract) SELECT p.id, p.abstract FROM papers p "
            f"WHERE p.id {selection} AND p.abstract != ''", params)

    def _unindex(self, selection: str, params: Sequence[Any]) -> None:
        """Take papers out of both search indexes; ``selection`` follows ``rowid``."""
        for table in SEARCH_TABLES:
            self.conn.execute(f"DELETE FROM {table} WHERE rowid {selection}", params)

    def rebuild_index(self) -> None:
        with self._write():
            for table in SEARCH_TABLES:
                self.conn.execute(f"DELETE FROM {table}")
            ids = [r[0] for r in self.conn.execute("SELECT id FROM papers")]
            self._index(ids)

    # -- bibliographic data -----------------------------------------------------------------------

    def _macros_at(self, paper_id: int) -> Mapping[str, str]:
        """The macros in force at a paper's place: a macro defined more than once has, for
        a paper of a file, the value its file gave it before the paper (as in BibTeX)."""
        macros = self.macros()
        if self.conn.execute(
            "SELECT 1 FROM blocks WHERE kind = 'string' GROUP BY name COLLATE NOCASE "
            "HAVING count(*) > 1 LIMIT 1"
        ).fetchone() is None:
            return macros  # no macro is defined twice: the usual library
        here: dict[str, str] = {}
        for name, value in self.conn.execute(
            "SELECT name, value FROM blocks WHERE kind = 'string' AND pos < "
            "(SELECT pos FROM papers WHERE id = ?) ORDER BY pos", [paper_id]
        ):
            here[name.lower()] = bibvalue.evaluate(value, here)
        return ChainMap(here, macros)

    def _lead_at_end(self) -> str:
        """What a paper made in Citedesk is written after in a whole export: a blank line
        after what the layout ends with (nothing in an empty library)."""
        row = self.conn.execute(
            "SELECT source FROM (SELECT pos, coalesce(source, '') AS source FROM papers "
            "UNION ALL SELECT pos, source FROM blocks) ORDER BY pos DESC LIMIT 1").fetchone()
        if row is None:
            return ""
        return "\n" if row[0].endswith("\n") else "\n\n"

    def next_pos(self) -> int:
        """The place after the last paper or block in the library's layout."""
        return int(self.conn.execute(
            "SELECT max(coalesce((SELECT max(pos) FROM papers), 0), "
            "coalesce((SELECT max(pos) FROM blocks), 0)) + 1").fetchone()[0])

    def _columns(self, fields: list[tuple[str, str]],
                 macros: Mapping[str, str] | None = None
                 ) -> tuple[dict[str, Any], bibtex.Derived]:
        f = bibtex.field_map(fields)
        parent = None
        if "crossref" in f:
            parent_key = bibvalue.evaluate(f["crossref"]).strip()
            row = self.conn.execute("SELECT fields FROM papers WHERE key = ? COLLATE NOCASE",
                                    [parent_key]).fetchone()
            if row:
                parent = bibtex.field_map(tuple(x) for x in json.loads(row[0]))
        d = bibtex.derive(fields, self.macros() if macros is None else macros, parent)
        return display_columns(d), d

    def _write_persons(self, paper_id: int, d: bibtex.Derived) -> None:
        self.conn.execute("DELETE FROM persons WHERE paper_id = ?", [paper_id])
        rows = [(paper_id, role, i, p.family, p.given, p.prefix, p.suffix)
                for role, people in (("author", d.authors), ("editor", d.editors))
                for i, p in enumerate(people)]
        self.conn.executemany("INSERT INTO persons VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def _key_taken(self, key: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM papers WHERE key = ? COLLATE NOCASE UNION ALL "
            "SELECT 1 FROM key_aliases WHERE alias = ?", [key, key]).fetchone() is not None

    def generate_key(self, fields: list[tuple[str, str]], pattern: str | None = None) -> str:
        """A new unique key for these fields by the library's key pattern."""
        d = bibtex.derive(fields, self.macros())
        base = keys.format_key(pattern or self.key_pattern, d.authors or d.editors,
                               str(d.year or ""), d.title)
        return keys.unique_key(base, self._key_taken)

    def _insert_paper(self, key: str, entry_type: str, fields: list[tuple[str, str]],
                      source: str | None, stamp: str, **extra: Any) -> int:
        cols, d = self._columns(fields)
        row = {"key": key, "entry_type": entry_type, "fields": json.dumps(fields),
               "source": source, "added": stamp, "modified": stamp, "pos": self.next_pos(),
               "lead": self._lead_at_end(), **cols, **extra}
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        pid = int(self.conn.execute(f"INSERT INTO papers({names}) VALUES ({marks})",
                                    list(row.values())).lastrowid or 0)
        self._write_persons(pid, d)
        return pid

    def add_paper(self, fields: Sequence[tuple[str, str]] | dict[str, str],
                  entry_type: str = "article", key: str | None = None) -> int:
        """Add a paper typed by a person: values are LaTeX text, made safe by :func:`field_raw`."""
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        raw = [(name.lower(), field_raw(name, value)) for name, value in items if value.strip()]
        stamp = now()
        with self._write():
            if key:
                if self._key_taken(key):
                    raise LibraryError(f"citation key {key!r} is already used")
            else:
                key = self.generate_key(raw)
            pid = self._insert_paper(key, entry_type.lower(), raw, None, stamp)
            self._index([pid])
        return pid

    def update_fields(self, paper_id: int, changes: dict[str, str | None]) -> Changes:
        """Set or remove fields (values are LaTeX text as shown in an editor).

        The entry's original text is dropped, so export writes it in the clean layout.
        """
        with self._write():
            p = self.paper(paper_id)
            fields = list(p.fields)
            lowered = {k.lower(): v for k, v in changes.items()}
            out: list[tuple[str, str]] = []
            seen = set()
            for name, raw in fields:
                lname = name.lower()
                if lname in lowered:
                    if lname in seen:
                        continue
                    seen.add(lname)
                    value = lowered[lname]
                    if value is None or not value.strip():
                        continue
                    out.append((name, field_raw(lname, value)))
                else:
                    out.append((name, raw))
            for lname, value in lowered.items():
                if lname not in seen and value is not None and value.strip():
                    out.append((lname, field_raw(lname, value)))
            if out == fields:
                return Changes()
            self._replace_fields(paper_id, out)
        return Changes(papers={paper_id})

    def set_fields_raw(self, paper_id: int, fields: list[tuple[str, str]],
                       source: str | None = None) -> Changes:
        """Put back exact raw fields (and original text): what undo of an edit needs."""
        with self._write():
            self._replace_fields(paper_id, fields, source)
        return Changes(papers={paper_id})

    def entry_source(self, paper_id: int) -> str | None:
        row = self.conn.execute("SELECT source FROM papers WHERE id = ?", [paper_id]).fetchone()
        return row[0] if row else None

    def _replace_fields(self, paper_id: int, fields: list[tuple[str, str]],
                        source: str | None = None) -> None:
        for name, raw in fields:
            if not bibvalue.is_well_formed(raw):
                raise LibraryError(f"field {name} has an unbalanced value: {raw[:60]}")
        cols, d = self._columns(fields, self._macros_at(paper_id))
        cols.update(fields=json.dumps(fields), source=source, modified=now())
        sets = ", ".join(f"{c} = ?" for c in cols)
        self.conn.execute(f"UPDATE papers SET {sets} WHERE id = ?", [*cols.values(), paper_id])
        self._write_persons(paper_id, d)
        self._index([paper_id])

    def set_entry_type(self, paper_id: int, entry_type: str) -> Changes:
        with self._write():
            self.conn.execute("UPDATE papers SET entry_type = ?, source = NULL, modified = ? "
                              "WHERE id = ?", [entry_type.lower(), now(), paper_id])
        return Changes(papers={paper_id})

    def set_key(self, paper_id: int, new_key: str, keep_alias: bool = True) -> Changes:
        """Change a citation key on request; the old key stays as an alias for old documents."""
        new_key = new_key.strip()
        if not new_key or any(c in new_key for c in ' ,{}"#%\'()=\\'):
            raise LibraryError(f"{new_key!r} cannot be a citation key")
        with self._write():
            old = self.paper(paper_id).key
            if old == new_key:
                return Changes()
            clash = self.id_for_key(new_key)
            if clash is not None and clash != paper_id:
                raise LibraryError(f"citation key {new_key!r} is already used")
            self.conn.execute("DELETE FROM key_aliases WHERE alias = ?", [new_key])
            if keep_alias and old.lower() != new_key.lower():
                self.conn.execute("INSERT OR REPLACE INTO key_aliases(alias, paper_id) "
                                  "VALUES (?, ?)", [old, paper_id])
            self.conn.execute("UPDATE papers SET key = ?, source = NULL, modified = ? "
                              "WHERE id = ?", [new_key, now(), paper_id])
        return Changes(papers={paper_id})

    def delete_papers(self, ids: Iterable[int]) -> DeletedPapers:
        """Delete papers with their tags, notes and aliases; the return value restores them."""
        arg = json.dumps(sorted(set(ids)))
        sel = "IN (SELECT value FROM json_each(?))"
        with self._write():
            snap = DeletedPapers(
                papers=list(self.db.query(f"SELECT * FROM papers WHERE id {sel}", [arg])),
                persons=list(self.db.query(f"SELECT * FROM persons WHERE paper_id {sel}", [arg])),
                paper_tags=list(self.db.query(
                    f"SELECT pt.paper_id, t.name, t.color FROM paper_tags pt JOIN tags t "
                    f"ON t.id = pt.tag_id WHERE pt.paper_id {sel}", [arg])),
                notes=list(self.db.query(f"SELECT * FROM notes WHERE paper_id {sel}", [arg])),
                aliases=list(self.db.query(f"SELECT * FROM key_aliases WHERE paper_id {sel}",
                                           [arg])),
            )
            self._unindex(sel, [arg])
            self.conn.execute(f"DELETE FROM papers WHERE id {sel}", [arg])
        return snap

    def delete_import(self, report: ImportReport) -> DeletedPapers:
        """Take back an import whole: its papers, and its files' @strings, @comments and
        text; the return value restores them (:meth:`restore_papers`)."""
        arg = json.dumps(sorted(report.file_ids))
        sel = "IN (SELECT value FROM json_each(?))"
        with self._write():
            snap = self.delete_papers(report.changes.added)
            snap.files = list(self.db.query(f"SELECT * FROM files WHERE id {sel}", [arg]))
            snap.blocks = list(self.db.query(f"SELECT * FROM blocks WHERE file_id {sel}",
                                             [arg]))
            self.conn.execute(f"DELETE FROM blocks WHERE file_id {sel}", [arg])
            self.conn.execute(f"DELETE FROM files WHERE id {sel}", [arg])
            self._macros_cache = None
        return snap

    def restore_papers(self, snap: DeletedPapers) -> Changes:
        """Bring deleted papers back exactly as they were (ids, keys, tags, notes)."""
        with self._write():
            if snap.blocks:
                self._macros_cache = None
            for table, rows in (("files", snap.files), ("blocks", snap.blocks),
                                ("papers", snap.papers), ("persons", snap.persons),
                                ("notes", snap.notes), ("key_aliases", snap.aliases)):
                for row in rows:
                    names = ", ".join(row)
                    marks = ", ".join("?" for _ in row)
                    self.conn.execute(f"INSERT INTO {table}({names}) VALUES ({marks})",
                                      list(row.values()))
            for row in snap.paper_tags:
                tag_id = self._tag_id(row["name"], create=True)
                if row["color"] and not self.tag_color(row["name"]):
                    self.conn.execute("UPDATE tags SET color = ? WHERE id = ?",
                                      [row["color"], tag_id])
                self.conn.execute("INSERT OR IGNORE INTO paper_tags VALUES (?, ?)",
                                  [row["paper_id"], tag_id])
            ids = [r["id"] for r in snap.papers]
            self._refresh_tags_text(ids)
            self._index(ids)
        return Changes(added=set(ids), tags=True)

    def records(self, query: Query | None = None, sort: str = "added",
                descending: bool = False) -> Iterator[dict[str, Any]]:
        """Plain records for scripts (``citedesk list --json``), streamed, not all in memory."""
        ids = self.paper_ids(query, sort=sort, descending=descending)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            arg = json.dumps(chunk)
            people: dict[int, list[str]] = {i: [] for i in chunk}
            for pid, family, given, prefix, suffix in self.conn.execute(
                "SELECT paper_id, family, given, prefix, suffix FROM persons WHERE role = "
                "'author' AND paper_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY paper_id, position", [arg]
            ):
                people[pid].append(Person(family, given, prefix, suffix).display)
            tags: dict[int, list[str]] = {i: [] for i in chunk}
            for pid, name in self.conn.execute(
                "SELECT pt.paper_id, t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
                "WHERE pt.paper_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY t.name COLLATE NOCASE", [arg]
            ):
                tags[pid].append(name)
            rows = {r[0]: r for r in self.conn.execute(
                "SELECT id, key, entry_type, title, year, venue, doi, url, arxiv, status, "
                "status_changed, rating, added, modified, "
                "(SELECT count(*) FROM notes n WHERE n.paper_id = papers.id) "
                "FROM papers WHERE id IN (SELECT value FROM json_each(?))", [arg])}
            for pid in chunk:
                r = rows[pid]
                yield {
                    "key": r[1], "type": r[2], "title": r[3], "authors": people[pid],
                    "year": r[4], "venue": r[5], "doi": r[6], "url": r[7], "arxiv": r[8],
                    "tags": tags[pid], "status": r[9], "status_changed": r[10],
                    "rating": r[11], "added": r[12], "modified": r[13], "notes": r[14],
                }

    # -- BibTeX in ------------------------------------------------------------------------------

    def import_seed(self) -> ImportReport:
        """Add the 25 seeded papers (used when a library is created)."""
        from importlib.resources import files

        text = files("seeds").joinpath("seed.bib").read_text(encoding="utf-8")
        return self.import_text(text, name="seed.bib")

    def import_text(self, text: str, name: str = "<pasted text>") -> ImportReport:
        return self.import_parsed([bibtex.parse_text(text, name)])

    def import_files(self, paths: Sequence[str | os.PathLike[str]], *, strict: bool = False,
                     progress: Callable[[int, int], None] | None = None,
                     cancelled: Callable[[], bool] | None = None) -> ImportReport:
        """Import .bib files in one transaction. Unreadable files are failures, not exceptions.

        Files are streamed in chunks and parsed on every core (see :mod:`db.importer`).
        ``progress(done_bytes, total_bytes)`` is called as chunks are added; ``cancelled`` is
        polled between entries, and when it returns True the import is rolled back. With
        ``strict`` nothing is added when anything failed.
        """
        from . import importer

        return importer.import_files(self, paths, strict=strict, progress=progress,
                                     cancelled=cancelled)

    def import_parsed(self, files: Sequence[bibtex.ParsedFile], *, strict: bool = False,
                      extra_failures: Sequence[bibtex.Failure] = (),
                      cancelled: Callable[[], bool] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> ImportReport:
        """Add parsed files in one transaction and report what became of every entry.

        With ``strict`` nothing is added when anything failed. ``cancelled`` is a callable
        polled between entries; when it returns True the import is rolled back.
        """
        from . import importer

        return importer.import_parsed(self, files, strict=strict, extra_failures=extra_failures,
                                      cancelled=cancelled, progress=progress)

    # -- BibTeX out -----------------------------------------------------------------------------

    def entry_text(self, paper_id: int) -> str:
        """Exactly the text export writes for this paper."""
        row = self.conn.execute("SELECT key, entry_type, fields, source FROM papers "
                                "WHERE id = ?", [paper_id]).fetchone()
        if row is None:
            raise UnknownPaperError(f"no paper with id {paper_id}")
        return self._entry_text(*row)

    def _entry_text(self, key: str, entry_type: str, fields_json: str,
                    source: str | None, profile: ExportProfile | None = None,
                    aliases: Sequence[str] = ()) -> str:
        if profile is not None:
            text = export_mod.render_entry(entry_type, key, fields_json, profile, aliases)
            if text is not None:
                return text
            # The profile changes nothing: the entry as it came (or as it is stored).
        if source is not None:
            return source  # (no JSON to decode: most of a large export is this line)
        fields = [tuple(x) for x in json.loads(fields_json)]
        return bibtex.format_entry(entry_type, key, fields)  # type: ignore[arg-type]

    def profile(self, name: str | None = None, dialect: str | None = None) -> ExportProfile:
        """A named export profile (saved in the library, or built in), or a dialect's default."""
        if name:
            stored = self.get_setting("export_profiles", {})
            if name in stored:
                return ExportProfile.from_json(stored[name])
            if name in export_mod.BUILTIN_PROFILES:
                return export_mod.BUILTIN_PROFILES[name]
            raise LibraryError(f"no export profile named {name!r}; profiles: "
                               f"{', '.join(self.profile_names())}")
        return export_mod.BUILTIN_PROFILES[dialect or "biblatex"]

    def profile_names(self) -> list[str]:
        return export_mod.profile_names(self.get_setting("export_profiles", {}))

    def save_profile(self, profile: ExportProfile) -> None:
        stored = dict(self.get_setting("export_profiles", {}))
        stored[profile.name] = profile.to_json()
        self.set_setting("export_profiles", stored)

    def remove_profile(self, name: str) -> None:
        stored = dict(self.get_setting("export_profiles", {}))
        if name not in stored:
            raise LibraryError(f"no saved export profile named {name!r}")
        del stored[name]
        self.set_setting("export_profiles", stored)

    def _aliases(self, ids: Sequence[int] | None) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        cur = self.conn.execute("SELECT paper_id, alias FROM key_aliases ORDER BY rowid")
        wanted = set(ids) if ids is not None else None
        for pid, alias in cur:
            if wanted is None or pid in wanted:
                out.setdefault(pid, []).append(alias)
        return out

    def _with_crossref_parents(self, ids: Sequence[int]) -> list[int]:
        """Add the entries that the given ones crossref (or xdata), transitively."""
        result = list(dict.fromkeys(ids))
        seen = set(result)
        frontier = list(result)
        while frontier:
            rows = self.conn.execute(
                "SELECT fields FROM papers WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(frontier)]).fetchall()
            frontier = []
            for (fields_json,) in rows:
                f = bibtex.field_map(tuple(x) for x in json.loads(fields_json))
                for name in ("crossref", "xdata"):
                    if name not in f:
                        continue
                    for parent_key in bibvalue.evaluate(f[name]).split(","):
                        pid = self.id_for_key(parent_key.strip())
                        if pid is not None and pid not in seen:
                            seen.add(pid)
                            result.append(pid)
                            frontier.append(pid)
        return result

    def export_text(self, query: Query | None = None, profile: ExportProfile | None = None,
                    ids: Sequence[int] | None = None,
                    extra_keys: dict[int, list[str]] | None = None) -> tuple[str, int]:
        """The .bib text for the papers a query (or ``ids``) selects, and how many entries.

        With no profile every untouched entry is its original text. ``extra_keys`` writes
        further copies of a paper under old keys (for BibTeX, which knows no ``ids``).
        Line ends are ``\\n``; :meth:`encode_export` gives the bytes a file gets.
        """
        count = [0]
        return "".join(self._export_parts(query, profile, ids, extra_keys, count)), count[0]

    @staticmethod
    def _is_whole(query: Query | None, ids: Sequence[int] | None) -> bool:
        return ids is None and (query is None or query == Query())

    def _export_parts(self, query: Query | None, profile: ExportProfile | None,
                      ids: Sequence[int] | None, extra_keys: dict[int, list[str]] | None,
                      count: list[int]) -> Iterator[str]:
        """The pieces of an export in order, streamed from SQL; joined they are
        :meth:`export_text`, and ``count[0]`` gets the number of entries.

        The library's layout decides the order: papers and blocks in the order of the files
        they came from (see ``pos`` in :mod:`db.schema`), so an @string redefined holds
        for the entries after it, as in the file. A whole-library export writes the files
        as they were: the text between entries, @comments and the end of each file in
        place. A selection writes its entries with the @string and @preamble blocks, one
        blank line apart. Autoexport builds the same bytes in SQL (:meth:`autoexport_data`).
        """
        whole = self._is_whole(query, ids)
        if ids is None and not whole:
            ids = self.paper_ids(query, sort="added")
        kinds = "" if whole else "AND kind IN ('string', 'preamble')"
        selected = "" if ids is None else "WHERE id IN (SELECT value FROM json_each(?))"
        cur = self.conn.execute(
            f"SELECT pos, 0, id, key, entry_type, fields, source, lead FROM papers {selected} "
            f"UNION ALL SELECT pos, 1, kind, name, value, NULL, source, lead FROM blocks "
            f"WHERE 1 {kinds} ORDER BY pos", [] if ids is None else [json.dumps(list(ids))])
        aliases = self._aliases(ids) if profile is not None and profile.dialect == "biblatex" \
            else {}
        parent_keys = self._crossref_targets() if profile is not None else set()
        parents: list[str] = []
        previous: str | None = None  # the text of the last piece (None: nothing yet)
        last_kind = ""

        def separator(lead: str | None) -> str:
            if whole and lead is not None:
                return lead
            return "" if previous is None else "\n\n"

        for _pos, is_block, a, b, c, fields_json, source, lead in cur:
            if is_block:
                kind, name, value = a, b, c
                text = source
                if profile is not None and kind == "string":
                    new_value = export_mod.transform_string(value, profile)
                    if new_value != value:
                        text = bibtex.format_string(name, new_value)
            else:
                kind, pid, key, entry_type = "entry", a, b, c
                texts = [self._entry_text(key, entry_type, fields_json, source, profile,
                                          aliases.get(pid, ()))]
                count[0] += 1
                for old in (extra_keys or {}).get(pid, []):
                    texts.append(self._entry_text(old, entry_type, fields_json, None, profile))
                text = "\n\n".join(texts)
                # BibTeX wants an entry's crossref parent after it: parents go last.
                if key.lower() in parent_keys:
                    parents.append(text)
                    continue
            yield separator(lead) + text
            previous, last_kind = text, kind
        for text in parents:
            yield separator(None) + text
            previous, last_kind = text, "entry"
        if previous is not None and not (whole and last_kind == "text"):
            yield "\n"  # a file's own end (a 'text' block) is written as it was

    def _crossref_targets(self) -> set[str]:
        """The lower-cased keys that papers crossref. The rows are read in one statement:
        row by row, a background export gave up Python's lock at each and waited for it
        while the window was busy (100 rows took 300 ms)."""
        (children,) = self.conn.execute(
            "SELECT json_group_array(json(fields)) FROM papers WHERE fields LIKE '%rossref%'"
        ).fetchone()
        out = set()
        for fields in json.loads(children):
            f = bibtex.field_map(tuple(x) for x in fields)
            if "crossref" in f:
                out.add(bibvalue.evaluate(f["crossref"]).strip().lower())
        return out

    def _file_formats(self) -> list[tuple[str, str]]:
        """(encoding, line end) of the imported files that still have text in the library."""
        return [(e, n) for e, n in self.conn.execute(
            "SELECT DISTINCT encoding, newline FROM files WHERE id IN "
            "(SELECT file_id FROM blocks WHERE file_id IS NOT NULL) ORDER BY encoding, newline")]

    def export_format(self, keep_encoding: bool = False) -> tuple[str, str]:
        """The encoding and line end an export is written in.

        Line ends are those of the imported files when they all use the same (else LF).
        The encoding is UTF-8, or with ``keep_encoding`` that of the imported files, which
        must then agree (a file read as UTF-8 with a few Windows-1252 lines stays UTF-8).
        """
        formats = self._file_formats()
        newlines = {n for _, n in formats}
        newline = newlines.pop() if len(newlines) == 1 else "\n"
        if not keep_encoding:
            return "utf-8", newline
        encodings = {_WRITE_ENCODING.get(e, "utf-8") for e, _ in formats}
        if len(encodings) > 1:
            raise LibraryError(
                "the library's files came in different encodings ("
                + ", ".join(sorted(encodings)) + "); export without keeping the encoding "
                "(UTF-8)")
        return (encodings.pop() if encodings else "utf-8"), newline

    def encode_export(self, text: str, keep_encoding: bool = False) -> bytes:
        """An export's text as the bytes of the file (see :meth:`export_format`)."""
        encoding, newline = self.export_format(keep_encoding)
        return _encode_piece(text, encoding, newline, first=True)

    def export(self, dest: str | os.PathLike[str], query: Query | None = None,
               profile: ExportProfile | None = None, *, keep_encoding: bool = False) -> int:
        """Write a .bib file atomically; returns the number of entries written.

        The text is streamed from SQL to the file a megabyte at a time, never held whole.
        """
        count = [0]
        encoding, newline = self.export_format(keep_encoding)
        try:
            with bibtex.atomic_writer(dest, "latin-1") as fh:
                out = fh.buffer
                buffer: list[str] = []
                size = 0
                first = True
                for part in self._export_parts(query, profile, None, None, count):
                    buffer.append(part)
                    size += len(part)
                    if size >= 1 << 20:
                        fh.flush()
                        out.write(_encode_piece("".join(buffer), encoding, newline, first))
                        buffer, size, first = [], 0, False
                fh.flush()
                out.write(_encode_piece("".join(buffer), encoding, newline, first))
        except OSError as exc:
            raise LibraryError(f"cannot write {dest}: {exc.strerror or exc}") from None
        return count[0]

    def aux_selection(self, aux_path: str | os.PathLike[str],
                      profile: ExportProfile | None = None
                      ) -> tuple[list[int] | None, list[str], dict[int, list[str]]]:
        """What a document's .aux cites: (ids or None for all, missing keys, alias copies)."""
        cited = export_mod.read_aux(aux_path)
        if cited.everything:
            return None, [], {}
        ids: list[int] = []
        missing: list[str] = []
        copies: dict[int, list[str]] = {}
        for key in cited.keys:
            pid = self.id_for_key(key)
            if pid is None:
                missing.append(key)
                continue
            ids.append(pid)
            current = self.conn.execute("SELECT key FROM papers WHERE id = ?",
                                        [pid]).fetchone()[0]
            if current.lower() != key.lower() and (profile is None or
                                                   profile.dialect == "bibtex"):
                copies.setdefault(pid, []).append(key)
        return self._with_crossref_parents(ids), missing, copies

    def export_aux(self, aux_path: str | os.PathLike[str], dest: str | os.PathLike[str],
                   profile: ExportProfile | None = None) -> tuple[int, list[str]]:
        """Write exactly the entries a document cites; returns (entries, keys not found)."""
        ids, missing, copies = self.aux_selection(aux_path, profile)
        text, n = self.export_text(None, profile, ids=ids, extra_keys=copies)
        write_export(dest, self.encode_export(text))
        return n, missing

    # -- auto-export ----------------------------------------------------------------------------

    def autoexports(self) -> list[dict[str, Any]]:
        """Files kept current after every change: {path, tag, aux, profile}."""
        return list(self.get_setting("autoexports", []))

    def add_autoexport(self, path: str | os.PathLike[str], *, tag: str | None = None,
                       aux: str | os.PathLike[str] | None = None,
                       profile: str | None = None) -> dict[str, Any]:
        if tag and aux:
            raise LibraryError("an auto-export follows a tag or an .aux file, not both")
        if profile:
            self.profile(profile)
        target = str(Path(path).expanduser().resolve())
        entry = {"path": target, "tag": tag,
                 "aux": str(Path(aux).expanduser().resolve()) if aux else None,
                 "profile": profile}
        current = [a for a in self.autoexports() if a["path"] != target]
        self.set_setting("autoexports", [*current, entry])
        return entry

    def remove_autoexport(self, path: str | os.PathLike[str]) -> None:
        target = str(Path(path).expanduser().resolve())
        current = self.autoexports()
        kept = [a for a in current if a["path"] != target and a["path"] != str(path)]
        if len(kept) == len(current):
            raise LibraryError(f"no auto-export writes {path}")
        self.set_setting("autoexports", kept)

    def autoexport_data(self, spec: dict[str, Any]) -> bytes:
        """An auto-export's content: the UTF-8 bytes that ``export_text`` gives for it.

        SQLite joins the pieces of the file (``group_concat`` over the stored entry texts)
        in one statement, and returns it already encoded (``CAST AS BLOB``). Python is
        called back only for the entries it has to write itself: edited ones, a profile's,
        copies under old keys. Read row by row, a background export gave up Python's lock
        once per entry and, while the window was busy, waited to get it back each time: at
        10,000 entries 0.45-1.0 s where 0.15 s would do; this way 0.05-0.13 s. The order and
        text are those of :meth:`_export_parts`; tests compare the two byte for byte.
        """
        profile = self.profile(spec["profile"]) if spec.get("profile") else None
        ids: Sequence[int] | None = None
        copies: dict[int, list[str]] = {}
        if spec.get("aux"):
            ids, _, copies = self.aux_selection(spec["aux"], profile)
        elif spec.get("tag"):
            ids = self.paper_ids(Query(tag=spec["tag"]), sort="added")
        aliases = self._aliases(ids) if profile is not None and profile.dialect == "biblatex" \
            else {}
        failures: list[BaseException] = []

        def entry(pid: int, key: str, entry_type: str, fields_json: str,
                  source: str | None) -> str:
            try:
                texts = [self._entry_text(key, entry_type, fields_json, source, profile,
                                          aliases.get(pid, ()))]
                texts += [self._entry_text(old, entry_type, fields_json, None, profile)
                          for old in copies.get(pid, ())]
                return "\n\n".join(texts)
            except BaseException as exc:  # sqlite3 would report only "raised exception"
                failures.append(exc)
                raise

        self.conn.create_function("citedesk_autoexport_entry", 5, entry)
        string_text = "source"
        if profile is not None:
            string_profile = profile

            def string(name: str, value: str, source: str) -> str:
                try:
                    new_value = export_mod.transform_string(value, string_profile)
                    return source if new_value == value \
                        else bibtex.format_string(name, new_value)
                except BaseException as exc:
                    failures.append(exc)
                    raise

            self.conn.create_function("citedesk_autoexport_string", 3, string)
            string_text = "citedesk_autoexport_string(name, value, source)"
        # Entries without a stored text (edited ones), or with copies, need Python; with a
        # profile, every entry does.
        entry_text = "citedesk_autoexport_entry(id, key, entry_type, fields, source)"
        if profile is None:
            entry_text = (f"CASE WHEN source IS NULL OR id IN (SELECT value FROM json_each("
                          f":copies)) THEN {entry_text} ELSE source END")
        block_text = "source"
        if profile is not None:
            block_text = (f"CASE WHEN kind = 'string' THEN {string_text} ELSE source END")
        whole = ids is None
        selected = "1" if whole else "id IN (SELECT value FROM json_each(:ids))"
        kinds = "1" if whole else "kind IN ('string', 'preamble')"
        # BibTeX wants an entry's crossref parent after it: with a profile, parents go last.
        parents = self._autoexport_parent_ids() if profile is not None else []
        params = {"copies": json.dumps(list(copies)), "ids": json.dumps(list(ids or ())),
                  "parents": json.dumps(parents), "whole": whole}
        in_parents = "id IN (SELECT value FROM json_each(:parents))"
        # The rules of _export_parts: the order of the layout, each piece after its lead
        # (in a whole export) or a blank line; parents last; no blank line before the first
        # piece, and a line end after the last unless it is the end of a file. Each section
        # is one statement over the place indexes, with no sort of the text itself.
        piece = "CASE WHEN :whole AND lead IS NOT NULL THEN lead ELSE char(10, 10) END"
        layout = (f"SELECT pos, lead, {entry_text} AS text, 'entry' AS kind FROM papers "
                  f"WHERE {selected} AND NOT {in_parents} UNION ALL "
                  f"SELECT pos, lead, {block_text}, kind FROM blocks WHERE {kinds}")
        sections = [
            f"SELECT CAST(group_concat({piece} || text, '') AS BLOB) FROM ({layout} "
            f"ORDER BY pos)",
            f"SELECT CAST(group_concat(char(10, 10) || text, '') AS BLOB) FROM ("
            f"SELECT pos, {entry_text} AS text FROM papers WHERE {selected} AND {in_parents} "
            f"ORDER BY pos)",
        ]
        try:
            main, late = (self.conn.execute(sql, params).fetchone()[0] for sql in sections)
        except sqlite3.OperationalError:
            if failures:
                raise failures[0] from None
            raise
        if main is None and late is None:  # None: nothing in that section
            return b""
        ends = (f"SELECT pos, lead, 'entry' AS kind FROM papers WHERE {selected} "
                f"AND NOT {in_parents} UNION ALL SELECT pos, lead, kind FROM blocks "
                f"WHERE {kinds}")
        first_lead, _ = self._layout_end(ends, params, "ASC")
        _, last_kind = self._layout_end(ends, params, "DESC")
        data = (main or b"") + (late or b"")
        if main is None or not (whole and first_lead is not None):
            data = data[2:]  # the first piece has no blank line before it
        if not (whole and last_kind == "text" and late is None):
            data += b"\n"
        _, newline = self.export_format()
        return data if newline == "\n" else data.replace(b"\n", newline.encode())

    def _layout_end(self, layout: str, params: dict[str, Any], direction: str
                    ) -> tuple[str | None, str | None]:
        """The lead and kind of the first (ASC) or last (DESC) item of an export's layout
        (``layout`` is fixed SQL made by :meth:`autoexport_data`)."""
        row = self.conn.execute(
            f"SELECT lead, kind FROM ({layout}) ORDER BY pos {direction} "
            "LIMIT 1", params).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def _autoexport_parent_ids(self) -> list[int]:
        """The ids of the papers that others crossref (see :meth:`_crossref_targets`)."""
        targets = self._crossref_targets()
        if not targets:
            return []
        (keyed,) = self.conn.execute(
            "SELECT json_group_array(json_array(id, key)) FROM papers").fetchone()
        return [pid for pid, key in json.loads(keyed) if key.lower() in targets]

    def run_autoexports(self) -> list[tuple[str, str]]:
        """Rewrite each auto-export whose content changed; leave the others untouched.

        Returns (path, 'written' | 'unchanged' | 'error: ...') for each.
        """
        results = []
        for spec in self.autoexports():
            path = Path(spec["path"])
            try:
                data = self.autoexport_data(spec)
                try:
                    # Sizes first: a changed export usually differs in length, and then
                    # the old file need not be read at all.
                    same = path.stat().st_size == len(data) and path.read_bytes() == data
                except OSError:
                    same = False
                if same:
                    results.append((str(path), "unchanged"))
                    continue
                write_export(path, data)
                results.append((str(path), "written"))
            except LibraryError as exc:
                results.append((str(path), f"error: {exc}"))
        return results

    # -- keys and duplicates ---------------------------------------------------------------------

    def regenerate_keys(self, ids: Iterable[int] | None = None,
                        pattern: str | None = None) -> dict[int, tuple[str, str]]:
        """Give papers new keys by the pattern, on request only; old keys stay as aliases.

        Papers are taken in date-added order, so the a, b, c suffixes do not depend on the
        order of the ids given. Returns {id: (old, new)} for the keys that changed.
        """
        pattern = pattern or self.key_pattern
        keys.check_pattern(pattern)
        wanted = None if ids is None else set(ids)
        changed: dict[int, tuple[str, str]] = {}
        with self._write():
            rows = self.conn.execute("SELECT id, key, fields FROM papers ORDER BY added, id")
            for pid, old, fields_json in rows.fetchall():
                if wanted is not None and pid not in wanted:
                    continue
                fields = [tuple(x) for x in json.loads(fields_json)]
                d = bibtex.derive(fields, self.macros())  # type: ignore[arg-type]
                base = keys.format_key(pattern, d.authors or d.editors, str(d.year or ""),
                                       d.title)
                suffix = old[len(base):] if old.startswith(base) else None
                if suffix == "" or (suffix and suffix.isalpha() and suffix.islower()
                                    and self.id_for_key(base) not in (None, pid)):
                    continue  # already this pattern's key, or its suffixed form: stable

                def taken(k: str, pid: int = pid) -> bool:
                    other = self.id_for_key(k)
                    return other is not None and other != pid

                new = keys.unique_key(base, taken)
                if new != old:
                    self.set_key(pid, new)
                    changed[pid] = (old, new)
        return changed

    def find_duplicates(self) -> list[list[int]]:
        """Groups of papers that are probably the same work: same DOI, arXiv id, or title,
        year and first author. Each group is in date-added order."""
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        def union(a: int, b: int) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

        def normal(text: str) -> str:
            return re.sub(r"[^a-z0-9]", "", ascii_fold(text).lower())

        buckets: dict[tuple[str, str], list[int]] = {}
        for pid, doi, arxiv, title, year, first in self.conn.execute(
            "SELECT id, doi, arxiv, title, year, first_author FROM papers ORDER BY added, id"
        ):
            if doi and is_doi(doi):
                buckets.setdefault(("doi", doi.lower().strip()), []).append(pid)
            if arxiv:
                buckets.setdefault(("arxiv", re.sub(r"v\d+$", "", arxiv.lower())),
                                   []).append(pid)
            t = normal(title)
            if len(t) >= 10:
                buckets.setdefault(("title", f"{t}|{year or ''}|{normal(first)}"),
                                   []).append(pid)
        for members in buckets.values():
            for other in members[1:]:
                union(members[0], other)
        groups: dict[int, list[int]] = {}
        for members in buckets.values():
            for pid in members:
                groups.setdefault(find(pid), [])
                if pid not in groups[find(pid)]:
                    groups[find(pid)].append(pid)
        order = {pid: i for i, pid in enumerate(
            r[0] for r in self.conn.execute("SELECT id FROM papers ORDER BY added, id"))}
        return sorted((sorted(g, key=order.__getitem__) for g in groups.values() if len(g) > 1),
                      key=lambda g: order[g[0]])

    def snapshot(self, ids: Iterable[int]) -> DeletedPapers:
        """Everything about these papers, to put them back later with :meth:`revert`."""
        with self._write():
            snap = self.delete_papers(ids)
            self.restore_papers(snap)
        return snap

    def revert(self, snap: DeletedPapers, current_ids: Iterable[int]) -> Changes:
        """Replace the given papers by a snapshot's (undo of a merge or bulk change)."""
        with self._write():
            self.delete_papers(current_ids)
            changes = self.restore_papers(snap)
        return changes

    def merge_papers(self, keep: int, others: Iterable[int]) -> Changes:
        """Merge duplicates into ``keep``: richer fields, all tags and notes, old keys as aliases.

        For a field both have, the longer value wins; fields only the others have are added.
        """
        others = [o for o in dict.fromkeys(others) if o != keep]
        if not others:
            return Changes()
        with self._write():
            target = self.paper(keep)
            fields = list(target.fields)
            index = {name.lower(): i for i, (name, _) in enumerate(fields)}
            reading_rank = {s: i for i, s in enumerate(STATUSES)}
            status, rating = target.status, target.rating
            for oid in others:
                other = self.paper(oid)
                for name, raw in other.fields:
                    lname = name.lower()
                    if lname not in index:
                        index[lname] = len(fields)
                        fields.append((name, raw))
                    elif len(bibvalue.evaluate(raw)) > len(
                            bibvalue.evaluate(fields[index[lname]][1])):
                        fields[index[lname]] = (fields[index[lname]][0], raw)
                self.conn.execute("UPDATE notes SET paper_id = ? WHERE paper_id = ?",
                                  [keep, oid])
                self.conn.execute(
                    "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                    "SELECT ?, tag_id FROM paper_tags WHERE paper_id = ?", [keep, oid])
                aliases = [other.key, *other.aliases]
                self._unindex("= ?", [oid])
                self.conn.execute("DELETE FROM papers WHERE id = ?", [oid])
                for alias in aliases:
                    if alias.lower() != target.key.lower():
                        self.conn.execute("INSERT OR REPLACE INTO key_aliases(alias, paper_id) "
                                          "VALUES (?, ?)", [alias, keep])
                if reading_rank[other.status] > reading_rank[status]:
                    status = other.status
                rating = max(rating, other.rating)
            if fields != target.fields:
                self._replace_fields(keep, fields)
            self.conn.execute("UPDATE papers SET status = ?, rating = ? WHERE id = ?",
                              [status, rating, keep])
            self._after_personal_change([keep])
        return Changes(papers={keep}, removed=set(others), tags=True, notes=True)


class ImportCancelled(Exception):
    """Raised inside an import's transaction to roll it back."""


#: How a file's encoding, as the importer records it, is written back.
_WRITE_ENCODING = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp1252": "cp1252",
                   "utf-8+cp1252": "utf-8", "utf-8-sig+cp1252": "utf-8-sig",
                   "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be",
                   "utf-16-le+bom": "utf-16-le+bom", "utf-16-be+bom": "utf-16-be+bom",
                   "utf-16": "utf-16-le+bom"}


def _c1_bytes(exc: UnicodeError) -> tuple[bytes, int]:
    """Write U+0080-U+009F as the byte of the same number: the five bytes Windows-1252
    leaves undefined are read as those characters (see db.bibtex), and go back as they came."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    chunk = exc.object[exc.start:exc.end]
    if all(0x80 <= ord(c) <= 0x9F for c in chunk):
        return chunk.encode("latin-1"), exc.end
    raise exc


codecs.register_error("citedesk-c1", _c1_bytes)


def _encode_piece(text: str, encoding: str, newline: str, first: bool) -> bytes:
    """A piece of an export as bytes: line ends and encoding applied, a BOM before the first."""
    if newline != "\n":
        text = text.replace("\n", newline)
    bom = ""
    if encoding.endswith("+bom"):
        encoding = encoding[:-4]
        bom = "\ufeff" if first else ""
    elif encoding == "utf-8-sig":
        encoding = "utf-8"
        bom = "\ufeff" if first else ""
    try:
        return (bom + text).encode(encoding, "citedesk-c1" if encoding == "cp1252" else "strict")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        around = exc.object[max(0, exc.start - 30):exc.end + 10].replace("\n", " ")
        raise LibraryError(
            f"{bad!r} cannot be written in {encoding} (near “{around}”); export in UTF-8, "
            "without keeping the file's encoding") from None


def write_export(dest: str | os.PathLike[str], text: str | bytes) -> None:
    try:
        bibtex.atomic_write(dest, text)
    except OSError as exc:
        raise LibraryError(f"cannot write {dest}: {exc.strerror or exc}") from None


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def field_raw(name: str, text: str) -> str:
    """The raw value for LaTeX text typed into a field editor.

    Verbatim fields (URL, DOI) are kept as typed; elsewhere a bare ``&``, ``%`` or ``#``
    outside math is escaped, since a person typing it means the character. Braces are
    balanced so the value can never end the field or the entry early.
    """
    # Control characters mean nothing in a .bib file (a NUL would even end it for some
    # readers); line ends become plain newlines, as the reader makes them on import.
    text = _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = " ".join(text.split()) if name.lower() not in ("abstract", "note") else text.strip()
    if name.lower() in bibtex.VERBATIM_FIELDS:
        return bibvalue.brace(text.replace("{", "").replace("}", ""))
    out = []
    in_math = False
    prev = ""
    for c in text:
        if c == "$" and prev != "\\":
            in_math = not in_math
        if not in_math and c in "&%#" and prev != "\\":
            out.append(escape_user_text(c))
        else:
            out.append(c)
        prev = c
    return bibvalue.brace("".join(out))


def display_columns(d: bibtex.Derived) -> dict[str, Any]:
    """The papers columns shown, sorted and searched, from an entry's derived values.

    A module function, not a method, so that import workers compute the same values.
    """
    # The authors named (not "others"), else the editors; "et al." when the authors (the
    # editors, if there are no authors) include "others". Counted, not searched twice.
    authors, editors = d.authors, d.editors
    named = [p for p in authors if not p.is_others]
    if authors:
        others = len(named) < len(authors)
        if not named:
            named = [p for p in editors if not p.is_others]
    else:
        named = [p for p in editors if not p.is_others]
        others = len(named) < len(editors)
    return {
        "title": d.title,
        "title_sort": ascii_fold(d.title).lower().lstrip("\"'({[ "),
        "authors": short_authors([p.display_family for p in named[:3]], others),
        "authors_full": "; ".join([p.display for p in (authors or editors)]),
        "first_author": ascii_fold(named[0].display_family).lower() if named else "",
        "year": d.year, "month": d.month, "date": d.date, "venue": d.venue,
        "volume": d.volume, "number": d.number, "pages": d.pages, "doi": d.doi,
        "url": d.url, "arxiv": d.arxiv, "abstract": d.abstract, "keywords": d.keywords,
        "category": d.category,
    }


def _damaged(path: Path, problem: str) -> LibraryDamagedError:
    """The error for a damaged library file, naming the newest backup when there is one."""
    newest = backup_mod.newest_backup(path)
    if newest is not None:
        advice = (f" The newest backup is {newest}; restore it with: "
                  f"citedesk --library {path} restore {newest}")
    else:
        advice = " No backup of it was found."
    return LibraryDamagedError(f"{path} {problem}; it was left untouched.{advice}",
                               path=path, backup=newest)


def _check_readable(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Refuse a file SQLite can open but that is not a sound Citedesk library.

    The schema is read always (cheap); ``PRAGMA quick_check`` runs for files up to
    backup.QUICK_CHECK_MAX_BYTES (about 20 ms there; 1 s at 900 MB, too slow for a start).
    """
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_schema")}
    if version == 0 and tables:
        raise LibraryDamagedError(
            f"{path} is an SQLite database of another program, not a Citedesk library; it was "
            "left untouched", path=path)
    if 0 < version <= schema.SCHEMA_VERSION and "papers" not in tables:
        raise _damaged(path, "has lost its papers table")
    if path.stat().st_size <= backup_mod.QUICK_CHECK_MAX_BYTES:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            # One line, whatever SQLite says: its report can run to a line per bad cell.
            found = [ln.strip() for ln in result.splitlines()
                     if ln.strip() and not ln.startswith("***")] or [result.strip()]
            more = f", and {len(found) - 1} more problems" if len(found) > 1 else ""
            raise _damaged(path, f"is damaged (SQLite's check says: {found[0]}{more})")


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _backup_before_migration(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the library aside (SQLite online backup) before changing its schema."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = backup_mod.unique_path(path.with_name(f"{path.name}.v{version}-{stamp}.bak"))
    backup_mod.write_copy(conn, dest)  # whole or absent, and checked
    return dest
