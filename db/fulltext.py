"""The text of attached PDFs: extracted page by page, indexed, found, and papers made from PDFs.

Text is extracted by content: a file is read once per distinct SHA-256, whichever papers
have it, and kept in ``documents`` (one row per content, with its page count or why it
could not be read) and ``pages_fts`` (one row per page; rowid = document id * 2**20 + page).
:meth:`Fulltext.index` reads what is new in worker processes (PDFium takes a core per file;
both cores are used) and writes each file's pages in a transaction of its own as it
arrives, so a crash loses at most the file being written, another program's edits wait
milliseconds, and a second run starts where the first stopped.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .attachments import Attachments, file_hash

if TYPE_CHECKING:
    from .pdfread import PdfInfo
from .errors import LibraryError
from .search import parse_query
from .store import Store
from .values import now
from .workers import default_workers, mp_context

#: How the text was read; a library read by another extractor is read again.
EXTRACTOR = "pdfium-1"
#: A page's rowid in pages_fts is its document's id shifted by this, plus the page number.
PAGE_BITS = 20
MATCH_START, MATCH_END = "\x02", "\x03"

Progress = Callable[[int, int, str], None]


@dataclass
class FulltextReport:
    """What an indexing run did."""

    indexed: int = 0
    pages: int = 0
    #: Files that could not be read: (file name, reason).
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Files whose text was indexed before (or whose content another file has).
    skipped: int = 0
    cancelled: bool = False


@dataclass
class FulltextStatus:
    """How far the index is: PDFs attached, read, their pages, still to read, unreadable."""

    files: int
    indexed: int
    pages: int
    pending: int
    failed: list[tuple[str, str]]


@dataclass(frozen=True)
class FulltextHit:
    """A page of an attached file that matches a search, with the words around the match."""

    attachment_id: int
    name: str
    page: int
    #: Text around the match; each match is between MATCH_START and MATCH_END.
    snippet: str

    def segments(self) -> list[tuple[str, bool]]:
        """The snippet as (text, is a match) pieces."""
        out: list[tuple[str, bool]] = []
        rest = self.snippet
        while rest:
            before, start, after = rest.partition(MATCH_START)
            if before:
                out.append((before, False))
            if not start:
                break
            inside, _, rest = after.partition(MATCH_END)
            out.append((inside, True))
        return out


@dataclass(frozen=True)
class _Work:
    hash: str
    path: str
    name: str


class Fulltext:
    """The full-text index of attached files."""

    def __init__(self, store: Store, attachments: Attachments) -> None:
        self.store = store
        self.conn = store.conn
        self.attachments = attachments

    # -- what there is to read ------------------------------------------------------------

    def _pdf_rows(self) -> list[tuple[int, int, str, str | None, int | None, float | None]]:
        return self.conn.execute(
            "SELECT id, stored, path, hash, size, mtime FROM attachments "
            "WHERE mime = 'application/pdf' OR lower(path) LIKE '%.pdf'"
        ).fetchall()

    def _refresh_changed(self) -> None:
        """Linked files changed since they were attached get their new hash (their text is
        then read again); missing ones are left for relink."""
        files_dir = self.attachments.files_dir
        changed: list[tuple[str, int, float, int]] = []
        for aid, stored, path, digest, size, mtime in self._pdf_rows():
            full = files_dir / path if stored else Path(path)
            try:
                st = full.stat()
            except OSError:
                continue
            if digest and st.st_size == size and st.st_mtime == mtime:
                continue
            try:
                new = file_hash(full)
            except OSError:
                continue
            changed.append((new, st.st_size, st.st_mtime, aid))
        if changed:
            with self.store.write():  # a fact about the file, not an edit: no undo
                self.conn.executemany(
                    "UPDATE attachments SET hash = ?, size = ?, mtime = ? WHERE id = ?", changed
                )
            self.attachments.settle()  # the triggers noted the stored paths: nothing moves

    def _work(self, rebuild: bool) -> tuple[list[_Work], int]:
        """The distinct contents still to read, each with a file that has it; and how many
        PDFs need nothing."""
        done = {
            h
            for (h,) in self.conn.execute(
                "SELECT hash FROM documents WHERE extractor = ?", [EXTRACTOR]
            ).fetchall()
        }
        if rebuild:
            done = set()
        files_dir = self.attachments.files_dir
        todo: dict[str, _Work] = {}
        skipped = 0
        for _aid, stored, path, digest, _size, _mtime in self._pdf_rows():
            if not digest:
                continue
            if digest in done or digest in todo:
                skipped += 1
                continue
            full = files_dir / path if stored else Path(path)
            if full.is_file():
                todo[digest] = _Work(digest, str(full), full.name)
        return list(todo.values()), skipped

    def _forget_unused(self) -> None:
        """Drop the text of contents no attachment has any more."""
        gone = self.conn.execute(
            "SELECT id FROM documents WHERE hash NOT IN "
            "(SELECT hash FROM attachments WHERE hash IS NOT NULL)"
        ).fetchall()
        if gone:
            with self.store.write():
                for (doc,) in gone:
                    self._drop(doc)

    def _drop(self, doc: int) -> None:
        self.conn.execute(
            "DELETE FROM pages_fts WHERE rowid BETWEEN ? AND ?",
            [doc << PAGE_BITS, ((doc + 1) << PAGE_BITS) - 1],
        )
        self.conn.execute("DELETE FROM documents WHERE id = ?", [doc])

    # -- reading --------------------------------------------------------------------------

    def index(
        self,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        workers: int | None = None,
        rebuild: bool = False,
    ) -> FulltextReport:
        """Read and index the text of every attached PDF not read yet (all: ``rebuild``).

        Runs in the calling thread, with worker processes reading the files; a window calls
        it from a thread of its own, with a Library of its own. ``progress(done, total,
        name)`` follows each file; setting ``cancel`` stops after the file being written.
        """
        self._refresh_changed()
        self._forget_unused()
        todo, skipped = self._work(rebuild)
        report = FulltextReport(skipped=skipped)
        total = len(todo)
        if progress is not None:
            progress(0, total, "")
        if not todo:
            return report
        by_path = {w.path: w for w in todo}
        n = min(workers or default_workers(), total)
        for done, (path, pages, kind, message) in enumerate(self._extracted(todo, n, cancel), 1):
            work = by_path[path]
            self._store(work.hash, pages, kind, message)
            if pages is not None:
                report.indexed += 1
                report.pages += len(pages)
            else:
                report.failed.append((work.name, message or kind or "could not be read"))
            if progress is not None:
                progress(done, total, work.name)
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
        return report

    def _extracted(
        self, todo: list[_Work], workers: int, cancel: threading.Event | None
    ) -> Iterator[tuple[str, list[str] | None, str | None, str | None]]:
        from . import pdfread  # PDFium is loaded when there are PDFs to read

        paths = [w.path for w in todo]
        if workers <= 1:
            for path in paths:
                if cancel is not None and cancel.is_set():
                    return
                yield pdfread.extract(path)
            return
        # Workers leave Ctrl+C to this process, which stops the run cleanly; a worker
        # killed mid-file would leave imap_unordered waiting for its result for ever.
        pool = mp_context().Pool(workers, initializer=_ignore_interrupts)
        try:
            yield from pool.imap_unordered(pdfread.extract, paths, chunksize=1)
        finally:
            pool.terminate()
            pool.join()

    def _store(
        self, digest: str, pages: list[str] | None, kind: str | None, message: str | None
    ) -> None:
        with self.store.write():
            old = self.conn.execute("SELECT id FROM documents WHERE hash = ?", [digest]).fetchone()
            if old is not None:
                self._drop(old[0])
            doc = self.conn.execute(
                "INSERT INTO documents(hash, state, pages, problem, reason, extractor, indexed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    digest,
                    "indexed" if pages is not None else "failed",
                    len(pages or ()),
                    kind,
                    message,
                    EXTRACTOR,
                    now(),
                ],
            ).fetchone()[0]
            if pages:
                self.conn.executemany(
                    "INSERT INTO pages_fts(rowid, text) VALUES (?, ?)",
                    [
                        ((doc << PAGE_BITS) + number, text)
                        for number, text in enumerate(pages, 1)
                        if text.strip()
                    ],
                )

    # -- what is known --------------------------------------------------------------------

    def status(self) -> FulltextStatus:
        rows = self._pdf_rows()
        docs = {
            h: (state, pages, reason)
            for h, state, pages, reason in self.conn.execute(
                "SELECT hash, state, pages, reason FROM documents WHERE extractor = ?",
                [EXTRACTOR],
            ).fetchall()
        }
        indexed = pages = pending = 0
        failed: list[tuple[str, str]] = []
        for _aid, _stored, path, digest, _size, _mtime in rows:
            doc = docs.get(digest or "")
            if doc is None:
                pending += 1
            elif doc[0] == "indexed":
                indexed += 1
                pages += doc[1]
            else:
                failed.append((Path(path).name, doc[2] or "could not be read"))
        return FulltextStatus(len(rows), indexed, pages, pending, failed)

    def pending(self) -> bool:
        """Whether some attached PDF has not been read yet (one query: a window asks it
        when it opens, where :meth:`status` would read every attachment row)."""
        row = self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM attachments WHERE (mime = 'application/pdf' "
            "OR lower(path) LIKE '%.pdf') AND (hash IS NULL OR hash NOT IN "
            "(SELECT hash FROM documents WHERE extractor = ?)))",
            [EXTRACTOR],
        ).fetchone()
        return bool(row[0])

    def hits(self, paper_id: int, text: str, limit: int = 5) -> list[FulltextHit]:
        """The pages of a paper's files that match the words of a search, best first."""
        exprs = [e for e in parse_query(text).fulltext if e is not None]
        if not exprs:
            return []
        match = " AND ".join(f"({e})" for e in exprs)
        docs = self.conn.execute(
            "SELECT a.id, a.path, d.id FROM attachments a JOIN documents d ON d.hash = a.hash "
            "WHERE a.paper_id = ? AND d.state = 'indexed' ORDER BY a.role != 'main', a.position",
            [paper_id],
        ).fetchall()
        out: list[FulltextHit] = []
        for aid, path, doc in docs:
            try:
                rows = self.conn.execute(
                    "SELECT rowid, snippet(pages_fts, 0, char(2), char(3), '…', 16) "
                    "FROM pages_fts WHERE pages_fts MATCH ? AND rowid BETWEEN ? AND ? "
                    "ORDER BY rank LIMIT ?",
                    [match, doc << PAGE_BITS, ((doc + 1) << PAGE_BITS) - 1, limit - len(out)],
                ).fetchall()
            except Exception:  # noqa: BLE001 - FTS5 refusing the words: no hits
                rows = []
            name = Path(path).name
            out += [
                FulltextHit(aid, name, rowid & ((1 << PAGE_BITS) - 1), " ".join(snip.split()))
                for rowid, snip in rows
            ]
            if len(out) >= limit:
                break
        return out


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def fields_from_pdf(info: PdfInfo, fallback_title: str) -> tuple[str, list[tuple[str, str]]]:
    """An entry type and fields for a paper made from what a PDF says of itself."""
    fields: list[tuple[str, str]] = [("title", info.title or fallback_title)]
    if info.authors:
        fields.append(("author", " and ".join(info.authors)))
    if info.year:
        fields.append(("year", str(info.year)))
    if info.doi:
        fields.append(("doi", info.doi))
    if info.arxiv:
        fields += [("eprint", info.arxiv), ("eprinttype", "arxiv")]
    if info.isbn:
        fields.append(("isbn", info.isbn))
    if info.keywords:
        fields.append(("keywords", info.keywords))
    entry_type = "article" if info.doi else ("book" if info.isbn else "misc")
    return entry_type, fields


def paper_fields(path: str | os.PathLike[str]) -> tuple[str, list[tuple[str, str]]]:
    """What a PDF says of itself, as an entry type and fields (LibraryError if unreadable).
    Reads the file only: safe off the GUI thread, with no library."""
    from . import pdfread  # PDFium is loaded when there are PDFs to read (100 ms)

    path = Path(path)
    try:
        info = pdfread.pdf_info(path)
    except pdfread.PdfProblem as exc:
        raise LibraryError(f"{path.name} {exc}") from None
    return fields_from_pdf(info, path.stem.replace("_", " "))


def annotation_note(store: Store, attachment_id: int) -> tuple[int, str, str] | None:
    """The note a file's annotations went into last time: (note id, generated, body)."""
    row = store.conn.execute(
        "SELECT an.note_id, an.generated, n.body FROM annotation_notes an "
        "JOIN notes n ON n.id = an.note_id WHERE an.attachment_id = ?",
        [attachment_id],
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])
