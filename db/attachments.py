"""The papers' files: attaching, detaching and renaming them, and keeping stored files safe.

A file is *linked* (its path is kept, the file stays where it is) or *stored* (copied into
the library's files folder, ``files/`` beside the library unless set otherwise, and named by
the paper's citation key: ``{key}.pdf``, then ``{key}-2.pdf``).

Stored files follow their rows. A write changes rows only, in its transaction; triggers
(schema.py, 5) note there every stored path it takes away or brings in, and after it
commits :meth:`Attachments.settle` makes the folder match the rows: a file that no row
claims any more goes to ``.trash/<sha256>``, and a row whose file is not in place takes it
from there. So detaching, deleting a paper, a key change, undo and redo are all the same
two moves, nothing is deleted, and a crash between the commit and the moves is put right
when the library opens next (the notes are still in ``file_moves``). A new stored file is
first copied into ``.trash/`` under its hash, outside the write, then claimed by its row.
The trash is emptied when nothing can bring its files back (the window's undo stack is
gone: :meth:`Attachments.empty_trash`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import options
from .errors import LibraryError, UnknownPaperError
from .store import Store
from .undolog import Recording
from .values import Changes, now

log = logging.getLogger(__name__)

#: Where a stored file waits, by content hash, while no row claims it.
TRASH = ".trash"
#: Characters that cannot be in a file name on one of the systems a library travels to.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
ROLES = ("main", "supplement")
_READ_CHUNK = 1 << 20

_COLUMNS = "id, paper_id, position, stored, path, role, description, mime, hash, size, mtime, added"


@dataclass(frozen=True)
class Attachment:
    """One attached file, as the library has it (``missing``: not found where it should be)."""

    id: int
    paper_id: int
    position: int
    stored: bool
    #: Where the file is: absolute (for a stored file, inside the files folder).
    path: Path
    #: As kept in the library: relative to the files folder for a stored file.
    stored_path: str
    role: str
    description: str
    mime: str
    hash: str | None
    size: int | None
    mtime: float | None
    added: str
    missing: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_pdf(self) -> bool:
        return self.mime == "application/pdf" or self.path.suffix.lower() == ".pdf"


@dataclass
class RelinkReport:
    """What :meth:`Attachments.relink` found: attachment ids with their new paths."""

    found: dict[int, Path] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)


def human_size(size: int) -> str:
    """A file's size as people read it: ``812 B``, ``461.1 KB``, ``2.3 MB``."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def file_hash(path: Path) -> str:
    """The SHA-256 of a file's content, as hex."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_READ_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def guess_mime(path: Path) -> str:
    """A file's type: a PDF by its first bytes (names lie), others by their name."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError:
        head = b""
    if b"%PDF-" in head:
        return "application/pdf"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def safe_name(text: str) -> str:
    """``text`` as a file name that every system accepts."""
    name = _UNSAFE.sub("_", text).strip(" .")
    return name or "file"


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        return file_hash(a) == file_hash(b)
    except OSError:
        return False


def folder_of(library_path: Path, setting: str) -> Path:
    """Where the ``files_dir`` setting puts a library's stored files: a relative folder is
    taken from the library's folder; empty means ``files`` beside the library."""
    folder = Path(setting).expanduser() if setting else Path("files")
    return folder if folder.is_absolute() else library_path.parent / folder


def files_folder(store: Store) -> Path:
    """The folder an open library's stored files are kept in."""
    return folder_of(store.path, store.setting(options.FILES_DIR))


