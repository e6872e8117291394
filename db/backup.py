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

A backup *with files* (``citedesk backup --with-files``) is the same SQLite file plus a
companion archive beside it, ``<backup>.files.zip``, holding the stored files the backup's
rows name (read from the backup itself, so the two agree even while the library changes:
a file detached meanwhile is taken from the trash by its hash). The database stays a plain
backup that every tool here lists, checks and restores; the archive is optional and is
written under a temporary name and renamed, like the database. It holds ``MANIFEST`` (JSON:
each file's stored name, SHA-256 and size) and ``files/<stored name>`` entries, stored
uncompressed (PDFs are compressed already). :func:`restore_files` brings them back by hash,
never overwriting a different file of the same name (that one goes to ``replaced-<time>/``
in the files folder).

No Qt here: the window and the command line both call these functions. What SQLite does
(the copy, the checks) is in :mod:`db.store`; here is where backups go and how many stay.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from . import options
from . import store as store_mod
from .attachments import TRASH, file_hash, folder_of
from .errors import LibraryDamagedError, LibraryError, LibraryLockedError, LibraryTooNewError
from .store import Store, file_problem

BACKUP_DIR = "backups"
KEEP_SETTING = options.BACKUP_KEEP.name
DEFAULT_KEEP = options.BACKUP_KEEP.default

_STAMP = "%Y%m%d-%H%M%S"

#: The companion archive of a backup with files: ``<backup name>.files.zip``.
FILES_SUFFIX = ".files.zip"
#: In the archive: the list of files (JSON), and the folder the files are in.
MANIFEST = "MANIFEST"
_IN_ARCHIVE = "files/"
_ARCHIVE_FORMAT = 1
_CHUNK = 1 << 20


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
    source: OpenLibrary | str | os.PathLike[str],
    dest: str | os.PathLike[str] | None = None,
    *,
    with_files: bool = False,
) -> Path:
    """Copy a library (an open :class:`Library` or a path) to ``dest`` with SQLite's online
    backup; ``dest`` may be a folder. Default: a timestamped file in ``backups/``.

    Returns the backup's path. The library is only read, and may be in use meanwhile.
    ``with_files``: the stored files too, in the companion archive (:func:`backup_with_files`).
    """
    if with_files:
        return backup_with_files(source, dest).database
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


# -- backups with files --------------------------------------------------------------------------


def files_archive(backup_path: str | os.PathLike[str]) -> Path:
    """Where a backup's stored files are (or would be): ``<backup name>.files.zip``."""
    p = Path(backup_path).expanduser()
    return p.with_name(p.name + FILES_SUFFIX)


@dataclass
class FilesBackup:
    """A backup with files: the database, its files archive, and what the archive holds."""

    database: Path
    archive: Path
    files: int = 0
    size: int = 0
    #: Stored names the backup lists whose file was found neither in place nor in the trash
    #: (the library misses them too: ``citedesk files --missing``).
    missing: list[str] = field(default_factory=list)


@dataclass
class FilesRestore:
    """What :func:`restore_files` did in the files folder."""

    archive: Path
    files_dir: Path
    #: Written from the archive (or the trash) into the files folder.
    restored: list[str] = field(default_factory=list)
    #: Already in place with the right content: left alone.
    kept: list[str] = field(default_factory=list)
    #: A different file had the name: moved here before the backup's file took its place.
    set_aside: dict[str, Path] = field(default_factory=dict)
    #: Still not in place, with the reason.
    missing: list[tuple[str, str]] = field(default_factory=list)


def files_dir_of(library_path: Path, settings_from: Path | None = None) -> Path:
    """The files folder of the library at ``library_path`` (its ``files_dir`` setting, read
    from ``settings_from`` when given, taken from the library's folder when relative): the
    same rule as :attr:`db.attachments.Attachments.files_dir`, for a library not open."""
    setting = store_mod.read_setting(
        settings_from or library_path, options.FILES_DIR.name, options.FILES_DIR.default
    )
    return folder_of(library_path, str(setting or ""))


def _stored_rows(db_file: Path) -> list[tuple[str, str | None, int | None]]:
    """The stored files a library file names: (stored name, hash, size)."""
    conn = store_mod.connect_file(db_file)
    try:
        rows = conn.execute(
            "SELECT path, max(hash), max(size) FROM attachments WHERE stored = 1 "
            "GROUP BY path ORDER BY path"
        ).fetchall()
    except store_mod.DatabaseError:
        rows = []  # a library from before attachments (schema < 5)
    finally:
        conn.close()
    return [(str(p), h, s) for p, h, s in rows]


def _with_content(candidates: list[Path], digest: str | None, size: int | None) -> Path | None:
    """The first of ``candidates`` that has this content (any that exists, without a hash)."""
    for c in candidates:
        try:
            if not c.is_file() or (size is not None and c.stat().st_size != size):
                continue
            if digest is None or file_hash(c) == digest:
                return c
        except OSError:
            continue
    return None


def _inside(folder: Path, name: str) -> Path | None:
    """``folder / name`` if that stays inside ``folder`` (a crafted backup cannot write
    elsewhere), else None."""
    target = folder / name
    try:
        target.resolve().relative_to(folder.resolve())
    except ValueError:
        return None
    return target


