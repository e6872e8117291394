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

No Qt here: the window and the command line both call these functions. What SQLite does
(the copy, the checks) is in :mod:`db.store`; here is where backups go and how many stay.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Protocol

from . import options
from . import store as store_mod
from .errors import LibraryDamagedError, LibraryError, LibraryLockedError, LibraryTooNewError
from .store import Store, file_problem

BACKUP_DIR = "backups"
KEEP_SETTING = options.BACKUP_KEEP.name
DEFAULT_KEEP = options.BACKUP_KEEP.default

_STAMP = "%Y%m%d-%H%M%S"


class OpenLibrary(Protocol):
    """An open library (a :class:`db.Library`): a backup reads it over its connection."""

    @property
    def store(self) -> Store: ...


def _library_path(library: OpenLibrary | str | os.PathLike[str]) -> Path:
    if isinstance(library, str | os.PathLike):
        return Path(library).expanduser()
    return library.store.path.expanduser()


def stamp(now: datetime | None = None) -> str:
    return (now or datetime.now()).strftime(_STAMP)


def backup_dir(library_path: str | os.PathLike[str]) -> Path:
    return Path(library_path).expanduser().parent / BACKUP_DIR


def unique_path(path: Path) -> Path:
    if not path.exists():
        return path
    for n in range(2, 10_000):
        name = f"{path.stem}-{n}{path.suffix}" if path.suffix == ".sqlite" else f"{path.name}-{n}"
        candidate = path.with_name(name)
        if not candidate.exists():
            return candidate
    raise LibraryError(f"too many backups named like {path}")


def default_dest(
    library_path: str | os.PathLike[str], *, auto: bool = False, now: datetime | None = None
) -> Path:
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


def damaged(path: Path, problem: str) -> LibraryDamagedError:
    """The error for a damaged library file, naming the newest backup when there is one."""
    newest = newest_backup(path)
    if newest is not None:
        advice = (
            f" The newest backup is {newest}; restore it with: "
            f"citedesk --library {path} restore {newest}"
        )
    else:
        advice = " No backup of it was found."
    return LibraryDamagedError(
        f"{path} {problem}; it was left untouched.{advice}", path=path, backup=newest
    )


def check_library(path: str | os.PathLike[str], *, quick_check: bool = True) -> tuple[int, int]:
    """Check a file is a Citedesk library this program can open; return (version, papers).

    Raises LibraryDamagedError or LibraryTooNewError, with a message for people.
    """
    return store_mod.check_file(Path(path), quick_check=quick_check)


# -- making backups -------------------------------------------------------------------------------


def before_migration(store: Store, version: int) -> Path:
    """Copy the library aside (SQLite online backup) before changing its schema."""
    dest = unique_path(store.path.with_name(f"{store.path.name}.v{version}-{stamp()}.bak"))
    store.copy_to(dest)  # whole or absent, and checked
    return dest


def backup(
    source: OpenLibrary | str | os.PathLike[str], dest: str | os.PathLike[str] | None = None
) -> Path:
    """Copy a library (an open :class:`Library` or a path) to ``dest`` with SQLite's online
    backup; ``dest`` may be a folder. Default: a timestamped file in ``backups/``.

    Returns the backup's path. The library is only read, and may be in use meanwhile.
    """
    lib_path = _library_path(source)
    if dest is None:
        target = default_dest(lib_path)
    else:
        target = Path(dest).expanduser()
        if target.is_dir():
            target = unique_path(target / f"{lib_path.stem}-{stamp()}.sqlite")
    if target.resolve() == lib_path.resolve():
        raise LibraryError(f"{target} is the library itself; choose another file")
    try:
        with store_mod.sqlite_errors(
            lambda exc: LibraryLockedError(f"{lib_path} stayed busy in another program: {exc}"),
            lambda exc: LibraryDamagedError(
                f"{lib_path} cannot be backed up, it is damaged: {exc}", path=lib_path
            ),
        ):
            if isinstance(source, str | os.PathLike):
                store_mod.copy_file(lib_path, target)
            else:
                source.store.copy_to(target)
    except OSError as exc:
        raise LibraryError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def rotate(
    library: OpenLibrary | str | os.PathLike[str],
    keep: int | None = None,
    *,
    now: datetime | None = None,
) -> Path | None:
    """The daily automatic backup: make one if none was made today, keep the newest ``keep``.

    ``keep`` defaults to the library's ``backup_keep`` setting (7); 0 turns automatic
    backups off (those made keep). Returns the new backup, or None when today's exists.
    Backups asked for by hand are never deleted here.
    """
    lib_path = _library_path(library)
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


def _keep_setting(library: OpenLibrary | str | os.PathLike[str]) -> int:
    if isinstance(library, str | os.PathLike):
        return int(store_mod.read_setting(Path(library), KEEP_SETTING, DEFAULT_KEEP))
    return int(library.store.setting(options.BACKUP_KEEP))


# -- restoring ------------------------------------------------------------------------------------


def replaced_name(library_path: Path, now: datetime | None = None) -> Path:
    return unique_path(library_path.with_name(f"{library_path.name}.replaced-{stamp(now)}"))


def restore(
    backup_path: str | os.PathLike[str], library_path: str | os.PathLike[str]
) -> Path | None:
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
            check_library(
                lib_path, quick_check=lib_path.stat().st_size <= store_mod.QUICK_CHECK_MAX_BYTES
            )
            healthy = True
        except (LibraryDamagedError, LibraryTooNewError):
            healthy = False
    with store_mod.sqlite_errors(
        lambda exc: LibraryLockedError(
            f"{lib_path} stayed busy in another program; close it and try again ({exc})"
        ),
        lambda exc: LibraryDamagedError(f"restoring {src_path} failed: {exc}", path=lib_path),
    ):
        if healthy:
            kept = backup(lib_path, replaced_name(lib_path))
            store_mod.overwrite(src_path, lib_path)
        else:
            if lib_path.exists():
                kept = replaced_name(lib_path)
                os.replace(lib_path, kept)
                for suffix in ("-wal", "-journal"):
                    side = Path(f"{lib_path}{suffix}")
                    if side.exists():
                        os.replace(side, Path(f"{kept}{suffix}"))
                Path(f"{lib_path}-shm").unlink(missing_ok=True)
            store_mod.copy_file(src_path, lib_path)
    return kept