class Attachments:
    """Attached files: rows in ``attachments``, stored files in the files folder."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        self._settle_after = False
        # Key changes are noted in a temporary table (this connection only), so that the
        # stored files of a paper whose key changed are renamed in the same write.
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS rekeyed(paper_id INTEGER PRIMARY KEY)")
        self.conn.execute(
            "CREATE TEMP TRIGGER IF NOT EXISTS papers_rekeyed AFTER UPDATE OF key ON main.papers "
            "WHEN old.key IS NOT new.key "
            "BEGIN INSERT OR IGNORE INTO rekeyed(paper_id) VALUES (new.id); END"
        )
        store.before_commit.append(self._before_commit)
        store.after_commit.append(self._after_commit)
        store.after_rollback.append(self._after_rollback)

    # -- where files live -----------------------------------------------------------------

    @property
    def files_dir(self) -> Path:
        """The folder stored files are kept in."""
        return files_folder(self.store)

    @property
    def trash_dir(self) -> Path:
        return self.files_dir / TRASH

    def _absolute(self, stored: int, path: str) -> Path:
        return self.files_dir / path if stored else Path(path)

    # -- reading --------------------------------------------------------------------------

    def _make(self, row: Sequence[Any], files_dir: Path, check: bool) -> Attachment:
        aid, pid, pos, stored, path, role, desc, mime, digest, size, mtime, added = row
        full = files_dir / path if stored else Path(path)
        return Attachment(
            aid,
            pid,
            pos,
            bool(stored),
            full,
            path,
            role,
            desc,
            mime,
            digest,
            size,
            mtime,
            added,
            missing=check and not full.is_file(),
        )

    def of_paper(self, paper_id: int, check: bool = True) -> list[Attachment]:
        """A paper's files, main first, in the order they were attached."""
        files_dir = self.files_dir
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM attachments WHERE paper_id = ? "
            "ORDER BY role != 'main', position, id",
            [paper_id],
        ).fetchall()
        return [self._make(r, files_dir, check) for r in rows]

    def get(self, attachment_id: int, check: bool = True) -> Attachment:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM attachments WHERE id = ?", [attachment_id]
        ).fetchone()
        if row is None:
            raise LibraryError(f"no attachment with id {attachment_id}")
        return self._make(row, self.files_dir, check)

    def all(self, paper_ids: Iterable[int] | None = None, check: bool = True) -> list[Attachment]:
        """Every attachment (of these papers), by paper then position."""
        files_dir = self.files_dir
        if paper_ids is None:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM attachments ORDER BY paper_id, role != 'main', position"
            )
        else:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM attachments WHERE paper_id IN "
                "(SELECT value FROM json_each(?)) ORDER BY paper_id, role != 'main', position",
                [json.dumps(list(paper_ids))],
            )
        return [self._make(r, files_dir, check) for r in rows.fetchall()]

    def main_file(self, paper_id: int) -> Attachment | None:
        """The PDF to open for a paper (double-click, ``citedesk open``): its main file when
        that is a PDF and there, else another PDF that is. Other files are opened only from
        the list of files, on purpose: a .bib from elsewhere can link any file."""
        pdfs = [a for a in self.of_paper(paper_id) if a.is_pdf and not a.missing]
        return next((a for a in pdfs if a.role == "main"), pdfs[0] if pdfs else None)

    def counts(self, paper_ids: Sequence[int]) -> dict[int, int]:
        """How many files each of these papers has (for the table's paper-clip column)."""
        rows = self.conn.execute(
            "SELECT paper_id, count(*) FROM attachments WHERE paper_id IN "
            "(SELECT value FROM json_each(?)) GROUP BY paper_id",
            [json.dumps(list(paper_ids))],
        )
        return dict(rows.fetchall())

    # -- names of stored files ------------------------------------------------------------

    def _base(self, key: str) -> str:
        pattern = self.store.setting(options.FILE_PATTERN)
        return safe_name(pattern.replace("{key}", key))

    def _taken(self, exclude: Iterable[int] = ()) -> Callable[[str], bool]:
        """Whether a stored name is taken: by another row, or by a file nobody manages."""
        rows = self.conn.execute(
            "SELECT path, id FROM attachments WHERE stored = 1 AND id NOT IN "
            "(SELECT value FROM json_each(?))",
            [json.dumps(list(exclude))],
        )
        claimed = {p.lower() for p, _ in rows.fetchall()}
        pending = {
            p.lower() for (p,) in self.conn.execute("SELECT path FROM file_moves").fetchall()
        }
        files_dir = self.files_dir

        def taken(name: str) -> bool:
            low = name.lower()
            if low in claimed:
                return True
            return low not in pending and (files_dir / name).exists()

        return taken

    def _pick_name(self, key: str, suffix: str, taken: Callable[[str], bool]) -> str:
        base = self._base(key)
        n = 1
        while True:
            name = f"{base}{'' if n == 1 else f'-{n}'}{suffix.lower()}"
            if not taken(name):
                return name
            n += 1

    def new_stored_name(self, paper_id: int, suffix: str) -> str:
        """Inside a write: the name :meth:`attach` gives a new stored file of this paper
        (``{key}.pdf``, then ``{key}-2.pdf``), free among the rows written so far."""
        return self._pick_name(self._key(paper_id), suffix, self._taken())

    def _fits(self, name: str, key: str) -> bool:
        """``name`` is what the pattern makes of ``key`` (``key.pdf``, ``key-3.pdf``)."""
        stem = name[: -len(Path(name).suffix)] if Path(name).suffix else name
        return re.fullmatch(re.escape(self._base(key)) + r"(-\d+)?", stem) is not None

    def _key(self, paper_id: int) -> str:
        row = self.conn.execute("SELECT key FROM papers WHERE id = ?", [paper_id]).fetchone()
        if row is None:
            raise UnknownPaperError(f"no paper with id {paper_id}")
        return str(row[0])

    # -- writing --------------------------------------------------------------------------

    def _take_in(self, path: Path) -> tuple[str, int, float]:
        """Copy a file into the trash under its hash (outside any write); its hash, size,
        mtime. The copy is written aside and renamed, so a crash leaves no half file."""
        digest = file_hash(path)
        st = path.stat()
        trash = self.trash_dir
        trash.mkdir(parents=True, exist_ok=True)
        dest = trash / digest
        if not (dest.is_file() and dest.stat().st_size == st.st_size):
            part = trash / f"{digest}.part-{os.getpid()}"
            shutil.copyfile(path, part)
            os.replace(part, dest)
        return digest, st.st_size, st.st_mtime

    def attach(
        self,
        paper_id: int,
        paths: Sequence[str | os.PathLike[str]],
        *,
        store: bool = True,
        role: str | None = None,
        description: str = "",
    ) -> Changes:
        """Attach files to a paper, stored (copied into the files folder) or linked.

        A file the paper already has (same content) is not attached twice. The first PDF of
        a paper without a main file becomes its main file, the rest supplements, unless
        ``role`` says. Raises LibraryError for a path that is not a readable file.
        """
        if role is not None and role not in ROLES:
            raise LibraryError(f"{role!r} is not a role; choose {' or '.join(ROLES)}")
        files: list[tuple[Path, str, int, float, str]] = []
        for p in paths:
            path = Path(p).expanduser().absolute()
            if not path.is_file():
                what = "is a folder" if path.is_dir() else "does not exist"
                raise LibraryError(f"{path} {what}: only files can be attached")
            try:
                if store:
                    digest, size, mtime = self._take_in(path)
                else:
                    st = path.stat()
                    digest, size, mtime = file_hash(path), st.st_size, st.st_mtime
            except OSError as exc:
                raise LibraryError(f"{path} cannot be read: {exc.strerror or exc}") from None
            files.append((path, digest, size, mtime, guess_mime(path)))
        with self.store.write() as w:
            key = self._key(paper_id)
            have = self.of_paper(paper_id, check=False)
            hashes = {a.hash for a in have}
            has_main = any(a.role == "main" for a in have)
            position = max((a.position for a in have), default=0)
            taken = self._taken()
            picked: set[str] = set()
            made: list[Any] = []
            for path, digest, size, mtime, mime in files:
                if digest in hashes:
                    continue
                hashes.add(digest)
                this_role = role or (
                    "supplement" if has_main or mime != "application/pdf" else "main"
                )
                has_main |= this_role == "main"
                if store:
                    kept = self._pick_name(
                        key, path.suffix, lambda n: n.lower() in picked or taken(n)
                    )
                    picked.add(kept.lower())
                else:
                    kept = str(path)
                position += 1
                cur = self.conn.execute(
                    "INSERT INTO attachments(paper_id, position, stored, path, role, description,"
                    " mime, hash, size, mtime, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        paper_id,
                        position,
                        int(store),
                        kept,
                        this_role,
                        description,
                        mime,
                        digest,
                        size,
                        mtime,
                        now(),
                    ],
                )
                made.append(cur.lastrowid)
            if not made:
                return Changes()
            w.created("attachments", "id", made)
            self._touch([paper_id])
        return w.result(Changes(papers={paper_id}, files=True))

    def _touch(self, paper_ids: Iterable[int]) -> None:
        ids = list(paper_ids)
        self.store.recording().capture("papers", "id", ids, only=["modified"])
        self.conn.execute(
            "UPDATE papers SET modified = ? WHERE id IN (SELECT value FROM json_each(?))",
            [now(), json.dumps(ids)],
        )

    def detach(self, attachment_ids: Iterable[int]) -> Changes:
        """Take files off their papers. A stored file goes to the files folder's trash
        (an undo brings it back); a linked file is not touched."""
        ids = list(dict.fromkeys(attachment_ids))
        with self.store.write() as w:
            papers = {
                pid
                for (pid,) in self.conn.execute(
                    "SELECT paper_id FROM attachments WHERE id IN (SELECT value FROM json_each(?))",
                    [json.dumps(ids)],
                ).fetchall()
            }
            if not papers:
                return Changes()
            w.capture("attachments", "id", ids)
            w.capture("annotation_notes", "attachment_id", ids)  # its note stays, unlinked
            self.conn.execute(
                "DELETE FROM attachments WHERE id IN (SELECT value FROM json_each(?))",
                [json.dumps(ids)],
            )
            self._touch(papers)
        return w.result(Changes(papers=papers, files=True))

    def rename(self, attachment_id: int, name: str) -> Changes:
        """Give a stored file a name of the user's choosing (kept when the key changes)."""
        a = self.get(attachment_id, check=False)
        if not a.stored:
            raise LibraryError(
                f"{a.path} is linked, not stored: Citedesk does not rename files it does not keep"
            )
        name = name.strip()
        if not name or safe_name(name) != name or name.startswith("."):
            raise LibraryError(f'{name!r} cannot be a file name (no / \\ : * ? " < > |)')
        if "." not in name and a.path.suffix:
            name += a.path.suffix
        if name == a.stored_path:
            return Changes()
        with self.store.write() as w:
            if self._taken(exclude=[attachment_id])(name):
                raise LibraryError(f"{name} is already a file in {self.files_dir}")
            w.capture("attachments", "id", [attachment_id])
            self.conn.execute("UPDATE attachments SET path = ? WHERE id = ?", [name, attachment_id])
            self._touch([a.paper_id])
        return w.result(Changes(papers={a.paper_id}, files=True))

    def set_role(self, attachment_id: int, role: str) -> Changes:
        """Make a file the paper's main file (the one double-click opens) or a supplement."""
        if role not in ROLES:
            raise LibraryError(f"{role!r} is not a role; choose {' or '.join(ROLES)}")
        a = self.get(attachment_id, check=False)
        if a.role == role:
            return Changes()
        with self.store.write() as w:
            w.capture("attachments", "paper_id", [a.paper_id])
            if role == "main":  # one main file per paper
                self.conn.execute(
                    "UPDATE attachments SET role = 'supplement' WHERE paper_id = ?", [a.paper_id]
                )
            self.conn.execute("UPDATE attachments SET role = ? WHERE id = ?", [role, a.id])
        return w.result(Changes(papers={a.paper_id}, files=True))

    def _follow_keys(self, w: Recording) -> None:
        """Inside a write: stored files named after a key that changed take the new key."""
        rows = self.conn.execute(
            "SELECT a.id, a.paper_id, a.path, p.key FROM attachments a JOIN papers p "
            "ON p.id = a.paper_id WHERE a.stored = 1 AND a.paper_id IN "
            "(SELECT paper_id FROM rekeyed) ORDER BY a.paper_id, a.role != 'main', a.position"
        ).fetchall()
        self.conn.execute("DELETE FROM rekeyed")
        if not rows:
            return
        old_keys = self._old_keys(w, {pid for _, pid, _, _ in rows})
        moving = [
            (aid, pid, path, key)
            for aid, pid, path, key in rows
            if pid in old_keys and self._fits(path, old_keys[pid]) and not self._fits(path, key)
        ]
        if not moving:
            return
        w.capture("attachments", "id", [aid for aid, *_ in moving])
        taken = self._taken(exclude=[aid for aid, *_ in moving])
        names: set[str] = set()
        for aid, _, path, key in moving:
            suffix = Path(path).suffix

            def free(n: str) -> bool:
                return n.lower() in names or taken(n)

            name = self._pick_name(key, suffix, free)
            names.add(name.lower())
            self.conn.execute("UPDATE attachments SET path = ? WHERE id = ?", [name, aid])

    def _old_keys(self, w: Recording, paper_ids: set[int]) -> dict[int, str]:
        """The keys these papers had before this write, from its undo log."""
        out: dict[int, str] = {}
        for image in w.images:
            if image.table != "papers" or "key" not in image.columns:
                continue
            at, pid_at = image.columns.index("key"), image.columns.index("id")
            for row in image.rows:
                if row[pid_at] in paper_ids and row[pid_at] not in out:
                    out[row[pid_at]] = row[at]
        return out

    # -- after a write --------------------------------------------------------------------

    def _before_commit(self, w: Recording) -> None:
        tables = {image.table for image in w.images}
        if "papers" in tables:
            keyed = any(i.table == "papers" and "key" in i.columns for i in w.images)
            if keyed:
                self._follow_keys(w)
        if "attachments" in {image.table for image in w.images}:
            self._settle_after = True

    def _after_rollback(self) -> None:
        self._settle_after = False

    def _after_commit(self) -> None:
        if self._settle_after:
            self._settle_after = False
            self.settle()

    def settle(self) -> int:
        """Make the files folder match the stored rows the last writes touched (see the
        module's docstring). Returns how many files were moved. Never raises (it runs after
        a commit) and never deletes a file whose content is not kept elsewhere.

        A file at a path a row claims stays, even when its content is not the row's hash
        (the reader annotated the PDF): it is that row's file, unless its content is what
        another row of this batch wants (two files swapped names). A file no row claims goes
        to the trash under the hash its row had, so the row, wherever it went (a new key, an
        undo), takes it back, edited or not.
        """
        try:
            return self._settle()
        except OSError as exc:  # another process settled the same moves, a full disk...
            log.warning("stored files could not all be put in place: %s", exc)
            return 0

    def _settle(self) -> int:
        moves = self.conn.execute("SELECT id, path, hash FROM file_moves ORDER BY id").fetchall()
        if not moves:
            return 0
        files_dir, trash = self.files_dir, self.trash_dir
        first_hash: dict[str, str | None] = {}  # each path's hash before these writes
        for _, path, digest in moves:
            first_hash.setdefault(path, digest)
        touched_paths = sorted(first_hash)
        touched_hashes = sorted({h for _, _, h in moves if h})
        rows = self.conn.execute(
            "SELECT path, hash, size FROM attachments WHERE stored = 1 AND (path IN "
            "(SELECT value FROM json_each(?)) OR hash IN (SELECT value FROM json_each(?)))",
            [json.dumps(touched_paths), json.dumps(touched_hashes)],
        ).fetchall()
        claimed = {path: digest for path, digest, _ in rows}
        wanted_elsewhere = {digest: path for path, digest, _ in rows if digest}
        moved = 0
        # 1. Files in place that no row claims (or that another row wants) go to the trash.
        for path in touched_paths:
            src = files_dir / path
            if not src.is_file():
                continue
            want = claimed.get(path)
            digest = first_hash[path]
            if want is not None:
                actual = file_hash(src)
                other = wanted_elsewhere.get(actual)
                if actual == want or other is None or other == path:
                    continue  # this row's file (edited, perhaps): it stays
                digest = actual  # a swap: the other row takes it from the trash
            digest = digest or file_hash(src)
            self._to_trash(src, trash, digest)
            moved += 1
        # 2. Rows whose file is not in place take it from the trash, or copy a twin's.
        needs: dict[str, list[str]] = {}
        for path, digest, _ in rows:
            if digest and not (files_dir / path).exists():
                needs.setdefault(digest, []).append(path)
        for digest, paths in needs.items():
            held = sorted(p for p in trash.glob(f"{digest}*") if ".part-" not in p.name)
            twin = next(
                (
                    files_dir / p
                    for p, h in claimed.items()
                    if h == digest and (files_dir / p).is_file()
                ),
                None,
            )
            for path in paths:
                dest = files_dir / path
                dest.parent.mkdir(parents=True, exist_ok=True)
                if held:
                    os.replace(held.pop(0), dest)
                elif twin is not None:
                    shutil.copyfile(twin, dest)
                else:
                    continue  # missing: shown as missing, found again by relink
                twin = twin or dest
                moved += 1
        with self.store.write():
            self.conn.execute("DELETE FROM file_moves WHERE id <= ?", [moves[-1][0]])
        return moved

    @staticmethod
    def _to_trash(src: Path, trash: Path, digest: str) -> None:
        """Keep ``src`` in the trash under ``digest`` (``digest-2``... when another file
        with other content is there already); a file the trash has already is dropped."""
        trash.mkdir(parents=True, exist_ok=True)
        dest, n = trash / digest, 1
        while dest.exists():
            if _same_file(src, dest):
                src.unlink()
                return
            n += 1
            dest = trash / f"{digest}-{n}"
        os.replace(src, dest)

    def empty_trash(self) -> int:
        """Delete the files in the trash that no stored row is waiting for; how many."""
        trash = self.trash_dir
        if not trash.is_dir():
            return 0
        waiting = {
            h
            for (h,) in self.conn.execute(
                "SELECT hash FROM attachments WHERE stored = 1 AND hash IS NOT NULL"
            ).fetchall()
        }
        gone = 0
        for entry in trash.iterdir():
            held_for = entry.name.split("-")[0]  # "<hash>" or "<hash>-2"
            if entry.is_file() and held_for not in waiting and ".part-" not in entry.name:
                entry.unlink()
                gone += 1
        return gone

    def move_folder(self, folder: str | os.PathLike[str]) -> Path:
        """Keep stored files in ``folder`` from now on (relative: from the library's
        folder), moving the files folder there; returns where it is now.

        The folder is renamed when it can be (same file system), else copied, checked
        file by file and only then removed. The new folder must not hold files already.
        Not an undo step: moving it back is another move.
        """
        old = self.files_dir
        setting = os.fspath(folder)
        new = folder_of(self.store.path, setting)
        if new.resolve() == old.resolve():
            return old
        if new.exists() and (not new.is_dir() or any(new.iterdir())):
            raise LibraryError(f"{new} is not an empty folder: choose a new or empty one")
        if old.is_dir():
            new.parent.mkdir(parents=True, exist_ok=True)
            if new.exists():
                new.rmdir()
            try:
                os.rename(old, new)
            except OSError:  # another file system: copy, check, then remove
                shutil.copytree(old, new)
                for src in old.rglob("*"):
                    if src.is_file() and not _same_file(src, new / src.relative_to(old)):
                        shutil.rmtree(new)
                        raise LibraryError(
                            f"copying {src} to {new} failed; nothing was moved"
                        ) from None
                shutil.rmtree(old)
        self.store.change_setting(options.FILES_DIR, setting)
        return self.files_dir

    # -- finding files again --------------------------------------------------------------

    def missing(self) -> list[Attachment]:
        """Every attachment whose file is not where the library says."""
        return [a for a in self.all() if a.missing]

    def restore_stored(self) -> int:
        """Stored files not in place are looked for in the trash and the files folder (a
        file renamed or moved there by hand) by their hash; how many came back."""
        files_dir = self.files_dir
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM attachments WHERE stored = 1").fetchall()
        lost = [a for a in (self._make(r, files_dir, True) for r in rows) if a.missing and a.hash]
        if not lost:
            return 0
        found = self._find_by_hash([self.files_dir], lost)
        back = 0
        placed: dict[Path, Path] = {}  # a found file -> where it was put (for its twins)
        for a in lost:
            src = found.get(a.id)
            if src is None:
                continue
            try:
                a.path.parent.mkdir(parents=True, exist_ok=True)
                if src in placed:
                    shutil.copyfile(placed[src], a.path)
                else:
                    os.replace(src, a.path)
                    placed[src] = a.path
            except OSError as exc:
                log.warning("could not put %s back: %s", a.path, exc)
                continue
            back += 1
        return back

    def _find_by_hash(
        self, folders: Sequence[Path], wanted: Sequence[Attachment]
    ) -> dict[int, Path]:
        """Files in ``folders`` (recursively) with the content of the ``wanted`` ones."""
        by_size: dict[int, list[Attachment]] = {}
        for a in wanted:
            if a.size is not None and a.hash:
                by_size.setdefault(a.size, []).append(a)
        found: dict[int, Path] = {}
        claimed_paths = {
            str(self._absolute(s, p))
            for s, p in self.conn.execute("SELECT stored, path FROM attachments").fetchall()
        }
        for folder in folders:
            for root, _dirs, names in os.walk(folder):
                for n in names:
                    p = Path(root) / n
                    try:
                        size = p.stat().st_size
                    except OSError:
                        continue
                    candidates = [a for a in by_size.get(size, []) if a.id not in found]
                    if not candidates or str(p) in claimed_paths:
                        continue
                    try:
                        digest = file_hash(p)
                    except OSError:
                        continue
                    for a in candidates:
                        if a.hash == digest:
                            found[a.id] = p
        return found

    def relink(self, folders: Sequence[str | os.PathLike[str]]) -> RelinkReport:
        """Find missing files by their content in ``folders``: a linked file's path is
        changed to where it is now; a stored file is copied back into the files folder."""
        dirs = [Path(f).expanduser().absolute() for f in folders]
        for d in dirs:
            if not d.is_dir():
                raise LibraryError(f"{d} is not a folder")
        lost = [a for a in self.missing() if a.hash]
        report = RelinkReport()
        if not lost:
            return report
        found = self._find_by_hash(dirs, lost)
        report.found = dict(found)
        report.missing = [a.id for a in lost if a.id not in found]
        linked = {aid: p for aid, p in found.items() if not self.get(aid, check=False).stored}
        for a in lost:
            if a.stored and a.id in found:
                a.path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(found[a.id], a.path)
        if linked:
            with self.store.write() as w:
                w.capture("attachments", "id", list(linked))
                self.conn.executemany(
                    "UPDATE attachments SET path = ? WHERE id = ?",
                    [(str(p), aid) for aid, p in linked.items()],
                )
                papers = {a.paper_id for a in lost if a.id in linked}
                self._touch(papers)
            report.changes = w.result(Changes(papers=papers, files=True))
        return report
