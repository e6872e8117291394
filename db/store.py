"""The library file as SQLite sees it: the one module of ``db`` that imports sqlite3.

An open library is a :class:`Store`: its connection, write transactions, settings and
``data_version``. Around it are what works on library files as files (header checks,
SQLite's online copy, migrations) and what tells SQLite's errors apart, by
``sqlite_errorcode`` rather than by their wording, so that a lock, damage and a refused
query each become what a person can act on.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import sqlite_utils

from . import schema
from .errors import LibraryDamagedError, LibraryError, LibraryLockedError, LibraryTooNewError
from .options import LibrarySetting
from .undolog import Recording
from .values import Changes

T = TypeVar("T")

#: SQLite's own errors, named here so that nothing outside db/ imports sqlite3.
SQLiteError = sqlite3.Error
Connection = sqlite3.Connection
DatabaseError = sqlite3.DatabaseError

#: How long a write waits for another Citedesk's before giving up.
BUSY_TIMEOUT_MS = 10_000
#: Page size of new libraries. A paper's row is about 5 KB (its BibTeX twice, as written
#: and as fields, and its abstract): on 4 KB pages each row spills to an overflow page,
#: on 16 KB pages three fit. Importing 100,000 papers took 3 s less (25.1 s, not 28.1,
#: counting the checkpoint). Libraries made before keep the size they have.
PAGE_SIZE = 16384
#: Files up to this size get ``PRAGMA quick_check`` when opened: about 20 ms at this size,
#: and 1 s for a 900 MB library of 100,000 papers (measured on 2 cores), too slow for every
#: start. Larger files get the header checks of :func:`file_problem` only.
QUICK_CHECK_MAX_BYTES = 16 << 20

_SQLITE_MAGIC = b"SQLite format 3\x00"


# -- telling SQLite's errors apart ------------------------------------------------------------


def _code(exc: BaseException) -> int | None:
    """SQLite's primary result code of an error (extended codes carry it in the low byte)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(exc, sqlite3.Error) and code is not None else None


def locked(exc: BaseException) -> bool:
    """Another connection held the file (SQLITE_BUSY) or a table of it (SQLITE_LOCKED)."""
    return _code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def rejected(exc: BaseException) -> bool:
    """SQLite refused a statement as written (SQLITE_ERROR): from a search, FTS5 refusing
    its query. A lock, damage or a full disk is not a refusal."""
    return isinstance(exc, sqlite3.OperationalError) and _code(exc) == sqlite3.SQLITE_ERROR


def violated(exc: BaseException) -> bool:
    """A write broke a constraint (SQLITE_CONSTRAINT): a key in use, a row it needs gone."""
    return _code(exc) == sqlite3.SQLITE_CONSTRAINT


@contextmanager
def sqlite_errors(
    busy: Callable[[Exception], LibraryError], damaged: Callable[[Exception], LibraryError]
) -> Iterator[None]:
    """SQLite's errors inside as errors for people: ``busy(exc)`` when another program held
    the file, ``damaged(exc)`` for anything else SQLite says of it."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise (busy if locked(exc) else damaged)(exc) from None


# -- library files ----------------------------------------------------------------------------


def file_problem(path: str | os.PathLike[str]) -> str | None:
    """What is wrong with a file as an SQLite database, judged from its header; None if fine.

    Cheap (reads 100 bytes), so it runs on every open: it finds garbage, a file of another
    kind and a database cut short (the header says how many pages there should be).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size == 0:
        return "is empty (0 bytes)"
    if not header.startswith(_SQLITE_MAGIC):
        return "is not a Citedesk library (not an SQLite database)"
    if len(header) < 100:
        return f"is truncated ({size} bytes, less than an SQLite header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "has a damaged header (impossible page size)"
    pages = int.from_bytes(header[28:32], "big")
    if header[24:28] == header[92:96] and pages and size < pages * page_size:
        return (
            f"is truncated: {size:,} bytes where its header counts {pages * page_size:,} "
            "(the end of the file is missing)"
        )
    if size % page_size:
        return f"is truncated ({size:,} bytes is not a whole number of {page_size}-byte pages)"
    return None


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)


def connect_file(path: Path) -> sqlite3.Connection:
    """A plain connection to an existing library file that passes the header checks."""
    if not path.is_file():
        raise LibraryError(f"no library at {path}")
    problem = file_problem(path)
    if problem:
        raise LibraryDamagedError(f"{path} {problem}", path=path)
    return _connect(path)