def archive_files(db_file: Path, files_dir: Path, archive: Path) -> FilesBackup:
    """Write the stored files that the library file ``db_file`` names into ``archive``
    (a temporary name, then renamed: whole or absent)."""
    trash = files_dir / TRASH
    result = FilesBackup(db_file, archive)
    entries: list[dict[str, object]] = []
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, digest, size in _stored_rows(db_file):
                places = [files_dir / name, *([trash / digest] if digest else [])]
                src = _with_content(places, digest, size)
                if src is None or _inside(files_dir, name) is None:
                    result.missing.append(name)
                    continue
                zf.write(src, _IN_ARCHIVE + name)
                real_size = src.stat().st_size
                entries.append({"path": name, "hash": digest or file_hash(src), "size": real_size})
                result.files += 1
                result.size += real_size
            manifest = {"format": _ARCHIVE_FORMAT, "database": db_file.name, "files": entries}
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, archive)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return result


def backup_with_files(
    source: OpenLibrary | str | os.PathLike[str], dest: str | os.PathLike[str] | None = None
) -> FilesBackup:
    """:func:`backup`, then the stored files in the companion archive beside it.

    The files are those the backup's own rows name, so the two agree. When the archive
    cannot be written, the database backup is removed too: a backup with files is whole or
    absent. Files the library misses are listed in the result, not an error.
    """
    lib_path = _library_path(source)
    database = backup(source, dest)
    archive = files_archive(database)
    try:
        return archive_files(database, files_dir_of(lib_path, settings_from=database), archive)
    except BaseException as exc:
        database.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise LibraryError(
                f"cannot write {archive}: {exc.strerror or exc}; no backup was made"
            ) from None
        raise


def _manifest(zf: zipfile.ZipFile, archive: Path) -> list[dict[str, object]]:
    try:
        manifest = json.loads(zf.read(MANIFEST))
        files = manifest["files"]
        if manifest.get("format") != _ARCHIVE_FORMAT or not isinstance(files, list):
            raise ValueError(f"format {manifest.get('format')!r}")
        names = set(zf.namelist())
        for f in files:
            if _IN_ARCHIVE + str(f["path"]) not in names or not f["hash"]:
                raise ValueError(f"{f['path']} is listed but not in it")
    except (KeyError, ValueError, TypeError) as exc:
        raise LibraryError(f"{archive} is not a Citedesk files archive ({exc})") from None
    return list(files)


def check_files_archive(backup_path: str | os.PathLike[str]) -> int | None:
    """How many files the backup's archive holds; None when the backup has no archive.
    Raises LibraryError for an archive that cannot be read (before anything is restored)."""
    archive = files_archive(backup_path)
    if not archive.is_file():
        return None
    try:
        with zipfile.ZipFile(archive) as zf:
            return len(_manifest(zf, archive))
    except (zipfile.BadZipFile, OSError) as exc:
        raise LibraryError(f"{archive} cannot be read: {exc}") from None


def _extract(zf: zipfile.ZipFile, entry: str, digest: str, dest: Path) -> bool:
    """Write ``entry`` to ``dest`` (a temporary name, then renamed) if its content has
    ``digest``; False (and nothing written) when it does not."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    h = hashlib.sha256()
    try:
        with zf.open(entry) as src, tmp.open("wb") as out:
            while chunk := src.read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != digest:
            tmp.unlink()
            return False
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def restore_files(
    backup_path: str | os.PathLike[str],
    library_path: str | os.PathLike[str],
    *,
    now: datetime | None = None,
) -> FilesRestore | None:
    """Bring back the stored files of a restored library from its backup's archive.

    Run after :func:`restore`: each stored file the (restored) library names that is not in
    its files folder with the right content is taken from the archive by its hash (or from
    the trash), checked, and put in place. A file already there with the same content is
    kept; a different file of the same name is moved to ``replaced-<time>/`` in the files
    folder first, never overwritten. Files the library does not name are left alone.
    Returns None when the backup has no archive.
    """
    archive = files_archive(backup_path)
    if not archive.is_file():
        return None
    lib_path = Path(library_path).expanduser()
    files_dir = files_dir_of(lib_path)
    trash = files_dir / TRASH
    result = FilesRestore(archive, files_dir)
    aside_dir = files_dir / f"replaced-{stamp(now)}"
    try:
        with zipfile.ZipFile(archive) as zf:
            by_hash = {str(f["hash"]): _IN_ARCHIVE + str(f["path"]) for f in _manifest(zf, archive)}
            for name, digest, size in _stored_rows(lib_path):
                target = _inside(files_dir, name)
                if target is None:
                    result.missing.append((name, "the name leaves the files folder"))
                    continue
                if _with_content([target], digest, size) is not None:
                    result.kept.append(name)
                    continue
                if digest is None:
                    result.missing.append((name, "the library has no hash of it"))
                    continue
                entry = by_hash.get(digest)
                if entry is None and not (trash / digest).is_file():
                    result.missing.append((name, "not in the backup"))
                    continue
                staged = target.with_name(f".{target.name}.{os.getpid()}.restore")
                if entry is not None:
                    if not _extract(zf, entry, digest, staged):
                        result.missing.append((name, "damaged in the backup (hash differs)"))
                        continue
                else:
                    shutil.copyfile(trash / digest, staged)
                if target.exists():
                    aside = aside_dir / name
                    aside.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, aside)
                    result.set_aside[name] = aside
                os.replace(staged, target)
                result.restored.append(name)
    except (zipfile.BadZipFile, OSError) as exc:
        raise LibraryError(f"restoring files from {archive} failed: {exc}") from None
    return result


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
        for doomed in (old, files_archive(old)):
            try:
                doomed.unlink(missing_ok=True)
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
