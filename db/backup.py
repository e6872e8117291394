"""Backups of a library file: SQLite's online backup, daily rotation, restore.

A backup is a whole SQLite file written with SQLite's online backup API, so it is a
consistent snapshot even while the window or a ``citedesk`` command writes to the library;
it is written under a temporary name and renamed, so a backup file is never partial.

Where they go, beside the library ``~/.../library.sqlite``:

- ``backups/library-YYYYmmdd-HHMMSS.sqlite``: asked for (``citedesk backup``);
- ``backups/library-auto-YYYYmmdd-HHMMSS.sqlite``: the window's daily automatic backups, of
  which the newest N are kept (N is the library setting ``backup_keep``, default 7);
- ``library.sqlite.vN-YYYYmmdd-HHMMSS.bak``: written before a migration changes the schema;
- ``library.sqlite.replaced-YYYYmmdd-HHMMSS``: what a restore replaced.

No Qt here: the window and the command line both call these functions.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import schema
from .errors import LibraryDamagedError, LibraryError, LibraryTooNewError

if TYPE_CHECKING:
    from .library import Library

BACKUP_DIR = "backups"
KEEP_SETTING = "backup_keep"
DEFAULT_KEEP = 7
#: Files up to this size get ``PRAGMA quick_check`` when opened: about 20 ms at this size,
#: and 1 s for a 900 MB library of 100,000 papers (measured on 2 cores), too slow for every
#: start. Larger files get the header checks of :func:`file_problem` only.
QUICK_CHECK_MAX_BYTES = 16 << 20
BUSY_TIMEOUT_S = 10.0

_STAMP = "%Y%m%d-%H%M%S"
_SQLITE_MAGIC = b"SQLite format 3\x00"


def stamp(now: datetime | None = None) -> str:
    return (now or datetime.now()).strftime(_STAMP)


def backup_dir(library_path: str | os.PathLike[str]) -> Path:
    return Path(library_path).expanduser().parent / BACKUP_DIR


def unique_path(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(2, 10_000):
        name = (f"{path.stem}-{n}{path.suffix}" if path.suffix == ".sqlite"
                else f"{path.name}-{n}")
        candidate = path.with_name(name)
        if not candidate.exists():
            return candidate
    raise LibraryError(f"too many backups named like {path}")


def default_dest(library_path: str | os.PathLike[str], *, auto: bool = False,
                 now: datetime | None = None) -> Path:
    """A new file name in the ``backups`` folder beside the library."""
    lib = Path(library_path).expanduser()
    kind = "auto-" if auto else ""
    return unique_path(backup_dir(lib) / f"{lib.stem}-{kind}{stamp(now)}.sqlite")


def _backup_re(library_path: Path) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(library_path.stem)}-(auto-)?(\d{{8}}-\d{{6}})(-\d+)?\.sqlite$")


def backups(library_path: str | os.PathLike[str], *, auto_only: bool = False) -> list[Path]:
    """The library's backups, newest first: the ``backups`` folder and migration copies."""
    lib = Path(library_path).expanduser()
    found: list[tuple[str, float, Path]] = []
    pattern = _backup_re(lib)
    folder = backup_dir(lib)
    if folder.is_dir():
        for p in folder.iterdir():
            m = pattern.match(p.name)
            if m and (m.group(1) or not auto_only):
                found.append((m.group(2), _mtime(p), p))
    if not auto_only and lib.parent.is_dir():
        migration = re.compile(rf"^{re.escape(lib.name)}\.v\d+-(\d{{8}}-\d{{6}})\.bak(-\d+)?$")
        for p in lib.parent.iterdir():
            m = migration.match(p.name)
            if m:
                found.append((m.group(1), _mtime(p), p))
    found.sort(key=lambda t: (t[0], t[1], t[2].name), reverse=True)
    return [p for _, _, p in found]


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def newest_backup(library_path: str | os.PathLike[str]) -> Path | None:
    """The newest backup that is a readable library, or None."""
    for p in backups(library_path):
        if file_problem(p) is None:
            return p
    return None


# -- checking files -------------------------------------------------------------------------------

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
        return (f"is truncated: {size:,} bytes where its header counts {pages * page_size:,} "
                "(the end of the file is missing)")
    if size % page_size:
        return f"is truncated ({size:,} bytes is not a whole number of {page_size}-byte pages)"
    return None


def check_library(path: str | os.PathLike[str], *, quick_check: bool = True) -> tuple[int, int]:
    """Check a file is a Citedesk library this program can open; return (version, papers).

    Raises LibraryDamagedError or LibraryTooNewError, with a message for people.
    """
    p = Path(path)
    if not p.is_file():
        raise LibraryError(f"{p}: no such file")
    problem = file_problem(p)
    if problem:
        raise LibraryDamagedError(f"{p} {problem}", path=p)
    conn = sqlite3.connect(str(p), timeout=BUSY_TIMEOUT_S)
    try:
        if quick_check:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise LibraryDamagedError(f"{p} is damaged: {result}", path=p)
        version = schema.schema_version(conn)
        if version > schema.SCHEMA_VERSION:
            raise LibraryTooNewError(
                f"{p} was written by a newer Citedesk (library version {version}; this "
                f"Citedesk knows up to {schema.SCHEMA_VERSION})")
        has_papers = conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'papers'").fetchone()
        if version < 1 or not has_papers:
            raise LibraryDamagedError(
                f"{p} is an SQLite database but not a Citedesk library", path=p)
        papers = int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise LibraryDamagedError(f"{p} is damaged: {exc}", path=p) from None
    finally:
        conn.close()
    return version, papers


# -- making backups -------------------------------------------------------------------------------

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
                raise LibraryDamagedError(f"the library is damaged ({result}); no backup "
                                          "was written")
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