def read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection usable from any thread (one at a time): for a reader that
    must not write, nor make an open window think the file changed."""
    uri = path.absolute().as_uri() + "?mode=ro"
    return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=1.0)


def check_file(path: Path, *, quick_check: bool = True) -> tuple[int, int]:
    """Check a file is a Citedesk library this program can open; return (version, papers).

    Raises LibraryDamagedError or LibraryTooNewError, with a message for people.
    """
    if not path.is_file():
        raise LibraryError(f"{path}: no such file")
    problem = file_problem(path)
    if problem:
        raise LibraryDamagedError(f"{path} {problem}", path=path)
    conn = _connect(path)
    try:
        with sqlite_errors(
            lambda exc: LibraryLockedError(f"{path} is busy in another program: {exc}"),
            lambda exc: LibraryDamagedError(f"{path} is damaged: {exc}", path=path),
        ):
            if quick_check:
                result = conn.execute("PRAGMA quick_check").fetchone()[0]
                if result != "ok":
                    raise LibraryDamagedError(f"{path} is damaged: {result}", path=path)
            version = schema_version(conn)
            if version > schema.SCHEMA_VERSION:
                raise LibraryTooNewError(
                    f"{path} was written by a newer Citedesk (library version {version}; this "
                    f"Citedesk knows up to {schema.SCHEMA_VERSION})"
                )
            has_papers = conn.execute(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'papers'"
            ).fetchone()
            if version < 1 or not has_papers:
                raise LibraryDamagedError(
                    f"{path} is an SQLite database but not a Citedesk library", path=path
                )
            papers = int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])
    finally:
        conn.close()
    return version, papers


def read_setting(path: Path, name: str, default: Any) -> Any:
    """A setting of a library that is not open; ``default`` when it cannot be read."""
    conn = connect_file(path)
    try:
        row = conn.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
    except sqlite3.DatabaseError:
        row = None
    finally:
        conn.close()
    return json.loads(row[0]) if row else default


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_copy(src: sqlite3.Connection, dest: Path) -> None:
    """Write ``src`` to ``dest`` through a temporary file: ``dest`` is whole or untouched."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        target = sqlite3.connect(str(tmp))
        try:
            src.backup(target)  # one step: a consistent snapshot, writers in WAL go on
            # A backup is a single self-contained file, not a WAL database.
            target.execute("PRAGMA journal_mode = DELETE")
            result = target.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise LibraryDamagedError(
                    f"the library is damaged ({result}); no backup was written"
                )
        finally:
            target.close()
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            try:
                leftover.unlink()
            except OSError:
                pass
        raise
    _fsync_dir(dest.parent)


def copy_file(src: Path, dest: Path) -> None:
    """Copy a library file that is not open to ``dest`` (see :func:`write_copy`)."""
    conn = connect_file(src)
    try:
        write_copy(conn, dest)
    finally:
        conn.close()


def overwrite(src: Path, dest: Path) -> None:
    """Make the library at ``dest`` a copy of ``src`` through SQLite, so that a program that
    has ``dest`` open sees the change."""
    source = _connect(src)
    try:
        target = _connect(dest)
        try:
            source.backup(target)
            target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            target.close()
    finally:
        source.close()


# -- the schema -------------------------------------------------------------------------------


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this file lacks, each in its own transaction; return how many."""
    version = schema_version(conn)
    applied = 0
    for number in range(version + 1, schema.SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(schema.MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied += 1
    return applied


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit on its own)."""
    out, current = [], []
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        joined = "\n".join(current)
        if joined.rstrip().endswith(";") and sqlite3.complete_statement(joined):
            out.append(joined.strip())
            current = []
    if "\n".join(current).strip():
        out.append("\n".join(current).strip())
    return out


# -- an open library --------------------------------------------------------------------------


