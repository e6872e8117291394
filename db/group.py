"""A group library: this SQLite library kept in step with a PostgreSQL server.

Each member's local library stays the working copy (instant search, offline work); a sync
moves changes both ways. The server holds, in its schema ``citedesk``:

- ``entries``: every shared paper by its ``uid``, with its citation key and its data (entry
  type, raw fields in order, the full BibTeX text as imported, group tags) as
  JSON text, a ``deleted`` flag (a tombstone, so members offline for months still hear of
  a deletion) and the ``version`` that last wrote it;
- ``notes``: the notes members chose to share, the same way;
- ``blocks``: the @string and @preamble blocks, one document (entries use the macros);
- ``counter``: one library-wide version. A push takes the next version under the counter
  row's lock, held until it commits, so versions become visible in the order they were
  given and a member that has seen version *v* has seen everything up to *v*. Times from
  clocks decide nothing.

A sync pulls what changed since the version the library last saw and merges it into the
local rows, three-way against ``sync_base`` (the state both sides last agreed on): parts
changed on one side are taken, the same part changed on both sides keeps the local value
and records a conflict with both values (the server keeps its own until the member
chooses). Then it pushes the rows its triggers (made when the library joins) marked in
``sync_dirty``, each with the version it was based on; a row the server changed meanwhile
makes the push roll back, and the sync pulls and tries again. Every step on either side is one
transaction, so a client or server killed halfway leaves no partial state and the next
sync finishes the work.

Attached files travel as metadata with their paper (``files``: hash, size, type, role,
description, and the file's name, never a path: paths are per machine), merged as a set by
hash. A member who lacks a file's content gets a stored row for it all the same, its file
missing until the content turns up: from another of its rows, from the trash, or, in a group
that turned it on (meta ``share_files``), from the server's ``files`` table, which every
push fills with the stored files of the papers it sends.

Reading status, rating and unshared notes stay personal.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from . import keys as keys_mod
from .errors import LibraryError
from .values import Changes, now

if TYPE_CHECKING:
    import psycopg

    from .attachments import Attachments
    from .bibin import Imports
    from .citekeys import CiteKeys
    from .papers import Papers
    from .personal import Personal
    from .store import Store

#: The server's schema and the format of what it stores there.
SCHEMA = "citedesk"
FORMAT = 1
#: NOTIFY channel: every push announces its version here.
CHANNEL = "citedesk_changes"
#: Library settings: the server (libpq connection string, never with a password), the
#: group's id and the last server version this library has pulled.
URL_SETTING = "group_url"
GROUP_ID_SETTING = "group_id"
SEEN_SETTING = "group_seen"
#: The server's meta row that says whether stored files' contents go through the server.
SHARE_FILES = "share_files"
#: How often a sync pulls and pushes again when others pushed in between.
ATTEMPTS = 8

SERVER_SCHEMA = f"""
CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.meta (name text PRIMARY KEY, value text NOT NULL);
CREATE TABLE {SCHEMA}.counter (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO {SCHEMA}.counter DEFAULT VALUES;
CREATE TABLE {SCHEMA}.entries (
    uid text PRIMARY KEY,
    key text NOT NULL,
    data text NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    version bigint NOT NULL,
    member text NOT NULL DEFAULT current_user
);
-- Keys are unique among live entries, checked at commit: one push may swap two keys.
ALTER TABLE {SCHEMA}.entries ADD CONSTRAINT entries_key
    EXCLUDE USING btree (lower(key) WITH =) WHERE (NOT deleted)
    DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX entries_version ON {SCHEMA}.entries (version);
CREATE TABLE {SCHEMA}.notes (
    uid text PRIMARY KEY,
    entry text NOT NULL,
    data text NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    version bigint NOT NULL,
    member text NOT NULL DEFAULT current_user
);
CREATE INDEX notes_version ON {SCHEMA}.notes (version);
CREATE TABLE {SCHEMA}.blocks (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    data text NOT NULL DEFAULT '[]',
    version bigint NOT NULL DEFAULT 0
);
INSERT INTO {SCHEMA}.blocks DEFAULT VALUES;
"""
#: Stored files' contents by hash, for a group that shares them (meta ``share_files``).
FILES_TABLE = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.files (
    hash text PRIMARY KEY,
    data bytea NOT NULL,
    size bigint
);
"""
#: The local triggers that count every change to what is shared in ``sync_dirty`` (made
#: when the library joins a group: a library in no group runs none of them).
TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS sync_paper_in AFTER INSERT ON papers WHEN new.uid IS NOT NULL
BEGIN
    INSERT INTO sync_dirty(uid) VALUES (new.uid) ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_paper_out AFTER DELETE ON papers WHEN old.uid IS NOT NULL
BEGIN
    INSERT INTO sync_dirty(uid) VALUES (old.uid) ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_paper_edit
    AFTER UPDATE OF key, entry_type, fields, source, tags, uid ON papers
    WHEN new.uid IS NOT NULL AND (new.key IS NOT old.key
        OR new.entry_type IS NOT old.entry_type OR new.fields IS NOT old.fields
        OR new.source IS NOT old.source OR new.tags IS NOT old.tags
        OR new.uid IS NOT old.uid)
BEGIN
    INSERT INTO sync_dirty(uid) VALUES (new.uid) ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
-- The @string and @preamble blocks travel as one document ('@blocks'): entries use
-- the macros, and an export without them would not compile.
CREATE TRIGGER IF NOT EXISTS sync_blocks_in AFTER INSERT ON blocks
    WHEN new.kind IN ('string', 'preamble')
BEGIN
    INSERT INTO sync_dirty(uid) VALUES ('@blocks') ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_blocks_out AFTER DELETE ON blocks
    WHEN old.kind IN ('string', 'preamble')
BEGIN
    INSERT INTO sync_dirty(uid) VALUES ('@blocks') ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_blocks_edit AFTER UPDATE OF kind, name, value, source ON blocks
    WHEN old.kind IN ('string', 'preamble') OR new.kind IN ('string', 'preamble')
BEGIN
    INSERT INTO sync_dirty(uid) VALUES ('@blocks') ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_note_in AFTER INSERT ON notes WHEN new.uid IS NOT NULL
BEGIN
    INSERT INTO sync_dirty(uid) VALUES (new.uid) ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_note_out AFTER DELETE ON notes WHEN old.uid IS NOT NULL
BEGIN
    INSERT INTO sync_dirty(uid) VALUES (old.uid) ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_note_edit AFTER UPDATE OF body, shared, uid, paper_id ON notes
    WHEN (new.uid IS NOT NULL OR old.uid IS NOT NULL) AND (new.body IS NOT old.body
        OR new.shared IS NOT old.shared OR new.uid IS NOT old.uid
        OR new.paper_id IS NOT old.paper_id)
BEGIN
    INSERT INTO sync_dirty(uid) SELECT coalesce(new.uid, old.uid)
        ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
-- Attached files (those with a hash: the others cannot be told apart) travel with their
-- paper; a file's path is this machine's, so a rename is no change to the group.
CREATE TRIGGER IF NOT EXISTS sync_file_in AFTER INSERT ON attachments
    WHEN new.hash IS NOT NULL
BEGIN
    INSERT INTO sync_dirty(uid) SELECT uid FROM papers WHERE id = new.paper_id
        AND uid IS NOT NULL ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_file_out AFTER DELETE ON attachments
    WHEN old.hash IS NOT NULL
BEGIN
    INSERT INTO sync_dirty(uid) SELECT uid FROM papers WHERE id = old.paper_id
        AND uid IS NOT NULL ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS sync_file_edit
    AFTER UPDATE OF role, description, hash, stored, paper_id ON attachments
    WHEN new.role IS NOT old.role OR new.description IS NOT old.description
        OR new.hash IS NOT old.hash OR new.stored IS NOT old.stored
        OR new.paper_id IS NOT old.paper_id
BEGIN
    INSERT INTO sync_dirty(uid) SELECT uid FROM papers WHERE id IN (old.paper_id, new.paper_id)
        AND uid IS NOT NULL ON CONFLICT(uid) DO UPDATE SET n = n + 1;
END;
"""

#: The uid under which the library's @string and @preamble blocks travel, as one document.
BLOCKS = "@blocks"


#: A conflict's three values: (base, mine, theirs).
Triple = tuple[Any, Any, Any]


def _value(row: Any) -> Any:
    """The first column of a row a query always returns."""
    assert row is not None
    return row[0]


class GroupError(LibraryError):
    """A group operation failed; the message says what, and which server."""


class ReadOnlyMemberError(GroupError):
    """The server refused a push: this member may read the group but not write to it."""


class GroupUnreachableError(GroupError):
    """The server could not be reached (down, offline, refused the login)."""


# -- what is shared of a paper ------------------------------------------------------------------


@dataclass(frozen=True)
class SharedFile:
    """One attached file of a paper as the group shares it.

    Two are the same file when their hash, role and description are: the size and type
    follow from the content, and whether it is stored and under what name is how one
    member keeps it (a stored file's name follows that library's file pattern).
    """

    hash: str
    role: str = "main"
    description: str = ""
    size: int | None = field(default=None, compare=False)
    mime: str = field(default="", compare=False)
    stored: bool = field(default=True, compare=False)
    #: The file's name (never its path: that is per machine).
    name: str = field(default="", compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "size": self.size,
            "mime": self.mime,
            "role": self.role,
            "description": self.description,
            "stored": self.stored,
            "name": self.name,
        }

    @classmethod
    def load(cls, d: dict[str, Any]) -> SharedFile:
        return cls(
            str(d["hash"]),
            str(d.get("role") or "main"),
            str(d.get("description") or ""),
            d.get("size"),
            str(d.get("mime") or ""),
            bool(d.get("stored", True)),
            str(d.get("name") or ""),
        )


def _by_hash(files: Iterable[SharedFile]) -> tuple[SharedFile, ...]:
    return tuple(sorted(files, key=lambda f: f.hash))


@dataclass(frozen=True)
class Entry:
    """A paper as the group shares it."""

    key: str
    entry_type: str
    fields: tuple[tuple[str, str], ...]
    source: str | None
    tags: tuple[str, ...] = ()
    #: Its attached files, by hash (data written before files were shared has none).
    files: tuple[SharedFile, ...] = ()

    def data(self) -> str:
        d: dict[str, Any] = {
            "type": self.entry_type,
            "fields": [list(f) for f in self.fields],
            "source": self.source,
            "tags": list(self.tags),
        }
        if self.files:  # (left out when none: a paper's data stays what it was)
            d["files"] = [f.as_dict() for f in self.files]
        return json.dumps(d, ensure_ascii=False)

    @classmethod
    def load(cls, key: str, data: str) -> Entry:
        d = json.loads(data)
        return cls(
            key,
            d["type"],
            tuple(map(tuple, d["fields"])),
            d.get("source"),
            tuple(d.get("tags", ())),
            _by_hash(SharedFile.load(f) for f in d.get("files", ())),
        )

    def base_text(self) -> str:
        """How ``sync_base`` keeps it: the key, a newline, then the data (keys hold no
        white space; no JSON around the data, so a join of 100,000 papers can keep the
        server's own text without escaping it again)."""
        return f"{self.key}\n{self.data()}"

    @classmethod
    def from_base(cls, text: str) -> Entry:
        key, data = text.split("\n", 1)
        return cls.load(key, data)

    def parts(self) -> dict[str, Any]:
        """The parts a merge takes one by one: the key, the type and each field (all
        fields as one part when a name repeats)."""
        out: dict[str, Any] = {"@key": self.key, "@type": self.entry_type}
        names = [n.lower() for n, _ in self.fields]
        if len(set(names)) != len(names):
            out["@fields"] = [list(f) for f in self.fields]
        else:
            for name, raw in self.fields:
                out["field:" + name.lower()] = raw
        return out


def _tags_merge(base: Iterable[str], mine: Iterable[str], theirs: Iterable[str]) -> tuple[str, ...]:
    """Tags: what either side added, less what either side took away."""
    b = {x.lower(): x for x in base}
    m = {x.lower(): x for x in mine}
    t = {x.lower(): x for x in theirs}
    out = {k: v for k, v in b.items() if k in m and k in t}
    for side in (t, m):
        for k, v in side.items():
            if k not in b:
                out[k] = v
    return tuple(sorted(out.values(), key=str.lower))


def _files_merge(
    base: Iterable[SharedFile], mine: Iterable[SharedFile], theirs: Iterable[SharedFile]
) -> tuple[SharedFile, ...]:
    """Attached files, as a set by hash: what either side added, less what either side
    took away; a file both sides have takes their role and description unless only this
    side changed them (how this library keeps it, stored or linked, stays its own)."""
    b = {f.hash: f for f in base}
    m = {f.hash: f for f in mine}
    t = {f.hash: f for f in theirs}
    out: dict[str, SharedFile] = {}
    for h in dict.fromkeys([*t, *m]):
        mf, tf, bf = m.get(h), t.get(h), b.get(h)
        if bf is not None and (mf is None or tf is None):
            continue  # taken away on one side
        if mf is None:
            if tf is not None:
                out[h] = tf
            continue
        if tf is None:
            out[h] = mf
            continue
        chosen = mf if bf is not None and tf == bf else tf
        out[h] = replace(mf, role=chosen.role, description=chosen.description)
    return _by_hash(out.values())


@dataclass(frozen=True)
class Conflict:
    """One part of a paper changed differently here and in the group."""

    id: int
    uid: str
    paper_id: int | None
    key: str
    part: str
    base: Any
    mine: Any
    theirs: Any

    @property
    def label(self) -> str:
        """The part as people name it: "title", "citation key", "entry type"."""
        return part_label(self.part)

    @property
    def paper(self) -> str:
        """The paper as people name it: its key here."""
        return self.key or "(deleted here)"


def part_label(part: str) -> str:
    if part.startswith("field:"):
        return part[6:]
    return {"@key": "citation key", "@type": "entry type", "@fields": "fields"}.get(part, part)


def _agree(a: Entry, b: Entry) -> bool:
    """The same paper as the group shares it (the original text aside)."""
    return (a.key, a.entry_type, a.fields, a.tags, a.files) == (
        b.key,
        b.entry_type,
        b.fields,
        b.tags,
        b.files,
    )


def with_parts(entry: Entry, values: dict[str, Any]) -> Entry:
    """``entry`` with some parts set (None: a field taken away)."""
    if not values:
        return entry
    key = values.get("@key", entry.key)
    entry_type = values.get("@type", entry.entry_type)
    if "@fields" in values:
        fields = tuple((n, v) for n, v in values["@fields"])
    else:
        fields_d: dict[str, tuple[str, str]] = {n.lower(): (n, v) for n, v in entry.fields}
        order = [n.lower() for n, _ in entry.fields]
        for part, value in values.items():
            if not part.startswith("field:"):
                continue
            name = part[6:]
            if value is None:
                fields_d.pop(name, None)
            else:
                if name not in fields_d:
                    order.append(name)
                fields_d[name] = (fields_d.get(name, (name, ""))[0], value)
        fields = tuple(fields_d[n] for n in order if n in fields_d)
    same_text = (key, entry_type, fields) == (entry.key, entry.entry_type, entry.fields)
    return replace(
        entry,
        key=key,
        entry_type=entry_type,
        fields=fields,
        source=entry.source if same_text else None,
    )


def merge(base: Entry | None, mine: Entry, theirs: Entry) -> tuple[Entry, dict[str, Triple]]:
    """Three-way merge of one paper, part by part.

    Returns the merged entry (the local value where both sides changed a part) and the
    conflicts: part -> (base, mine, theirs) values. Tags and files merge as sets.
    """
    b = base.parts() if base is not None else {}
    m, t = mine.parts(), theirs.parts()
    if ("@fields" in m) != ("@fields" in t) or ("@fields" in b) != ("@fields" in m):
        # A repeated field name on one side: the fields merge as one part.
        def whole(e: Entry | None) -> dict[str, Any]:
            if e is None:
                return {}
            return {
                "@key": e.key,
                "@type": e.entry_type,
                "@fields": [list(f) for f in e.fields],
            }

        b, m, t = whole(base), whole(mine), whole(theirs)
    result: dict[str, Any] = {}
    conflicts: dict[str, Triple] = {}
    for part in dict.fromkeys([*t, *m, *b]):
        bv, mv, tv = b.get(part), m.get(part), t.get(part)
        if mv == tv or tv == bv:
            result[part] = mv
        elif mv == bv:
            result[part] = tv
        else:
            result[part] = mv
            conflicts[part] = (bv, mv, tv)
    # Field order: theirs, then fields only this side has, in this side's order.
    if "@fields" in result:
        fields = tuple((n, v) for n, v in result["@fields"])
    else:
        names = {n.lower(): n for n, _ in (*theirs.fields, *mine.fields)}
        order = list(dict.fromkeys(n.lower() for n, _ in (*theirs.fields, *mine.fields)))
        fields = tuple(
            (names[n], result["field:" + n]) for n in order if result.get("field:" + n) is not None
        )
    key, entry_type = result["@key"], result["@type"]
    source = None
    for side in (mine, theirs):
        if (side.key, side.entry_type, side.fields) == (key, entry_type, fields):
            source = side.source
            break
    tags = _tags_merge(base.tags if base else (), mine.tags, theirs.tags)
    files = _files_merge(base.files if base else (), mine.files, theirs.files)
    return Entry(key, entry_type, fields, source, tags, files), conflicts


# -- connection strings ---------------------------------------------------------------------------


def without_password(conninfo: str) -> str:
    """The connection string with any password taken out (it is never stored)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        d = conninfo_to_dict(conninfo)
    except Exception as exc:  # psycopg.ProgrammingError
        raise GroupError(f"not a PostgreSQL connection string or URL: {exc}") from None
    d.pop("password", None)
    return make_conninfo("", **{k: v for k, v in d.items() if v is not None})


def shown(conninfo: str) -> str:
    """The server as people read it: user@host:port/dbname, or the service's name."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        d = conninfo_to_dict(conninfo)
    except Exception:
        return "the group server"
    if d.get("service"):
        return f"service {d['service']}"
    host = d.get("host") or "localhost"
    user = f"{d['user']}@" if d.get("user") else ""
    port = f":{d['port']}" if d.get("port") else ""
    return f"{user}{host}{port}/{d.get('dbname') or ''}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def connect(conninfo: str, *, autocommit: bool = False, timeout: float = 10) -> psycopg.Connection:
    """A connection to the group's server (libpq reads ~/.pgpass, PGSERVICE, PG* env)."""
    import psycopg

    try:
        return psycopg.connect(
            conninfo,
            autocommit=autocommit,
            connect_timeout=max(1, int(timeout)),
            application_name="citedesk",
        )
    except psycopg.Error as exc:
        raise GroupUnreachableError(
            f"cannot reach the group server {shown(conninfo)}: {_first_line(exc)}"
        ) from None


def listen(conninfo: str, *, timeout: float = 5) -> psycopg.Connection:
    """A connection that hears every push to the group (its version as the payload of a
    notification on :data:`CHANNEL`); waiting on it sends the server nothing."""
    server = connect(conninfo, autocommit=True, timeout=timeout)
    server.execute(f"LISTEN {CHANNEL}")
    return server


# -- reports ------------------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What a sync did."""

    pulled: int = 0
    pushed: int = 0
    #: Papers where both sides' changes were merged.
    merged: int = 0
    #: Parts left for the member to choose (see ``Library.group_conflicts``).
    conflicts: int = 0
    #: The server's version this library has now seen.
    version: int = 0
    #: Changes the server refused (a read-only member); they stay here.
    kept_back: int = 0
    #: Things the member should hear about, one sentence each.
    messages: list[str] = field(default_factory=list)
    #: What the pull changed here (for open views).
    changes: Changes = field(default_factory=Changes)

    def summary(self) -> str:
        bits = [f"{self.pulled} in", f"{self.pushed} out"]
        if self.merged:
            bits.append(f"{self.merged} merged")
        if self.conflicts:
            bits.append(f"{self.conflicts} to choose")
        if self.kept_back:
            bits.append(f"{self.kept_back} kept here (read-only)")
        return f"synced to version {self.version}: " + ", ".join(bits)


@dataclass(frozen=True)
class GroupStatus:
    server: str
    group_id: str
    seen: int
    pending: int
    conflicts: int
    #: The server's version, and whether this member may write (None: not asked/unreachable).
    latest: int | None = None
    writable: bool | None = None
    #: Whether stored files' contents go through the server (None: not asked/unreachable).
    share_files: bool | None = None
    problem: str | None = None


# -- the client ---------------------------------------------------------------------------------


class _Stale(Exception):
    """Someone pushed a row we are pushing since we pulled it: pull again."""


@dataclass
class _Local:
    """A paper's shared state here, with what sync needs to know about it."""

    uid: str
    paper_id: int
    entry: Entry


def new_uid() -> str:
    return uuid.uuid4().hex


def _hashes_in(datas: Iterable[str]) -> set[str]:
    """The hashes of the files in these papers' data (as the server keeps it)."""
    out: set[str] = set()
    for data in datas:
        if '"files"' in data:
            out.update(str(f["hash"]) for f in json.loads(data).get("files", ()))
    return out


class Group:
    """The sync of one library with its group's server (the Library makes one; the
    window and the command line use the Library's ``group_*`` methods)."""

    def __init__(
        self,
        store: Store,
        papers: Papers,
        keys: CiteKeys,
        personal: Personal,
        imports: Imports,
        attachments: Attachments,
    ) -> None:
        self.store = store
        self.conn = store.conn
        self.papers = papers
        self.keys = keys
        self.personal = personal
        self.imports = imports
        self.attachments = attachments
        #: Old keys of renamed newcomers, made their aliases at the end of a pull.
        self._pending_alias: list[tuple[str, int]] = []
        #: Papers written in this write, indexed once at its end (:meth:`_settle`).
        self._touched: list[int] = []

    # -- settings --------------------------------------------------------------------------

    @property
    def conninfo(self) -> str | None:
        value = self.store.get_setting(URL_SETTING)
        return str(value) if value else None

    def _require(self) -> str:
        url = self.conninfo
        if not url:
            raise GroupError(
                f"{self.store.path} is not in a group: 'citedesk group init URL' shares it, "
                "'citedesk --library NEW.sqlite group join URL' makes a member's copy"
            )
        return url

    def seen(self) -> int:
        return int(self.store.get_setting(SEEN_SETTING, 0))

    # -- reading the local state -----------------------------------------------------------

    def _entries(self, uids: Sequence[str]) -> dict[str, _Local]:
        """The shared state of these papers, by uid (papers no longer here are absent)."""
        out: dict[str, _Local] = {}
        arg = json.dumps(list(uids))
        rows = self.conn.execute(
            "SELECT uid, id, key, entry_type, fields, source FROM papers "
            "WHERE uid IN (SELECT value FROM json_each(?))",
            [arg],
        ).fetchall()
        by_id = {r[1]: r for r in rows}
        tags: dict[int, list[str]] = {}
        for pid, name in self.conn.execute(
            "SELECT pt.paper_id, t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
            "WHERE pt.paper_id IN (SELECT id FROM papers WHERE uid IN "
            "(SELECT value FROM json_each(?)))",
            [arg],
        ):
            tags.setdefault(pid, []).append(name)
        files = self._files_here(arg)
        for pid, (uid, _, key, entry_type, fields, source) in by_id.items():
            out[uid] = _Local(
                uid,
                pid,
                Entry(
                    key,
                    entry_type,
                    tuple((n, v) for n, v in json.loads(fields)),
                    source,
                    tuple(sorted(tags.get(pid, []), key=str.lower)),
                    _by_hash(files.get(pid, {}).values()),
                ),
            )
        return out

    def _files_here(self, uids_json: str) -> dict[int, dict[str, SharedFile]]:
        """The attached files of these papers (by uid, as JSON) with a hash, as the group
        shares them: paper id -> hash -> file (the first of two rows with one content)."""
        out: dict[int, dict[str, SharedFile]] = {}
        for pid, digest, size, mime, role, desc, stored, path in self.conn.execute(
            "SELECT paper_id, hash, size, mime, role, description, stored, path "
            "FROM attachments WHERE hash IS NOT NULL AND paper_id IN (SELECT id FROM papers "
            "WHERE uid IN (SELECT value FROM json_each(?))) "
            "ORDER BY paper_id, role != 'main', position, id",
            [uids_json],
        ):
            # A stored file's relative path, or a linked file's path on any system.
            name = re.split(r"[\\/]", path)[-1]
            out.setdefault(pid, {}).setdefault(
                digest, SharedFile(digest, role, desc, size, mime, bool(stored), name)
            )
        return out

    def _notes(self, uids: Sequence[str]) -> dict[str, tuple[int, str, str]]:
        """Shared notes here by uid: (note id, paper uid, body)."""
        return {
            uid: (nid, puid, body)
            for uid, nid, puid, body in self.conn.execute(
                "SELECT n.uid, n.id, p.uid, n.body FROM notes n JOIN papers p "
                "ON p.id = n.paper_id WHERE n.shared = 1 AND n.uid IN "
                "(SELECT value FROM json_each(?))",
                [json.dumps(list(uids))],
            )
        }

    def _bases(self, uids: Sequence[str]) -> dict[str, tuple[str, int, str]]:
        return {
            uid: (kind, version, data)
            for uid, kind, version, data in self.conn.execute(
                "SELECT uid, kind, version, data FROM sync_base WHERE uid IN "
                "(SELECT value FROM json_each(?))",
                [json.dumps(list(uids))],
            )
        }

    def _open_conflicts(self, uids: Sequence[str]) -> dict[str, dict[str, Triple]]:
        out: dict[str, dict[str, Triple]] = {}
        for uid, part, b, m, t in self.conn.execute(
            "SELECT uid, part, base, mine, theirs FROM sync_conflicts WHERE uid IN "
            "(SELECT value FROM json_each(?))",
            [json.dumps(list(uids))],
        ):
            out.setdefault(uid, {})[part] = (json.loads(b), json.loads(m), json.loads(t))
        return out

    def _install_triggers(self) -> None:
        """Inside a write: from now on every change to what is shared is counted."""
        from .store import _statements

        for statement in _statements(TRIGGERS):
            self.conn.execute(statement)

    def _blocks_doc(self) -> str:
        """The @string and @preamble blocks here, in file order, as the group keeps them."""
        return json.dumps(
            [
                list(r)
                for r in self.conn.execute(
                    "SELECT kind, name, value, source FROM blocks "
                    "WHERE kind IN ('string', 'preamble') ORDER BY pos, id"
                )
            ],
            ensure_ascii=False,
        )

    def _put_blocks(self, doc: str, report: SyncReport) -> None:
        """Make the @string and @preamble blocks here those of ``doc`` (before every
        paper), and derive again the papers that use a macro that changed."""
        w = self.store.recording()
        before = {(k, (n or "").lower()): v for k, n, v, _ in json.loads(self._blocks_doc())}
        wanted = json.loads(doc)
        after = {(k, (n or "").lower()): v for k, n, v, _ in wanted}
        w.capture("blocks", "kind", ["string", "preamble"])
        self.conn.execute("DELETE FROM blocks WHERE kind IN ('string', 'preamble')")
        first = self.conn.execute(
            "SELECT min(pos) FROM (SELECT pos FROM papers UNION ALL SELECT pos FROM blocks)"
        ).fetchone()[0]
        start = (first if first is not None else 0) - len(wanted) - 1
        self.conn.executemany(
            "INSERT INTO blocks(kind, name, value, source, pos) VALUES (?, ?, ?, ?, ?)",
            [(k, n, v, src, start + i) for i, (k, n, v, src) in enumerate(wanted)],
        )
        self.papers.macros.forget()
        changed = sorted(
            name
            for kind, name in set(before) ^ set(after)
            | {x for x in set(before) & set(after) if before[x] != after[x]}
            if kind == "string" and name
        )
        if changed:
            like = " OR ".join("lower(fields) LIKE ?" for _ in changed)
            rows = self.conn.execute(
                f"SELECT id, fields FROM papers WHERE {like}", [f"%{n}%" for n in changed]
            ).fetchall()
            macros = self.papers.macros.current()
            for pid, fields in rows:
                w.capture("papers", "id", [pid])
                w.capture("persons", "paper_id", [pid])
                self.papers.rederive(pid, [tuple(x) for x in json.loads(fields)], macros)
                report.changes.papers.add(pid)
            self.papers.index.update([pid for pid, _ in rows])
        report.changes.blocks = True
        report.changes.fields = report.changes.fields or bool(changed)

    # -- writing the local state -----------------------------------------------------------

    def _tag_ids(self, names: Iterable[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for name in names:
            row = self.conn.execute(
                "SELECT id FROM tags WHERE name = ? COLLATE NOCASE", [name]
            ).fetchone()
            if row is None:
                row = self.conn.execute(
                    "INSERT INTO tags(name) VALUES (?) RETURNING id", [name]
                ).fetchone()
            ids[name.lower()] = int(row[0])
        return ids

    def _free_key(self, key: str, uid: str, report: SyncReport, changes: Changes) -> None:
        """Make ``key`` free here for the group's paper ``uid``: a paper of this library
        not yet in the group that holds it is the newcomer and gets a suffix (its old key
        stays as its alias); an alias of another paper is dropped."""
        self.conn.execute(
            "DELETE FROM key_aliases WHERE alias = ? AND paper_id NOT IN "
            "(SELECT id FROM papers WHERE uid IS ?)",
            [key, uid],
        )
        row = self.conn.execute(
            "SELECT id, key, uid FROM papers WHERE key = ? COLLATE NOCASE", [key]
        ).fetchone()
        if row is None or row[2] == uid:
            return
        pid, old, other_uid = int(row[0]), str(row[1]), row[2]
        # The newcomer: a paper of ours the group has not seen with this key. (A shared
        # paper the same pull moves off the key is only on its way to its new one.)
        newcomer = other_uid is None or other_uid in self._dirty([other_uid])
        new = keys_mod.unique_key(old, lambda k: self.keys.key_taken(k) or k == key)
        # Its alias comes at the end of the pull: a paper arriving later may free the key.
        self._rename(pid, old, new, changes, report.messages if newcomer else None, alias=False)
        if newcomer:
            self._pending_alias.append((old, pid))

    def _rename(
        self,
        pid: int,
        old: str,
        new: str,
        changes: Changes,
        messages: list[str] | None,
        *,
        alias: bool,
    ) -> None:
        """Give a paper of this library a new key because the group's paper has its old
        one, and say so to the member (``messages``) when it was theirs to know."""
        self.keys.set_key(pid, new, keep_alias=alias)
        changes.papers.add(pid)
        changes.fields = True
        changes.keys[pid] = (old, new)
        if messages is not None:
            messages.append(
                f"Your paper {old} is now {new}: another member's paper has the key {old}. "
                f"This library still finds it by {old} (an alias)."
            )

    def _put_entry(
        self,
        pid: int | None,
        uid: str,
        e: Entry,
        report: SyncReport,
        changes: Changes,
        undoable: bool = False,
    ) -> int:
        """Make the local paper ``uid`` what ``e`` says (adding it when ``pid`` is None).

        Its search index and tags text are brought up to date by :meth:`_settle`, for all
        the papers of a pull at once (one paper at a time cost 27 ms of each 30). Only a
        member's own choice (``undoable``) keeps what undo needs; a pull is not undone.
        """
        papers = self.papers
        w = self.store.recording()
        self._free_key(e.key, uid, report, changes)
        if pid is None:
            pid = papers._insert_paper(
                e.key, e.entry_type, list(e.fields), e.source, now(), uid=uid
            )
            if undoable:
                w.created_papers([pid])
            changes.added.add(pid)
        else:
            if undoable:
                w.capture_papers([pid])
            row = self.conn.execute(
                "SELECT key, entry_type, fields, source FROM papers WHERE id = ?", [pid]
            ).fetchone()
            if (json.loads(row[2]), row[3]) != ([list(f) for f in e.fields], e.source):
                fields = list(e.fields)
                cols, derived = papers._columns(fields, papers.macros.at(pid))
                cols.update(fields=json.dumps(fields), source=e.source, modified=now())
                sets = ", ".join(f"{c} = ?" for c in cols)
                self.conn.execute(f"UPDATE papers SET {sets} WHERE id = ?", [*cols.values(), pid])
                papers._write_persons(pid, derived)
            if row[0] != e.key or row[1] != e.entry_type:
                self.conn.execute(
                    "UPDATE papers SET key = ?, entry_type = ? WHERE id = ?",
                    [e.key, e.entry_type, pid],
                )
                if row[0] != e.key:
                    changes.keys[pid] = (row[0], e.key)
                    # This member's documents may cite the old key: it stays an alias
                    # here. Aliases are each library's own (two papers of a group can
                    # have had one key; a library can give it to only one).
                    if row[0].lower() != e.key.lower():
                        self.conn.execute(
                            "INSERT OR IGNORE INTO key_aliases(alias, paper_id) VALUES (?, ?)",
                            [row[0], pid],
                        )
            changes.papers.add(pid)
        changes.fields = True
        # Tags: exactly the group's.
        have = {
            name.lower()
            for (name,) in self.conn.execute(
                "SELECT t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
                "WHERE pt.paper_id = ?",
                [pid],
            )
        }
        if have != {t.lower() for t in e.tags}:
            made = {t for t in e.tags} - {
                name
                for (name,) in self.conn.execute(
                    "SELECT name FROM tags WHERE name IN (SELECT value FROM json_each(?))",
                    [json.dumps(list(e.tags))],
                )
            }
            ids = self._tag_ids(e.tags)
            self.conn.execute("DELETE FROM paper_tags WHERE paper_id = ?", [pid])
            self.conn.executemany(
                "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) VALUES (?, ?)",
                [(pid, tid) for tid in ids.values()],
            )
            changes.tags = True
            changes.tags_made |= made
            if made:
                changes.tag_list = True
        self._put_files(pid, e.files, changes, undoable)
        self._touched.append(pid)
        return pid

    def _put_files(
        self, pid: int, files: Sequence[SharedFile], changes: Changes, undoable: bool
    ) -> None:
        """Make the paper's attached files (those with a hash) the group's ``files``: its
        rows of other contents are detached (a stored file goes to the trash, as a detach
        does; a note of its annotations stays), rows of the same content take the group's
        role and description, and a file new here becomes a stored row named as
        :meth:`Attachments.attach` names files. Its content comes from another row with
        it, the trash (a download puts it there) or a linked file here; without any, the
        row is there and its file missing (``citedesk files --missing``; relink finds it)."""
        rows = self.conn.execute(
            "SELECT id, hash, role, description, position FROM attachments WHERE paper_id = ?",
            [pid],
        ).fetchall()
        wanted = {f.hash: f for f in files}
        gone = [aid for aid, digest, *_ in rows if digest is not None and digest not in wanted]
        retune = [
            (f.role, f.description, aid)
            for aid, digest, role, desc, _ in rows
            if (f := wanted.get(digest)) is not None and (role, desc) != (f.role, f.description)
        ]
        have = {digest for _, digest, *_ in rows}
        new = [f for h, f in wanted.items() if h not in have]
        if not (gone or retune or new):
            return
        if undoable:
            w = self.store.recording()
            w.capture("attachments", "paper_id", [pid])
            w.capture("annotation_notes", "attachment_id", [r[0] for r in rows])
        if gone:
            self.conn.execute(
                "DELETE FROM attachments WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(gone)],
            )
        self.conn.executemany(
            "UPDATE attachments SET role = ?, description = ? WHERE id = ?", retune
        )
        position = max((r[4] for r in rows), default=0)
        for f in new:
            self._bring_content(f.hash)
            suffix = PurePath(f.name).suffix or (".pdf" if f.mime == "application/pdf" else "")
            position += 1
            self.conn.execute(
                "INSERT INTO attachments(paper_id, position, stored, path, role, description,"
                " mime, hash, size, mtime, added) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, NULL, ?)",
                [
                    pid,
                    position,
                    self.attachments.new_stored_name(pid, suffix),
                    f.role,
                    f.description,
                    f.mime,
                    f.hash,
                    f.size,
                    now(),
                ],
            )
        changes.papers.add(pid)
        changes.files = True

    def _bring_content(self, digest: str) -> None:
        """Put a content this library has only as a linked file in the trash, where
        :meth:`Attachments.settle` takes a new stored row's file from (it copies a stored
        twin's itself)."""
        if (self.attachments.trash_dir / digest).is_file():
            return
        for stored, path in self.conn.execute(
            "SELECT stored, path FROM attachments WHERE hash = ? ORDER BY stored DESC", [digest]
        ).fetchall():
            if stored:
                if (self.attachments.files_dir / path).is_file():
                    return
                continue
            try:
                data = Path(path).read_bytes()
            except OSError:
                continue
            if hashlib.sha256(data).hexdigest() == digest:
                self._keep_in_trash(digest, data)
                return

    def _keep_in_trash(self, digest: str, data: bytes) -> None:
        """Write a content into the trash under its hash (aside, then renamed: a crash
        leaves no half file)."""
        trash = self.attachments.trash_dir
        trash.mkdir(parents=True, exist_ok=True)
        part = trash / f"{digest}.part-{os.getpid()}"
        part.write_bytes(data)
        os.replace(part, trash / digest)

    def _lacking(self, hashes: Iterable[str]) -> set[str]:
        """The contents among ``hashes`` this library has nowhere: in no file of a row and
        not in the trash."""
        wanted = set(hashes)
        if not wanted:
            return set()
        files_dir, trash = self.attachments.files_dir, self.attachments.trash_dir
        for stored, path, digest in self.conn.execute(
            "SELECT stored, path, hash FROM attachments WHERE hash IN "
            "(SELECT value FROM json_each(?))",
            [json.dumps(sorted(wanted))],
        ).fetchall():
            if digest in wanted and (files_dir / path if stored else Path(path)).is_file():
                wanted.discard(digest)
        return {h for h in wanted if not (trash / h).is_file()}

    # -- file contents through the server --------------------------------------------------

    @staticmethod
    def _shares_files(server: psycopg.Connection) -> bool:
        row = server.execute(
            f"SELECT value FROM {SCHEMA}.meta WHERE name = %s", [SHARE_FILES]
        ).fetchone()
        return row is not None and row[0] == "1"

    def _download(self, server: psycopg.Connection, hashes: Iterable[str]) -> int:
        """Inside a server transaction: the contents among ``hashes`` this library lacks
        and the server has, fetched one at a time into the trash; how many."""
        lacking = self._lacking(hashes)
        if not lacking:
            return 0
        got = 0
        with server.cursor(name="citedesk_files") as cur:
            cur.itersize = 1  # one file in memory at a time
            cur.execute(
                f"SELECT hash, data FROM {SCHEMA}.files WHERE hash = ANY(%s)", [sorted(lacking)]
            )
            for digest, data in cur:
                content = bytes(data)
                if hashlib.sha256(content).hexdigest() != digest:
                    continue  # not what it says: leave it
                self._keep_in_trash(digest, content)
                got += 1
        return got

    def _upload(self, server: psycopg.Connection, uids: Sequence[str] | None) -> int:
        """Inside a server transaction: the stored files of these papers (None: of every
        paper) whose content the server lacks, read once each and sent; how many. A file
        whose content is no longer its row's hash (edited since) waits for its new hash."""
        files_dir = self.attachments.files_dir
        sql = (
            "SELECT a.hash, a.path FROM attachments a JOIN papers p ON p.id = a.paper_id "
            "WHERE a.stored = 1 AND a.hash IS NOT NULL AND p.uid IS NOT NULL"
        )
        args: list[Any] = []
        if uids is not None:
            sql += " AND p.uid IN (SELECT value FROM json_each(?))"
            args.append(json.dumps(list(uids)))
        paths: dict[str, list[str]] = {}
        for digest, path in self.conn.execute(sql, args).fetchall():
            paths.setdefault(digest, []).append(path)
        if not paths:
            return 0
        there = {
            h
            for (h,) in server.execute(
                f"SELECT hash FROM {SCHEMA}.files WHERE hash = ANY(%s)", [sorted(paths)]
            ).fetchall()
        }
        sent = 0
        for digest in sorted(set(paths) - there):
            for path in paths[digest]:
                try:
                    data = (files_dir / path).read_bytes()
                except OSError:
                    continue  # missing here too
                if hashlib.sha256(data).hexdigest() != digest:
                    continue
                server.execute(
                    f"INSERT INTO {SCHEMA}.files(hash, data, size) VALUES (%s, %s, %s) "
                    "ON CONFLICT (hash) DO NOTHING",
                    [digest, data, len(data)],
                )
                sent += 1
                break
        return sent

    def share_files(self, on: bool) -> int:
        """Let stored files' contents go through the server (or stop them). Turning it on
        also sends this library's stored files the server lacks; how many were sent.
        Needs a writer's rights on the group."""
        import psycopg

        url = self._require()
        server = connect(url)
        try:
            with server.transaction():
                server.execute(
                    f"INSERT INTO {SCHEMA}.meta(name, value) VALUES (%s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [SHARE_FILES, "1" if on else "0"],
                )
            if not on:
                return 0
            with server.transaction():
                return self._upload(server, None)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise GroupError(
                f"you may not change whether the group on {shown(url)} shares files: "
                f"{_first_line(exc)} (its owner may, or a writer: 'citedesk group grant ROLE')"
            ) from None
        except psycopg.Error as exc:
            raise GroupError(
                f"the group server {shown(url)} failed (nothing was half done): {_first_line(exc)}"
            ) from None
        finally:
            server.close()

    def _settle(self) -> None:
        """Inside the write: the touched papers' tags text, stamp and search index."""
        touched, self._touched = self._touched, []
        alive = [
            pid
            for (pid,) in self.conn.execute(
                "SELECT id FROM papers WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(sorted(set(touched)))],
            )
        ]
        self.personal.after_change(alive)

    # -- pulling ---------------------------------------------------------------------------

    def _pull(self, server: psycopg.Connection, report: SyncReport) -> None:
        """Bring in what the server has past the version seen, merging with local changes;
        one local transaction."""
        seen = self.seen()
        with server.transaction():
            server.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            top = int(_value(server.execute(f"SELECT version FROM {SCHEMA}.counter").fetchone()))
            if top < seen:
                raise GroupError(
                    f"the group server {shown(self._require())} is at version {top}, behind "
                    f"this library ({seen}): it was restored from an older backup, or this "
                    "library belongs to another group"
                )
            entries = (
                server.execute(
                    f"SELECT uid, key, data, deleted, version FROM {SCHEMA}.entries "
                    "WHERE version > %s ORDER BY version",
                    [seen],
                ).fetchall()
                if top > seen
                else []
            )
            notes = (
                server.execute(
                    f"SELECT uid, entry, data, deleted, version FROM {SCHEMA}.notes "
                    "WHERE version > %s ORDER BY version",
                    [seen],
                ).fetchall()
                if top > seen
                else []
            )
            blocks = server.execute(
                f"SELECT data, version FROM {SCHEMA}.blocks WHERE version > %s", [seen]
            ).fetchone()
            # Papers that will be made here (new to this library, or kept after a deletion
            # here) bring their shared notes, however old.
            arriving = [r[0] for r in entries if not r[3]]
            missing = set(arriving) - {
                uid
                for (uid,) in self.conn.execute(
                    "SELECT uid FROM papers WHERE uid IN (SELECT value FROM json_each(?))",
                    [json.dumps(arriving)],
                )
            }
            if missing:
                notes = (
                    server.execute(
                        f"SELECT uid, entry, data, deleted, version FROM {SCHEMA}.notes "
                        "WHERE entry = ANY(%s) AND version <= %s AND NOT deleted",
                        [sorted(missing), seen],
                    ).fetchall()
                    + notes
                )
            downloaded = 0
            if entries and self._shares_files(server):
                downloaded = self._download(server, _hashes_in(r[2] for r in entries if not r[3]))
        report.version = top
        if top == seen:
            return
        changes = report.changes
        self._pending_alias = []
        self._touched = []
        with self.store.write() as w:
            uids = [r[0] for r in entries]
            local = self._entries(uids)
            bases = self._bases(uids + [r[0] for r in notes])
            dirty = self._dirty(uids + [r[0] for r in notes])
            conflicts = self._open_conflicts(uids)
            clean: list[str] = []
            for uid, key, data, deleted, version in entries:
                theirs = Entry.load(key, data)
                here = local.get(uid)
                base_row = bases.get(uid)
                base = Entry.from_base(base_row[2]) if base_row else None
                report.pulled += 1
                if here is None:
                    if uid in dirty and base_row is not None:
                        # Deleted here. An edit there since keeps the paper (says so);
                        # a deletion there too simply agrees; else the deletion goes out.
                        if deleted:
                            self.conn.execute("DELETE FROM sync_base WHERE uid = ?", [uid])
                            clean.append(uid)
                            continue
                        if base is not None and theirs != base:
                            self._put_entry(None, uid, theirs, report, changes)
                            report.messages.append(
                                f"{theirs.key} was deleted here but another member edited "
                                "it: it is kept, with their changes."
                            )
                            clean.append(uid)
                    else:
                        if not deleted:
                            self._put_entry(None, uid, theirs, report, changes)
                        clean.append(uid)
                    self._set_base(uid, "entry", version, theirs.base_text())
                    continue
                if deleted:
                    if uid in dirty or uid in conflicts:
                        report.messages.append(
                            f"{here.entry.key} was deleted by another member but you changed "
                            "it: it is kept here and shared again."
                        )
                        # No base: the push brings the server's tombstone back to life
                        # with this library's paper, conflicts and all settled by it.
                        self.conn.execute("DELETE FROM sync_base WHERE uid = ?", [uid])
                        self.conn.execute("DELETE FROM sync_conflicts WHERE uid = ?", [uid])
                        self._mark_dirty(uid)
                    else:
                        changes.merge(self.papers.delete_papers([here.paper_id]))
                        self.conn.execute("DELETE FROM sync_base WHERE uid = ?", [uid])
                        clean.append(uid)
                    continue
                if uid not in dirty and uid not in conflicts:
                    if here.entry != theirs:
                        self._put_entry(here.paper_id, uid, theirs, report, changes)
                    self._set_base(uid, "entry", version, theirs.base_text())
                    clean.append(uid)
                    continue
                if base is not None and uid in conflicts:
                    # A part still in conflict merges against the base both sides had
                    # before it (the stored base is the group's value since): it stays a
                    # conflict until the member chooses or the group comes to this value.
                    base = with_parts(base, {p: c[0] for p, c in conflicts[uid].items()})
                merged, found = merge(base, here.entry, theirs)
                if merged != here.entry:
                    self._put_entry(here.paper_id, uid, merged, report, changes)
                if here.entry != theirs:
                    report.merged += 1
                self._record_conflicts(uid, found, w)
                self._set_base(uid, "entry", version, theirs.base_text())
                if not _agree(with_parts(merged, {p: c[2] for p, c in found.items()}), theirs):
                    self._mark_dirty(uid)  # this library has something the group has not
            for uid, entry_uid, data, deleted, version in notes:
                report.pulled += 1
                self._pull_note(uid, entry_uid, data, deleted, version, dirty, bases, report)
            if blocks is not None:
                report.pulled += 1
                self._pull_blocks(blocks[0], int(blocks[1]), report)
            for alias, pid in self._pending_alias:
                self.conn.execute(
                    "INSERT OR IGNORE INTO key_aliases(alias, paper_id) "
                    "SELECT ?, id FROM papers WHERE id = ?",
                    [alias, pid],
                )
            self._settle()
            # What came from the server is not a change to send back.
            self.conn.execute(
                "DELETE FROM sync_dirty WHERE uid IN (SELECT value FROM json_each(?))",
                [json.dumps(clean)],
            )
            self.store.set_setting(SEEN_SETTING, top)
        self._place_files(downloaded)
        report.conflicts = self.conflict_count()

    def _place_files(self, downloaded: int) -> None:
        """After a write that changed attached files: stored files to their places (new
        rows take theirs from the trash, detached ones go there); contents downloaded for
        rows that were missing them are put in place too."""
        self.attachments.settle()
        if downloaded:
            self.attachments.restore_stored()

    def _pull_note(
        self,
        uid: str,
        entry_uid: str,
        data: str,
        deleted: bool,
        version: int,
        dirty: dict[str, int],
        bases: dict[str, tuple[str, int, str]],
        report: SyncReport,
    ) -> None:
        changes = report.changes
        w = self.store.recording()
        theirs = json.loads(data)["body"]
        here = self._notes([uid]).get(uid)
        base_row = bases.get(uid)
        base = json.loads(base_row[2])["body"] if base_row else None
        row = self.conn.execute("SELECT id FROM papers WHERE uid = ?", [entry_uid]).fetchone()
        pid = int(row[0]) if row else None
        if here is None and (deleted or pid is None):
            # Gone both sides, or its paper is not here: nothing to agree on. (A paper that
            # comes back later brings its notes along, see _pull.)
            self.conn.execute("DELETE FROM sync_base WHERE uid = ?", [uid])
            return
        self._set_base(uid, "note", version, data)
        if here is None:
            assert pid is not None
            revived = pid in changes.added
            if not revived and uid in dirty and base_row is not None and theirs == base:
                return  # deleted here, not changed there: the deletion goes out
            stamp = now()
            nid = self.conn.execute(
                "INSERT INTO notes(paper_id, body, created, updated, uid, shared) "
                "VALUES (?, ?, ?, ?, ?, 1) RETURNING id",
                [pid, theirs, stamp, stamp, uid],
            ).fetchone()[0]
            w.created("notes", "id", [nid])
            changes.papers.add(pid)
            changes.notes = True
            changes.note_ids.add(int(nid))
            self.personal.after_change([pid], modified=False, abstract=False)
            self.conn.execute("DELETE FROM sync_dirty WHERE uid = ?", [uid])
            return
        nid, _, body = here
        note_paper = self.conn.execute("SELECT paper_id FROM notes WHERE id = ?", [nid]).fetchone()
        if deleted:
            if uid in dirty and body != base:
                report.messages.append(
                    "A shared note another member deleted was changed here: it is kept and "
                    "shared again."
                )
                self.conn.execute("DELETE FROM sync_base WHERE uid = ?", [uid])
                return
            w.capture("notes", "id", [nid])
            self.conn.execute("DELETE FROM notes WHERE id = ?", [nid])
            self.conn.execute("DELETE FROM sync_dirty WHERE uid = ?", [uid])
        elif body == theirs:
            self.conn.execute("DELETE FROM sync_dirty WHERE uid = ?", [uid])
            return
        elif uid not in dirty or body == base:
            w.capture("notes", "id", [nid])
            self.conn.execute(
                "UPDATE notes SET body = ?, updated = ? WHERE id = ?", [theirs, now(), nid]
            )
            self.conn.execute("DELETE FROM sync_dirty WHERE uid = ?", [uid])
        else:
            # Both changed the note: this member's text stays in it, the other's becomes a
            # shared note of its own beside it, so nothing either typed is lost.
            stamp = now()
            copy_uid = new_uid()
            new_id = self.conn.execute(
                "INSERT INTO notes(paper_id, body, created, updated, uid, shared) "
                "VALUES (?, ?, ?, ?, ?, 1) RETURNING id",
                [note_paper[0], theirs, stamp, stamp, copy_uid],
            ).fetchone()[0]
            w.created("notes", "id", [new_id])
            changes.note_ids.add(int(new_id))
            report.messages.append(
                "A shared note was changed here and by another member: both texts are kept, "
                "theirs as a note of its own."
            )
            report.merged += 1
        changes.papers.add(int(note_paper[0]))
        changes.notes = True
        changes.note_ids.add(nid)
        self.personal.after_change([int(note_paper[0])], modified=False, abstract=False)

    def _pull_blocks(self, theirs: str, version: int, report: SyncReport) -> None:
        """The group's @string and @preamble blocks: taken, with this library's own new
        ones added when both sides changed them (theirs win for a macro both define)."""
        mine = self._blocks_doc()
        base = self._bases([BLOCKS]).get(BLOCKS)
        changed_here = BLOCKS in self._dirty([BLOCKS]) and (base is None or base[2] != mine)
        wanted = theirs
        if changed_here and mine != theirs:
            their_rows = json.loads(theirs)
            names = {(k, (n or "").lower()) for k, n, _, _ in their_rows}
            old = json.loads(base[2]) if base else []
            extra = [
                r
                for r in json.loads(mine)
                if (r[0], (r[1] or "").lower()) not in names and r not in old
            ]
            wanted = json.dumps(their_rows + extra, ensure_ascii=False)
            report.merged += 1
        if wanted != mine:
            self._put_blocks(wanted, report)
        self._set_base(BLOCKS, "blocks", version, theirs)
        if wanted == theirs:
            self.conn.execute("DELETE FROM sync_dirty WHERE uid = ?", [BLOCKS])

    def _dirty(self, uids: Sequence[str]) -> dict[str, int]:
        return {
            uid: int(n)
            for uid, n in self.conn.execute(
                "SELECT uid, n FROM sync_dirty WHERE uid IN (SELECT value FROM json_each(?))",
                [json.dumps(list(uids))],
            )
        }

    def _mark_dirty(self, uid: str) -> None:
        self.conn.execute(
            "INSERT INTO sync_dirty(uid) VALUES (?) ON CONFLICT(uid) DO UPDATE SET n = n + 1",
            [uid],
        )

    def _set_base(self, uid: str, kind: str, version: int, data: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO sync_base(uid, kind, version, data) VALUES (?, ?, ?, ?)",
            [uid, kind, version, data],
        )

    def _record_conflicts(self, uid: str, found: dict[str, Triple], w: Any) -> None:
        w.capture("sync_conflicts", "uid", [uid])
        self.conn.execute("DELETE FROM sync_conflicts WHERE uid = ?", [uid])
        self.conn.executemany(
            "INSERT INTO sync_conflicts(uid, part, base, mine, theirs) VALUES (?, ?, ?, ?, ?)",
            [
                (uid, part, json.dumps(b), json.dumps(m), json.dumps(t))
                for part, (b, m, t) in found.items()
            ],
        )

    # -- pushing ---------------------------------------------------------------------------

    def _share_new(self) -> None:
        """Give every paper and shared note not yet in the group its uid (one write)."""
        if not self.conn.execute(
            "SELECT 1 FROM papers WHERE uid IS NULL UNION ALL "
            "SELECT 1 FROM notes WHERE shared = 1 AND uid IS NULL LIMIT 1"
        ).fetchone():
            return
        with self.store.write():
            self.conn.execute(
                "UPDATE papers SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL"
            )
            self.conn.execute(
                "UPDATE notes SET uid = lower(hex(randomblob(16))) WHERE shared = 1 AND uid IS NULL"
            )

    def _clear_key_clashes(self, server: psycopg.Connection, report: SyncReport) -> None:
        """Before a push: a changed paper of ours whose key another paper holds in the
        group is the newcomer and takes a suffix (keeping its old key as an alias here).

        A pull frees keys for what it brings, but not a key the group holds for a paper
        whose key is in conflict here (this library shows its own key for it, so the
        group's looks free): without this, such a push would be refused on every try.
        """
        here = {
            uid: (int(pid), key)
            for uid, pid, key in self.conn.execute(
                "SELECT p.uid, p.id, p.key FROM papers p JOIN sync_dirty d ON d.uid = p.uid"
            )
        }
        sent = {uid: key for uid, (_, key) in here.items()}
        if not sent:
            return
        for uid, part in self.conn.execute(
            "SELECT uid, theirs FROM sync_conflicts WHERE part = '@key' AND uid IN "
            "(SELECT value FROM json_each(?))",
            [json.dumps(list(sent))],
        ).fetchall():
            sent[uid] = json.loads(part)  # a key in conflict goes out as the group's
        with server.transaction():  # its own: the push's must not become a savepoint
            holders = {
                key.lower(): uid
                for uid, key in server.execute(
                    f"SELECT uid, key FROM {SCHEMA}.entries "
                    "WHERE NOT deleted AND lower(key) = ANY(%s)",
                    [sorted({k.lower() for k in sent.values()})],
                ).fetchall()
            }
        clashes = []
        for uid, key in sent.items():
            holder = holders.get(key.lower())
            if holder is None or holder == uid:
                continue
            if holder in sent and sent[holder].lower() != key.lower():
                continue  # the holder leaves the key in this same push
            pid, own = here[uid]
            if own.lower() == key.lower():  # (a key in conflict goes out as the group's)
                clashes.append((pid, own))
        if not clashes:
            return
        with self.store.write():
            for pid, old in clashes:
                new = keys_mod.unique_key(
                    old, lambda k: self.keys.key_taken(k) or k.lower() in holders
                )
                self._rename(pid, old, new, report.changes, report.messages, alias=True)

    def _outgoing(self) -> list[tuple[str, str, str | None, str | None, int | None, int]]:
        """What to push: (uid, kind, key or entry uid, data or None to delete, base version
        or None for a new row, dirty count)."""
        dirty = {uid: int(n) for uid, n in self.conn.execute("SELECT uid, n FROM sync_dirty")}
        if not dirty:
            return []
        uids = list(dirty)
        local = self._entries(uids)
        notes = self._notes(uids)
        bases = self._bases(uids)
        conflicts = self._open_conflicts(uids)
        out: list[tuple[str, str, str | None, str | None, int | None, int]] = []
        for uid, n in dirty.items():
            base = bases.get(uid)
            version = base[1] if base else None
            if uid == BLOCKS:
                doc = self._blocks_doc()
                same = doc == (base[2] if base else "[]")
                out.append((uid, "same" if same else "blocks", None, doc, version or 0, n))
                continue
            if uid in local:
                entry = local[uid].entry
                if uid in conflicts:
                    entry = with_parts(entry, {p: c[2] for p, c in conflicts[uid].items()})
                if base and base[2] == entry.base_text():
                    out.append((uid, "same", None, None, version, n))
                    continue
                out.append((uid, "entry", entry.key, entry.data(), version, n))
            elif uid in notes:
                _, entry_uid, body = notes[uid]
                data = json.dumps({"body": body}, ensure_ascii=False)
                if base and base[2] == data:
                    out.append((uid, "same", None, None, version, n))
                    continue
                out.append((uid, "note", entry_uid, data, version, n))
            elif base is not None:
                # Gone here (or a note no longer shared): a deletion.
                out.append((uid, f"{base[0]}-gone", None, None, version, n))
            else:
                out.append((uid, "same", None, None, None, n))  # never shared: nothing to say
        return out

    def _push(self, server: psycopg.Connection, report: SyncReport) -> None:
        import psycopg

        self._share_new()
        self._clear_key_clashes(server, report)
        out = self._outgoing()
        sending = [o for o in out if o[1] != "same"]
        version = 0
        if sending:
            from psycopg.pq import TransactionStatus

            # The push commits here or not at all: inside a transaction left open it would
            # only be a savepoint, and nothing would reach the server.
            if server.info.transaction_status != TransactionStatus.IDLE:
                raise RuntimeError("a push must start outside any server transaction")
            try:
                with server.transaction():
                    version = int(
                        _value(
                            server.execute(
                                f"UPDATE {SCHEMA}.counter SET version = version + 1 "
                                "RETURNING version"
                            ).fetchone()
                        )
                    )
                    self._send(server, sending, version)
                    if self._shares_files(server):
                        self._upload(server, [o[0] for o in sending if o[1] == "entry"])
                    server.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(version)])
            except psycopg.errors.InsufficientPrivilege:
                report.kept_back = len(sending)
                raise ReadOnlyMemberError(
                    f"you may read this group but not change it ({shown(self._require())}): "
                    f"{len(sending)} change(s) are kept in this library and not shared"
                ) from None
            except (psycopg.errors.UniqueViolation, psycopg.errors.ExclusionViolation) as exc:
                # A key another member took since our pull (or a uid we missed): pull again.
                raise _Stale(exc.diag.message_detail or _first_line(exc)) from None
        self._record_push(out, version, report)
        report.pushed = len(sending)

    def _record_push(
        self,
        out: Sequence[tuple[str, str, str | None, str | None, int | None, int]],
        version: int,
        report: SyncReport,
    ) -> None:
        """After the server committed a push: what it holds now is the base of what was
        sent, and what did not change since it was read is no longer to send."""
        sending = any(kind != "same" for _uid, kind, *_ in out)
        with self.store.write():
            seen = self.seen()
            self.conn.executemany(
                "INSERT OR REPLACE INTO sync_base(uid, kind, version, data) VALUES (?, ?, ?, ?)",
                [
                    (uid, kind, version, f"{key}\n{data}" if kind == "entry" else data)
                    for uid, kind, key, data, _base, _n in out
                    if kind in ("entry", "note", "blocks")
                ],
            )
            self.conn.executemany(
                "DELETE FROM sync_base WHERE uid = ?",
                [(uid,) for uid, kind, *_ in out if kind.endswith("-gone")],
            )
            self.conn.executemany(
                "DELETE FROM sync_dirty WHERE uid = ? AND n = ?",
                [(uid, n) for uid, _kind, _key, _data, _base, n in out],
            )
            if sending and seen == version - 1:
                self.store.set_setting(SEEN_SETTING, version)
                report.version = version

    def _send(
        self,
        server: psycopg.Connection,
        sending: Sequence[tuple[str, str, str | None, str | None, int | None, int]],
        version: int,
    ) -> None:
        """Inside the push's transaction: write what is sent. Papers carry their key and
        notes their paper's uid in the second column; the rest is the same for both."""
        with server.cursor() as cur:
            for kind, table, column in (("entry", "entries", "key"), ("note", "notes", "entry")):
                gone = [(version, u, b) for u, k, _c, _d, b, _ in sending if k == f"{kind}-gone"]
                changed = [
                    (c, d, version, u, b)
                    for u, k, c, d, b, _ in sending
                    if k == kind and b is not None
                ]
                new = [
                    (u, c, d, version) for u, k, c, d, b, _ in sending if k == kind and b is None
                ]
                if gone:
                    # Deletions first, so a key freed here can be taken by another paper.
                    self._expect(
                        cur,
                        f"UPDATE {SCHEMA}.{table} SET deleted = true, version = %s "
                        "WHERE uid = %s AND version = %s",
                        gone,
                    )
                if changed:
                    self._expect(
                        cur,
                        f"UPDATE {SCHEMA}.{table} SET {column} = %s, data = %s, deleted = false, "
                        "version = %s, member = current_user WHERE uid = %s AND version = %s",
                        changed,
                    )
                if new:
                    # New here; a uid the server has only as a tombstone (a deletion undone
                    # here) comes back to life. A live row with it means we missed a pull.
                    self._expect(
                        cur,
                        f"INSERT INTO {SCHEMA}.{table} AS t (uid, {column}, data, version) "
                        f"VALUES (%s, %s, %s, %s) ON CONFLICT (uid) DO UPDATE SET {column} = "
                        f"excluded.{column}, data = excluded.data, version = excluded.version, "
                        "deleted = false, member = current_user WHERE t.deleted",
                        new,
                    )
            blocks = [(d, version, b) for _u, k, _c, d, b, _ in sending if k == "blocks"]
            if blocks:
                self._expect(
                    cur,
                    f"UPDATE {SCHEMA}.blocks SET data = %s, version = %s WHERE version = %s",
                    blocks,
                )

    @staticmethod
    def _expect(cur: Any, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run ``sql`` for each row; each must change one server row (its version is the
        one we based the change on), or someone pushed in between."""
        cur.executemany(sql, rows, returning=False)
        if cur.rowcount != len(rows):
            what = " ".join(sql.split()[:3]).replace(f"{SCHEMA}.", "")
            raise _Stale(
                f"{len(rows) - cur.rowcount} of {len(rows)} rows changed meanwhile ({what})"
            )

    # -- the public operations ------------------------------------------------------------

    def sync(self, *, push: bool = True, conninfo: str | None = None) -> SyncReport:
        """Pull, merge and push until the server and this library agree (or a read-only
        member's changes are refused). Raises :class:`GroupError` when the server cannot
        be reached; nothing is half done either side. ``conninfo``: the server as given
        this once (with a password, say), instead of the stored one."""
        stored = self._require()
        url = conninfo or stored
        report = SyncReport()
        with self._server(url) as server:
            self._check_group(server, url)
            stale = ""
            for _attempt in range(ATTEMPTS):
                self._pull(server, report)
                if not push:
                    break
                try:
                    self._push(server, report)
                    break
                except _Stale as exc:
                    stale = str(exc)
                    continue
                except ReadOnlyMemberError as exc:
                    report.messages.append(str(exc))
                    break
            else:
                raise GroupError(
                    f"others kept changing the same papers on {shown(url)} ({stale}); "
                    "nothing was lost, sync again"
                )
        report.conflicts = self.conflict_count()
        return report

    @contextmanager
    def _server(self, url: str) -> Iterator[psycopg.Connection]:
        import psycopg

        server = connect(url)
        try:
            yield server
        except psycopg.Error as exc:
            raise GroupError(
                f"the group server {shown(url)} failed during the sync (nothing was half "
                f"done; sync again): {_first_line(exc)}"
            ) from None
        finally:
            server.close()

    def _check_group(self, server: psycopg.Connection, url: str) -> None:
        import psycopg

        try:
            with server.transaction():
                rows: dict[str, str] = dict(
                    server.execute(f"SELECT name, value FROM {SCHEMA}.meta").fetchall()
                )
        except psycopg.errors.UndefinedTable:
            raise GroupError(
                f"{shown(url)} holds no Citedesk group (citedesk group init URL makes one)"
            ) from None
        except psycopg.errors.InsufficientPrivilege as exc:
            raise GroupError(
                f"you are not a member of the group on {shown(url)}: {_first_line(exc)}"
            ) from None
        mine = self.store.get_setting(GROUP_ID_SETTING)
        if int(rows.get("format", "0")) > FORMAT:
            raise GroupError("the group was made by a newer Citedesk: update this one")
        if mine and rows.get("group") != mine:
            raise GroupError(f"{shown(url)} holds another group than the one this library joined")

    def init(self, conninfo: str, *, share_files: bool = False) -> SyncReport:
        """Make a group on the server from this library: create the schema, push all
        (with ``share_files``, the stored files' contents too)."""
        import psycopg

        if self.conninfo:
            raise GroupError(f"{self.store.path} is already in the group on {shown(self.conninfo)}")
        stored = without_password(conninfo)
        group_id = new_uid()
        server = connect(conninfo)
        try:
            with server.transaction():
                exists = server.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", [SCHEMA]
                ).fetchone()
                if exists:
                    raise GroupError(
                        f"{shown(conninfo)} already holds a Citedesk group: join it with "
                        "'citedesk --library NEW.sqlite group join URL'"
                    )
                server.execute(SERVER_SCHEMA)
                server.execute(FILES_TABLE)
                server.execute(
                    f"INSERT INTO {SCHEMA}.meta(name, value) VALUES ('format', %s), "
                    "('group', %s), (%s, %s)",
                    [str(FORMAT), group_id, SHARE_FILES, "1" if share_files else "0"],
                )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise GroupError(
                f"cannot make a group on {shown(conninfo)}: {_first_line(exc)} (the user needs "
                "CREATE on the database)"
            ) from None
        except psycopg.Error as exc:
            raise GroupError(
                f"cannot make a group on {shown(conninfo)}: {_first_line(exc)}"
            ) from None
        finally:
            server.close()
        with self.store.write():
            self.store.set_setting(URL_SETTING, stored)
            self.store.set_setting(GROUP_ID_SETTING, group_id)
            self.store.set_setting(SEEN_SETTING, 0)
            self.conn.execute("DELETE FROM sync_base")
            self.conn.execute("DELETE FROM sync_dirty")
            self.conn.execute("DELETE FROM sync_conflicts")
            self._install_triggers()
            # Every paper is new to the group, and so are the @string blocks.
            self.conn.execute("UPDATE papers SET uid = NULL")
            self.conn.execute("UPDATE notes SET uid = NULL")
            self._mark_dirty(BLOCKS)
        return self.sync(conninfo=conninfo)

    def join(self, conninfo: str) -> SyncReport:
        """Fill this new, empty library from the group on the server."""
        from .bibwrite import format_entry

        if self.conninfo:
            raise GroupError(f"{self.store.path} is already in a group ({shown(self.conninfo)})")
        if self.conn.execute("SELECT 1 FROM papers LIMIT 1").fetchone():
            raise GroupError(
                f"{self.store.path} already holds papers: join into a new library "
                "('citedesk --library NEW.sqlite group join URL')"
            )
        report = SyncReport()
        server = connect(conninfo)
        import psycopg

        try:
            with server.transaction():
                server.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                try:
                    meta: dict[str, str] = dict(
                        server.execute(f"SELECT name, value FROM {SCHEMA}.meta").fetchall()
                    )
                except psycopg.errors.UndefinedTable:
                    raise GroupError(
                        f"{shown(conninfo)} holds no Citedesk group (citedesk group init URL "
                        "makes one)"
                    ) from None
                top = int(
                    _value(server.execute(f"SELECT version FROM {SCHEMA}.counter").fetchone())
                )
                parts: list[str] = []
                rows: list[tuple[str, str, Entry, int]] = []
                raw: dict[str, str] = {}
                with server.cursor(name="citedesk_join") as cur:
                    cur.itersize = 5000
                    cur.execute(
                        f"SELECT uid, key, data, version FROM {SCHEMA}.entries "
                        "WHERE NOT deleted ORDER BY version, uid"
                    )
                    for uid, key, data, version in cur:
                        e = Entry.load(key, data)
                        rows.append((uid, key, e, version))
                        raw[uid] = data
                        parts.append(
                            e.source
                            if e.source is not None
                            else format_entry(e.entry_type, e.key, e.fields)
                        )
                notes = server.execute(
                    f"SELECT uid, entry, data, version FROM {SCHEMA}.notes WHERE NOT deleted"
                ).fetchall()
                blocks_doc, blocks_version = server.execute(
                    f"SELECT data, version FROM {SCHEMA}.blocks"
                ).fetchone() or ("[]", 0)
                downloaded = 0
                if meta.get(SHARE_FILES) == "1":
                    downloaded = self._download(
                        server, {f.hash for _, _, e, _ in rows for f in e.files}
                    )
        except psycopg.Error as exc:
            raise GroupError(
                f"cannot read the group on {shown(conninfo)}: {_first_line(exc)}"
            ) from None
        finally:
            server.close()
        if int(meta.get("format", "0")) > FORMAT:
            raise GroupError("the group was made by a newer Citedesk: update this one")
        # The @string and @preamble blocks first, as a .bib file has them.
        parts[:0] = [source for _kind, _name, _value, source in json.loads(blocks_doc)]
        text = "\n\n".join(parts) + ("\n" if parts else "")
        # One transaction: a group with a paper that cannot be read leaves this library
        # as it was.
        with self.store.write():
            imported = self.imports.import_text(text, f"group {shown(conninfo)}") if parts else None
            if imported is not None:
                report.changes.merge(imported.changes)
            ids = {
                key.lower(): int(pid)
                for pid, key in self.conn.execute("SELECT id, key FROM papers")
            }
            missing = [key for _, key, _, _ in rows if key.lower() not in ids]
            if missing:
                raise GroupError(
                    f"{len(missing)} of the group's papers could not be read, e.g. "
                    f"{missing[0]}; this library was left empty"
                )
            self.conn.executemany(
                "UPDATE papers SET uid = ? WHERE id = ?",
                [(uid, ids[key.lower()]) for uid, key, _, _ in rows],
            )
            self.conn.executemany(
                "UPDATE papers SET source = NULL WHERE id = ?",
                [(ids[key.lower()],) for _, key, e, _ in rows if e.source is None],
            )
            tagged = [(ids[key.lower()], e) for _, key, e, _ in rows if e.tags]
            all_tags = {t.lower(): t for _, e in tagged for t in e.tags}
            tag_ids = self._tag_ids(all_tags.values())
            self.conn.executemany(
                "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) VALUES (?, ?)",
                [(pid, tag_ids[t.lower()]) for pid, e in tagged for t in e.tags],
            )
            for _, key, e, _ in rows:
                if e.files:
                    self._put_files(ids[key.lower()], e.files, report.changes, False)
            self.conn.executemany(
                "INSERT OR REPLACE INTO sync_base(uid, kind, version, data) "
                "VALUES (?, 'entry', ?, ?)",
                # The server's own text: what base_text() writes, without serialising again.
                [(uid, version, f"{key}\n{raw[uid]}") for uid, key, _, version in rows],
            )
            by_uid = {uid: ids[key.lower()] for uid, key, _, _ in rows}
            stamp = now()
            noted = [
                (uid, by_uid[entry], data, v) for uid, entry, data, v in notes if entry in by_uid
            ]
            self.conn.executemany(
                "INSERT INTO notes(paper_id, body, created, updated, uid, shared) "
                "VALUES (?, ?, ?, ?, ?, 1)",
                [(pid, json.loads(data)["body"], stamp, stamp, uid) for uid, pid, data, _ in noted],
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO sync_base(uid, kind, version, data) "
                "VALUES (?, 'note', ?, ?)",
                [(uid, v, data) for uid, _, data, v in noted],
            )
            # The import indexed every paper; those given tags or notes just now again,
            # once (their abstracts are as the import indexed them).
            again = {pid for pid, _ in tagged} | {pid for _, pid, _, _ in noted}
            if again:
                self.personal.after_change(sorted(again), modified=False, abstract=False)
            self._set_base(BLOCKS, "blocks", int(blocks_version), blocks_doc)
            self._install_triggers()
            self.conn.execute("DELETE FROM sync_dirty")
            self.store.set_setting(URL_SETTING, without_password(conninfo))
            self.store.set_setting(GROUP_ID_SETTING, meta.get("group", ""))
            self.store.set_setting(SEEN_SETTING, top)
        self._place_files(downloaded)
        report.pulled = len(rows)
        report.version = top
        return report

    def status(self, *, ask_server: bool = True) -> GroupStatus:
        url = self._require()
        pending = int(self.conn.execute("SELECT count(*) FROM sync_dirty").fetchone()[0])
        pending += int(
            self.conn.execute("SELECT count(*) FROM papers WHERE uid IS NULL").fetchone()[0]
        )
        status = GroupStatus(
            shown(url),
            str(self.store.get_setting(GROUP_ID_SETTING, "")),
            self.seen(),
            pending,
            self.conflict_count(),
        )
        if not ask_server:
            return status
        try:
            server = connect(url, autocommit=True, timeout=5)
        except GroupError as exc:
            return replace(status, problem=str(exc))
        import psycopg

        try:
            latest = int(_value(server.execute(f"SELECT version FROM {SCHEMA}.counter").fetchone()))
            writable = bool(
                _value(
                    server.execute(
                        "SELECT has_table_privilege(%s, 'UPDATE')", [f"{SCHEMA}.counter"]
                    ).fetchone()
                )
            )
            share_files = self._shares_files(server)
        except psycopg.Error as exc:
            return replace(status, problem=_first_line(exc))
        finally:
            server.close()
        return replace(status, latest=latest, writable=writable, share_files=share_files)

    def set_note_shared(self, note_id: int, shared: bool) -> Changes:
        """Share a note with the group (or take it back: the group loses it, this library
        keeps it as a personal note). Undoable."""
        with self.store.write() as w:
            row = self.conn.execute(
                "SELECT paper_id, shared FROM notes WHERE id = ?", [note_id]
            ).fetchone()
            if row is None:
                raise LibraryError(f"note {note_id} no longer exists")
            if bool(row[1]) == shared:
                return Changes()
            w.capture("notes", "id", [note_id])
            self.conn.execute(
                "UPDATE notes SET shared = ?, uid = ? WHERE id = ?",
                [int(shared), new_uid() if shared and self.conninfo else None, note_id],
            )
        return w.result(Changes(papers={int(row[0])}, notes=True, note_ids={note_id}))

    # -- conflicts -------------------------------------------------------------------------

    def conflict_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM sync_conflicts").fetchone()[0])

    def conflicts(self) -> list[Conflict]:
        return [
            Conflict(cid, uid, pid, key or "", part, json.loads(b), json.loads(m), json.loads(t))
            for cid, uid, pid, key, part, b, m, t in self.conn.execute(
                "SELECT c.id, c.uid, p.id, p.key, c.part, c.base, c.mine, c.theirs "
                "FROM sync_conflicts c LEFT JOIN papers p ON p.uid = c.uid ORDER BY p.key, c.part"
            )
        ]

    def resolve(self, conflict_ids: Iterable[int], keep: str) -> Changes:
        """Settle conflicts in one write: ``keep`` "mine" (this library's value goes to the
        group) or "theirs" (the group's value comes here). Undo brings them all back."""
        if keep not in ("mine", "theirs"):
            raise ValueError(keep)
        changes = Changes(settings={"group_conflicts"})
        with self.store.write() as w:
            for conflict_id in dict.fromkeys(conflict_ids):
                row = self.conn.execute(
                    "SELECT c.uid, c.part, c.theirs, p.id FROM sync_conflicts c "
                    "LEFT JOIN papers p ON p.uid = c.uid WHERE c.id = ?",
                    [conflict_id],
                ).fetchone()
                if row is None:
                    raise LibraryError("that conflict was settled already")
                uid, part, theirs, pid = row
                w.capture("sync_conflicts", "id", [conflict_id])
                self.conn.execute("DELETE FROM sync_conflicts WHERE id = ?", [conflict_id])
                if pid is not None:
                    changes.papers.add(int(pid))
                    if keep == "theirs":
                        here = self._entries([uid])[uid].entry
                        wanted = with_parts(here, {part: json.loads(theirs)})
                        self._put_entry(int(pid), uid, wanted, SyncReport(), changes, True)
                        changes.fields = True
                self._mark_dirty(uid)
            self._settle()
        return w.result(changes)


def grant(conninfo: str, role: str, *, writer: bool) -> None:
    """Let a PostgreSQL role read the group (and, as a writer, change it)."""
    import psycopg
    from psycopg import sql

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$.-]*", role):
        raise GroupError(f"{role!r} is not a role name")
    server = connect(conninfo, autocommit=True)
    try:
        # Statements composed by psycopg: names quoted as identifiers, the rest fixed words.
        r = sql.Identifier(role)
        s = sql.Identifier(SCHEMA)
        statement = sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r)
        server.execute(statement)
        statement = sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(s, r)
        server.execute(statement)
        writes = [
            ("counter", "UPDATE"),
            ("entries", "INSERT, UPDATE"),
            ("notes", "INSERT, UPDATE"),
            ("blocks", "UPDATE"),
            ("meta", "INSERT, UPDATE"),  # whether files are shared
            ("files", "INSERT"),
        ]
        template = "GRANT {} ON {}.{} TO {}" if writer else "REVOKE {} ON {}.{} FROM {}"
        for table, rights in writes:
            statement = sql.SQL(template).format(sql.SQL(rights), s, sql.Identifier(table), r)
            server.execute(statement)
    except psycopg.Error as exc:
        raise GroupError(f"cannot grant {role} on {shown(conninfo)}: {_first_line(exc)}") from None
    finally:
        server.close()