def _connect_existing(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise LibraryError(f"no library at {path}")
    problem = file_problem(path)
    if problem:
        raise LibraryDamagedError(f"{path} {problem}", path=path)
    return sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)


def backup(source: Library | str | os.PathLike[str],
           dest: str | os.PathLike[str] | None = None) -> Path:
    """Copy a library (an open :class:`Library` or a path) to ``dest`` with SQLite's online
    backup; ``dest`` may be a folder. Default: a timestamped file in ``backups/``.

    Returns the backup's path. The library is only read, and may be in use meanwhile.
    """
    lib_path = Path(source.path) if hasattr(source, "conn") else Path(source)  # type: ignore[arg-type,union-attr]
    lib_path = lib_path.expanduser()
    if dest is None:
        target = default_dest(lib_path)
    else:
        target = Path(dest).expanduser()
        if target.is_dir():
            target = unique_path(target / f"{lib_path.stem}-{stamp()}.sqlite")
    if target.resolve() == lib_path.resolve():
        raise LibraryError(f"{target} is the library itself; choose another file")
    try:
        if hasattr(source, "conn"):
            write_copy(source.conn, target)  # type: ignore[union-attr]
        else:
            conn = _connect_existing(lib_path)
            try:
                write_copy(conn, target)
            finally:
                conn.close()
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise LibraryError(f"{lib_path} stayed busy in another program: {exc}") from None
        raise LibraryDamagedError(f"{lib_path} cannot be backed up, it is damaged: {exc}",
                                  path=lib_path) from None
    except OSError as exc:
        raise LibraryError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def rotate(library: Library | str | os.PathLike[str], keep: int | None = None, *,
           now: datetime | None = None) -> Path | None:
    """The daily automatic backup: make one if none was made today, keep the newest ``keep``.

    ``keep`` defaults to the library's ``backup_keep`` setting (7); 0 turns automatic
    backups off (those made keep). Returns the new backup, or None when today's exists.
    Backups asked for by hand are never deleted here.
    """
    lib_path = Path(library.path if hasattr(library, "conn") else library).expanduser()  # type: ignore[union-attr,arg-type]
    if keep is None:
        keep = _keep_setting(library)
    keep = int(keep)
    if keep <= 0:
        return None
    now = now or datetime.now()
    made = None
    autos = backups(lib_path, auto_only=True)
    today = now.strftime("%Y%m%d")
    pattern = _backup_re(lib_path)
    newest_day = None
    if autos:
        m = pattern.match(autos[0].name)
        newest_day = m.group(2)[:8] if m else None
    if newest_day != today:
        made = backup(library, default_dest(lib_path, auto=True, now=now))
        autos = backups(lib_path, auto_only=True)
    for old in autos[keep:]:
        try:
            old.unlink()
        except OSError:
            pass
    return made


def _keep_setting(library: Library | str | os.PathLike[str]) -> int:
    if hasattr(library, "get_setting"):
        return int(library.get_setting(KEEP_SETTING, DEFAULT_KEEP))  # type: ignore[union-attr]
    conn = _connect_existing(Path(library))  # type: ignore[arg-type]
    try:
        row = conn.execute("SELECT value FROM settings WHERE name = ?", [KEEP_SETTING]).fetchone()
    except sqlite3.DatabaseError:
        row = None
    finally:
        conn.close()
    import json

    return int(json.loads(row[0])) if row else DEFAULT_KEEP


# -- restoring ------------------------------------------------------------------------------------

def replaced_name(library_path: Path, now: datetime | None = None) -> Path:
    return unique_path(library_path.with_name(f"{library_path.name}.replaced-{stamp(now)}"))


def restore(backup_path: str | os.PathLike[str],
            library_path: str | os.PathLike[str]) -> Path | None:
    """Make the library a copy of ``backup_path``; return where the replaced file was kept.

    The backup is checked first (a readable Citedesk library this program can open). A
    readable library is copied aside with the online backup and then overwritten through
    SQLite, so a window that has it open sees the change; a damaged one is renamed aside
    (with its ``-wal``) and the backup copied in its place. Returns None when there was no
    library to replace.
    """
    src_path = Path(backup_path).expanduser()
    lib_path = Path(library_path).expanduser()
    if src_path.resolve() == lib_path.resolve():
        raise LibraryError(f"{src_path} is the library itself")
    check_library(src_path)
    kept: Path | None = None
    healthy = False
    if lib_path.exists() and lib_path.stat().st_size > 0:
        try:
            check_library(lib_path, quick_check=lib_path.stat().st_size <= QUICK_CHECK_MAX_BYTES)
            healthy = True
        except (LibraryDamagedError, LibraryTooNewError):
            healthy = False
    src = sqlite3.connect(str(src_path), timeout=BUSY_TIMEOUT_S)
    try:
        if healthy:
            kept = backup(lib_path, replaced_name(lib_path))
            dst = sqlite3.connect(str(lib_path), timeout=BUSY_TIMEOUT_S)
            try:
                src.backup(dst)
                dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                dst.close()
        else:
            if lib_path.exists():
                kept = replaced_name(lib_path)
                os.replace(lib_path, kept)
                for suffix in ("-wal", "-journal"):
                    side = Path(f"{lib_path}{suffix}")
                    if side.exists():
                        os.replace(side, Path(f"{kept}{suffix}"))
                Path(f"{lib_path}-shm").unlink(missing_ok=True)
            write_copy(src, lib_path)
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise LibraryError(f"{lib_path} stayed busy in another program; close it and try "
                               f"again ({exc})") from None
        raise LibraryDamagedError(f"restoring {src_path} failed: {exc}", path=lib_path) from None
    finally:
        src.close()
    return kept