class DamagedFile(LibraryDamagedError):
    """The file cannot be a library; whoever opened it words the error (naming a backup)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path} {problem}; it was left untouched.", path=path)
        self.problem = problem


class Store:
    """One open library file: its connection, write transactions and settings.

    The parts of :class:`db.Library` each take the store and share its connection.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.db = sqlite_utils.Database(conn)
        #: Run after the outermost write commits (the command line's auto-exports).
        self.after_commit: list[Callable[[], None]] = []
        #: Run after a write rolled back: caches read inside it may hold what is gone.
        self.after_rollback: list[Callable[[], None]] = []
        #: Run inside the outermost write, just before it commits, with its undo log: a
        #: step that follows from what the write did (stored files renamed with their key).
        self.before_commit: list[Callable[[Recording], None]] = []
        self._recording: Recording | None = None

    @classmethod
    def open(
        cls, path: Path, *, new: bool, before_migration: Callable[[Store, int], object]
    ) -> Store:
        """Connect to a library file, check it and bring its schema up to date.

        ``before_migration(store, version)`` runs before an older schema is changed (it
        writes a backup). A file that is refused is left as it is: :class:`DamagedFile`,
        LibraryTooNewError, or LibraryLockedError while another program holds it.
        """
        conn: sqlite3.Connection | None = None
        with sqlite_errors(
            lambda exc: LibraryLockedError(f"{path} is busy in another program: {exc}"),
            lambda exc: DamagedFile(path, f"cannot be read as a library ({exc})"),
        ):
            try:
                conn = sqlite3.connect(
                    str(path),
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                )
                return cls._checked(conn, path, new, before_migration)
            except BaseException:
                if conn is not None:
                    conn.close()
                raise

    @classmethod
    def _checked(
        cls,
        conn: sqlite3.Connection,
        path: Path,
        new: bool,
        before_migration: Callable[[Store, int], object],
    ) -> Store:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = schema_version(conn)
        if not new:
            # Before anything is written: a damaged or foreign file is left as it is.
            _check_readable(conn, path, version)
        if version > schema.SCHEMA_VERSION:
            raise LibraryTooNewError(
                f"{path} was written by a newer Citedesk (library version {version}; this "
                f"Citedesk knows up to {schema.SCHEMA_VERSION}). Update Citedesk to open it; "
                "the file was left untouched."
            )
        if new:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before the first table
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        store = cls(conn, path)
        if 0 < version < schema.SCHEMA_VERSION:
            before_migration(store, version)
        migrate(conn)
        return store

    def close(self, optimize: bool = True) -> None:
        """Close the connection; ``optimize``: let SQLite refresh its statistics first (it
        may run ANALYZE: 1.6 s at 100,000 papers after many writes, holding the write lock,
        so a worker thread beside a window skips it and the window does it on closing)."""
        if optimize:
            try:
                self.conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[Recording]:
        """One write transaction, taken at once so two processes queue instead of failing.

        Yields the transaction's :class:`Recording` (a nested write shares the outer one's).
        """
        if self.conn.in_transaction:
            # Nested: sqlite-utils' atomic() makes a savepoint.
            with self.db.atomic():
                yield self._recording or Recording(self.conn)
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise LibraryLockedError(
                f"the library is busy in another Citedesk for over "
                f"{BUSY_TIMEOUT_MS // 1000} s: {exc}"
            ) from None
        self._recording = Recording(self.conn)
        try:
            yield self._recording
            for step in self.before_commit:
                step(self._recording)
        except BaseException:
            self._recording = None
            self.conn.execute("ROLLBACK")
            for hook in self.after_rollback:
                hook()
            raise
        self._recording = None
        try:
            self.conn.execute("COMMIT")  # deferred foreign keys are checked here
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            for hook in self.after_rollback:
                hook()
            raise
        for hook in self.after_commit:
            hook()

    def recording(self) -> Recording:
        """The undo log of the write under way (for a step that runs inside one)."""
        if self._recording is None:
            raise RuntimeError("not inside a write")
        return self._recording

    def data_version(self) -> int:
        """Changes when another connection commits; a window polls it to notice them."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def get_setting(self, name: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
        return json.loads(row[0]) if row else default

    def setting(self, setting: LibrarySetting[T]) -> T:
        """A declared library-wide setting (db/options.py), its default when never set."""
        return cast("T", self.get_setting(setting.name, setting.fresh_default()))

    def change_setting(self, setting: LibrarySetting[T], value: T) -> Changes:
        return self.set_setting(setting.name, value)

    def set_setting(self, name: str, value: Any) -> Changes:
        """Write a library-wide setting; the change names it (and can be undone)."""
        with self.write() as w:
            w.capture("settings", "name", [name])
            self.conn.execute(
                "INSERT INTO settings(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                [name, json.dumps(value)],
            )
        return w.result(Changes(settings={name}))

    def copy_to(self, dest: Path) -> None:
        """Copy the library, as it is now, to ``dest`` (see :func:`write_copy`)."""
        write_copy(self.conn, dest)


def _check_readable(conn: sqlite3.Connection, path: Path, version: int) -> None:
    """Refuse a file SQLite can open but that is not a sound Citedesk library.

    The schema is read always (cheap); ``PRAGMA quick_check`` runs for files up to
    QUICK_CHECK_MAX_BYTES (about 20 ms there; 1 s at 900 MB, too slow for a start).
    """
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_schema")}
    if version == 0 and tables:
        raise LibraryDamagedError(
            f"{path} is an SQLite database of another program, not a Citedesk library; it was "
            "left untouched",
            path=path,
        )
    if 0 < version <= schema.SCHEMA_VERSION and "papers" not in tables:
        raise DamagedFile(path, "has lost its papers table")
    if path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            # One line, whatever SQLite says: its report can run to a line per bad cell.
            found = [
                ln.strip() for ln in result.splitlines() if ln.strip() and not ln.startswith("***")
            ] or [result.strip()]
            more = f", and {len(found) - 1} more problems" if len(found) > 1 else ""
            raise DamagedFile(path, f"is damaged (SQLite's check says: {found[0]}{more})")
