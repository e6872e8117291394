"""Importing BibTeX fast: files streamed in chunks, parsed on every core, added in batches.

How, and why:

1. A file is read as bytes and cut into chunks of about 1 MB, only before a line that starts
   a block (``@type{`` or ``@type(``) and only where the braces counted since the chunk
   began are balanced. bibtexparser itself starts a new block at every such line, so a cut
   never splits an entry, a braced value or a comment, and memory stays bounded whatever
   the size of the file. Cuts are found on bytes (block starts are ASCII, and so is every
   byte of them in UTF-8 and cp1252), so decoding happens in the workers too.
2. Chunks are parsed by :func:`db.bibtex.parse_text` and their display values derived by
   :func:`db.bibtex.derive` in worker processes, a bounded number of chunks in flight, the
   results taken in file order. Inputs under :data:`PARALLEL_MIN_BYTES` run the same code
   in-process.
3. The main process decides duplicates (key, key alias, DOI) a chunk at a time with one
   query each, inserts papers and persons with ``executemany`` and fills the full-text
   index with one ``INSERT ... SELECT`` per :data:`FTS_BATCH` papers while the workers
   parse on, all in one transaction.
4. What a worker cannot know is settled at the end in one pass: crossref children get
   their parent's values, and entries that used an @string defined only after their chunk
   was sent are derived again.

Workers are forked while the process has a single thread (the command line); a process
with other threads (the window) starts them from a forkserver, as forking it could
deadlock. Then, as with every start method but fork, a script that imports must keep its
top level under ``if __name__ == "__main__":``, or each worker runs it again.
"""

from __future__ import annotations

import codecs
import gc
import json
import logging
import multiprocessing
import os
import re
import threading
from collections import ChainMap, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import bibtex, bibvalue, jabref
from .bibtex import Failure, ParsedBlock, ParsedEntry, ParsedFile
from .identifiers import is_doi
from .search import SEARCH_TABLES

if TYPE_CHECKING:
    from .library import ImportReport, Library

#: Text per parse task, at most; smaller files are cut into about four chunks per worker,
#: so that the workers start early and finish together.
CHUNK_BYTES = 1 << 20
MIN_CHUNK_BYTES = 64 << 10
#: A chunk whose braces never balance (a broken entry) is cut anyway at this size, at a
#: block start: bibtexparser would end the broken block there too.
MAX_CHUNK_BYTES = 16 << 20
#: Inputs smaller than this are parsed in-process (workers cost ~20 ms to fork, more to
#: start from a forkserver the first time).
PARALLEL_MIN_BYTES = 256 << 10
#: Bytes read from a file at a time.
READ_BYTES = 1 << 20
#: SQLite page cache during an import (KiB): index pages stay in memory while inserting.
IMPORT_CACHE_KIB = 64 * 1024
#: FTS5 keeps this much new index data in memory before writing a segment (its default is
#: 1 MB). Fewer, larger segments mean less merging: a third off the index build at 100k.
IMPORT_FTS_HASHSIZE = 64 << 20
#: New papers are indexed for search this many at a time, while the workers parse what
#: follows, so that little indexing is left for the end. FTS5 writes a segment per
#: statement; at 100,000 papers, statements of 5,000 or 10,000 took as long as one
#: statement for all (8.7 s), where statements of one chunk each (about 600) took 13 s.
FTS_BATCH = 5000

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]

# A block start: @word then { or (; a cut also needs it first on its line (see _line_start).
_BLOCK_AT = re.compile(rb"@[A-Za-z0-9_]*[ \t]*[{(]")
_STRING_AT = re.compile(rb"@[Ss][Tt][Rr][Ii][Nn][Gg][ \t]*[{(]")


_KEY_SLOT = re.compile(r"@[^{(]*[{(][ \t]*")


def with_key(source: str | None, key: str) -> str | None:
    """An entry's text with ``key`` put where its empty key was (``@misc{,`` becomes
    ``@misc{key,``); None when the text does not start that way."""
    if source is None:
        return None
    m = _KEY_SLOT.match(source)
    if m is None or not source[m.end():].lstrip().startswith((",", "}", ")")):
        return None
    return source[:m.end()] + key + source[m.end():]


def fold(text: str) -> str:
    """Case-fold as SQLite's NOCASE does (ASCII letters only), for duplicate checks."""
    if text.isascii():
        return text.lower()
    return "".join(c.lower() if c.isascii() else c for c in text)


def _depth(data: bytes, start: int, end: int) -> int:
    """Net ``{`` minus ``}`` in ``data[start:end]``; BibTeX counts ``\\{`` as a brace too."""
    return data.count(b"{", start, end) - data.count(b"}", start, end)


def _lines(data: bytes) -> int:
    """Lines ended in ``data``, counting CR-only and CRLF line ends as the reader does."""
    crs = data.count(b"\r")
    if not crs:
        return data.count(b"\n")
    return data.count(b"\n") + crs - data.count(b"\r\n")


def _line_start(data: bytes, at: int) -> int:
    """Where the line holding ``data[at]`` starts, if only blanks precede ``at`` on it; else -1.

    bibtexparser starts a new block at an ``@type{`` with only blanks before it on its line,
    even inside an unclosed entry.
    """
    j = at - 1
    while j >= 0 and data[j] in b" \t\f\v":
        j -= 1
    if j >= 0 and data[j] in b"\r\n":
        return j + 1
    return -1 if j >= 0 else 0


class ChunkSplitter:
    """Cuts a stream of .bib bytes into chunks that each begin at a top-level block start."""

    def __init__(self, target: int = CHUNK_BYTES, limit: int = MAX_CHUNK_BYTES) -> None:
        self.target = target
        self.limit = max(limit, target)
        self._buf = b""
        self._reset()

    def _reset(self) -> None:
        self._scan = 0  # where to look for the next block start
        self._depth = 0  # brace depth of the buffer up to _depth_pos
        self._depth_pos = 0
        self._first = -1  # the chunk's first block start (a chunk holds at least one)
        self._first_scan = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return the chunks now complete."""
        self._buf += data
        out: list[bytes] = []
        while True:
            cut = self._find_cut()
            if cut is None:
                return out
            out.append(self._buf[:cut])
            self._buf = self._buf[cut:]
            self._reset()

    def finish(self) -> list[bytes]:
        """The rest of the stream, as a last chunk."""
        rest, self._buf = self._buf, b""
        self._reset()
        return [rest] if rest else []

    def _find_cut(self) -> int | None:
        buf = self._buf
        if len(buf) < self.target:
            return None
        if self._first < 0:
            for m in _BLOCK_AT.finditer(buf, self._first_scan):
                if _line_start(buf, m.start()) >= 0:
                    self._first = m.start()
                    break
            else:
                self._first_scan = max(self._first_scan, len(buf) - 4096)
                return None  # no block yet: a long comment; never a chunk of its own
        for m in _BLOCK_AT.finditer(buf, max(self._scan, self.target, self._first + 1)):
            self._scan = m.end()
            cut = _line_start(buf, m.start())
            if cut <= self._first:
                continue  # an @ inside a line: a value or a comment, never a cut
            self._depth += _depth(buf, self._depth_pos, cut)
            self._depth_pos = cut
            if self._depth <= 0 or cut >= self.limit:
                return cut
        # A block start can be incomplete at the end of the buffer; look there again later.
        self._scan = max(self._scan, len(buf) - 4096)
        return None


def split_bytes(data: bytes, target: int = CHUNK_BYTES,
                limit: int = MAX_CHUNK_BYTES) -> list[bytes]:
    """All chunks of ``data`` (for tests and small inputs)."""
    s = ChunkSplitter(target, limit)
    return s.feed(data) + s.finish()




# -- what workers do ------------------------------------------------------------------------

@dataclass
class ChunkTask:
    """One chunk of one file, with what a worker needs to parse it on its own."""

    data: bytes
    name: str
    line_offset: int  # lines before the chunk in the file
    macros: dict[str, str]  # evaluated @string macros known when the chunk was sent


@dataclass
class ChunkResult:
    """A parsed chunk: rows ready to insert (see :class:`Rows`), blocks, failures.

    Its layout: ``block_places[i]`` is the place of ``blocks[i]`` among the chunk's
    ``items`` entries and blocks (an entry's place is the last value of its row), and
    ``tail`` the text after the last of them (see :attr:`db.bibtex.ParsedFile.items`).
    """

    rows: Rows = field(default_factory=lambda: Rows([], [], []))
    blocks: list[ParsedBlock] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    size: int = 0  # bytes of the file this chunk covers (for progress)
    bad_lines: list[int] = field(default_factory=list)  # read as Windows-1252
    utf8_seen: bool = False
    block_places: list[int] = field(default_factory=list)
    items: int = 0
    tail: str = ""


def chunk_result(pf: ParsedFile, macros: dict[str, str], size: int) -> ChunkResult:
    """What the library stores of a parsed chunk or file, entries derived in file order."""
    places = [n for n, item in enumerate(pf.items) if type(item) is ParsedBlock]
    return ChunkResult(entry_rows(pf.items, macros), pf.blocks, pf.failures, pf.warnings,
                       size, block_places=places, items=len(pf.items), tail=pf.tail)


class _MacroLookup(dict[str, str]):
    """The macros for derive(), noting every name it looks up (found or not)."""

    used: set[str]

    def __contains__(self, name: object) -> bool:
        self.used.add(str(name))
        return dict.__contains__(self, name)

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        self.used.add(name)
        return dict.get(self, name, default)

    def __missing__(self, name: str) -> str:
        self.used.add(name)
        raise KeyError(name)


def display_column_names() -> tuple[str, ...]:
    from .library import display_columns

    return tuple(display_columns(bibtex.Derived()))


@dataclass
class Rows:
    """Everything the library stores for a chunk's entries, ready for ``executemany``.

    ``meta[i]`` is ``(key, line, doi_as_written, has_crossref, macros_looked_up, doi)``
    for deciding duplicates; ``papers[i]`` is ``(i, key, entry_type, fields_json, source,
    *display values, lead, place)``, display values in the order of
    :func:`display_column_names`, ``lead`` the text before the entry in its file and
    ``place`` its place among the chunk's items (see :class:`ChunkResult`); ``persons`` are
    ``(i, role, position, family, given, prefix, suffix)``. The main process inserts them
    as they are when it takes every entry of the chunk, the usual case.
    """

    meta: list[tuple[Any, ...]]
    papers: list[tuple[Any, ...]]
    persons: list[tuple[Any, ...]]


def entry_rows(items: Iterable[ParsedEntry | ParsedBlock], macros: dict[str, str]) -> Rows:
    """Derive what the library stores for each entry (see :class:`Rows`).

    ``items`` are a text's entries and blocks in order: an @string among them holds for the
    entries after it (a macro defined again changes from there on, as in BibTeX).
    """
    from .library import display_columns

    lookup = _MacroLookup(macros)
    rows = Rows([], [], [])
    i = -1
    for place, e in enumerate(items):
        if type(e) is ParsedBlock:
            if e.kind == "string" and e.name:
                lookup.used = set()
                dict.__setitem__(lookup, e.name.lower(), bibvalue.evaluate(e.value, lookup))
            continue
        assert isinstance(e, ParsedEntry)
        i += 1
        lookup.used = set()
        d = bibtex.derive(e.fields, lookup)
        fmap = bibtex.field_map(e.fields)
        doi = bibvalue.evaluate(fmap["doi"]).strip() if "doi" in fmap else ""
        rows.persons.extend((i, "author", n, p.family, p.given, p.prefix, p.suffix)
                            for n, p in enumerate(d.authors))
        rows.persons.extend((i, "editor", n, p.family, p.given, p.prefix, p.suffix)
                            for n, p in enumerate(d.editors))
        rows.meta.append((e.key, e.line, doi, "crossref" in fmap,
                          frozenset(lookup.used) or None, d.doi))
        rows.papers.append((i, e.key, e.entry_type, json.dumps(e.fields), e.source,
                            *display_columns(d).values(), e.lead, place))
    return rows


def parse_chunk(task: ChunkTask) -> ChunkResult:
    """Parse one chunk and derive its entries' values (runs in a worker process)."""
    was_enabled = gc.isenabled()
    gc.disable()  # many short-lived objects and no cycles worth collecting meanwhile
    try:
        text, bad, utf8_seen = bibtex.decode_lines(task.data)
        pf = bibtex.parse_text(text, task.name, first_line=task.line_offset + 1)
        result = chunk_result(pf, task.macros, len(task.data))
        result.bad_lines = [task.line_offset + n for n in bad]
        result.utf8_seen = utf8_seen
        return result
    finally:
        if was_enabled:
            gc.enable()


def _worker_init() -> None:
    # Failures are reported with file and line in the ImportReport; the parser's own log
    # lines would only repeat them on the terminal.
    logging.getLogger("bibtexparser").setLevel(logging.ERROR)


def _mp_context() -> multiprocessing.context.BaseContext:
    """fork while this process has one thread (instant, and no re-run of ``__main__``);
    otherwise (a GUI) forkserver, since forking a process with other threads can deadlock."""
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        threads = 0  # not Linux: count Python's threads only
    if "fork" in multiprocessing.get_all_start_methods() and (
            threads == 1 or (threads == 0 and threading.active_count() == 1)):
        return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["db.importer"])
        return ctx
    return multiprocessing.get_context("spawn")


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


# -- reading files --------------------------------------------------------------------------

class _Unreadable(Exception):
    pass


@dataclass
class _Source:
    """A file to import: where its text starts and how it is encoded."""

    path: str
    size: int
    bom: bool = False  # starts with a UTF-8 byte order mark (skipped)
    data: bytes | None = None  # the whole text re-encoded as UTF-8 (UTF-16 files)
    encoding: str = ""  # set for UTF-16 files; UTF-8 and Windows-1252 are told by reading
    newline: str = ""  # set for UTF-16 files; the others count line ends as they are read

    def chunks(self, target: int = CHUNK_BYTES) -> Iterator[tuple[bytes, int]]:
        """(chunk, lines before it) for the whole file, read a piece at a time."""
        splitter = ChunkSplitter(target)
        lines = 0
        if self.data is not None:
            pieces: Iterable[bytes] = (self.data,)
            fh = None
        else:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below
            if self.bom:
                fh.seek(len(codecs.BOM_UTF8))
            pieces = iter(lambda: fh.read(READ_BYTES), b"")
        any_chunk = False
        try:
            for piece in pieces:
                for chunk in splitter.feed(piece):
                    yield chunk, lines
                    any_chunk = True
                    lines += _lines(chunk)
            for chunk in splitter.finish():
                yield chunk, lines
                any_chunk = True
            if not any_chunk:
                yield b"", 0  # an empty file: the parser says so
        finally:
            if fh is not None:
                fh.close()


def _open_source(path: str | os.PathLike[str]) -> _Source:
    """Check a file can be read and note its byte order mark; UTF-16 is decoded at once."""
    p = Path(path)
    if not p.exists():
        raise _Unreadable("no such file")
    if p.is_dir():
        raise _Unreadable("is a directory, not a .bib file")
    try:
        with p.open("rb") as fh:
            head = fh.read(4096)
        size = p.stat().st_size
    except OSError as exc:
        raise _Unreadable(f"cannot be read ({exc.strerror or exc})") from None
    src = _Source(str(path), size, bom=head.startswith(codecs.BOM_UTF8))
    if src.bom:
        return src
    utf16 = head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE)
    if not utf16 and len(head) >= 4:
        half = len(head) / 2
        even, odd = head[0::2].count(0), head[1::2].count(0)
        utf16 = (odd > 0.4 * half and even < 0.1 * half) or (
            even > 0.4 * half and odd < 0.1 * half)
    if utf16:
        # Rare, and not ASCII-compatible: decode it whole, then go on as with UTF-8.
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise _Unreadable(f"cannot be read ({exc.strerror or exc})") from None
        text, encoding = bibtex.decode_bytes(data)
        if data.startswith(codecs.BOM_UTF16_LE):
            encoding = "utf-16-le+bom"
        elif data.startswith(codecs.BOM_UTF16_BE):
            encoding = "utf-16-be+bom"
        src.encoding = encoding
        src.newline = newline_of(*_line_end_counts(text.encode("utf-8")))
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        src.data = text.encode("utf-8")
    return src


def _line_end_counts(data: bytes) -> tuple[int, int, int]:
    """How many CRLF, CR-only and LF-only line ends ``data`` holds."""
    crlf = data.count(b"\r\n")
    return crlf, data.count(b"\r") - crlf, data.count(b"\n") - crlf


def newline_of(crlf: int, cr: int, lf: int) -> str:
    """A file's line end: the one it uses throughout; LF when it mixes them or has none."""
    if crlf and not cr and not lf:
        return "\r\n"
    if cr and not crlf and not lf:
        return "\r"
    return "\n"


def _string_macros(data: bytes, name: str) -> list[ParsedBlock]:
    """The @string blocks of a chunk, read before it is sent so workers can expand them.

    A guess, however good: what the workers derived with is checked against the macros the
    library ends up with, and entries are derived again where they differ.
    """
    out: list[ParsedBlock] = []
    covered = 0
    for m in _STRING_AT.finditer(data):
        if m.start() < covered:
            continue
        end = len(data)
        for nxt in _BLOCK_AT.finditer(data, m.end()):
            if _line_start(data, nxt.start()) > 0:
                end = nxt.start()
                break
        text, _, _ = bibtex.decode_lines(data[m.start():end])
        out.extend(b for b in bibtex.parse_text(text, name).blocks if b.kind == "string")
        covered = end
    return out


# -- the import -------------------------------------------------------------------------------

class _StrictFailure(Exception):
    """Raised inside the transaction: a strict import saw a failure."""


class _Import:
    """One import run: its report, the ids it hands out, what is settled at the end."""

    def __init__(self, lib: Library, report: ImportReport, *, strict: bool,
                 cancelled: Cancelled | None, progress: Progress | None, total: int,
                 workers: int, parallel_min: int, chunk_bytes: int | None = None) -> None:
        from .library import now

        self.lib = lib
        self.conn = lib.conn
        self.report = report
        self.strict = strict
        self.cancelled = cancelled
        self.progress = progress
        self.total = total
        self.done = 0
        self.stamp = now()
        self.workers = workers
        self.parallel_min = parallel_min
        self.chunk_bytes = chunk_bytes
        self.pool: ProcessPoolExecutor | None = None
        self.columns = display_column_names()
        # The first parameter of a row is its paper id, less {offset}; the last its place,
        # less {places} (see Rows).
        names = ("key", "entry_type", "fields", "source", *self.columns, "lead")
        self.insert_sql = (f"INSERT INTO papers(id, added, modified, {', '.join(names)}, pos) "
                           f"VALUES ({{offset}} + ?, '{self.stamp}', '{self.stamp}', "
                           f"{', '.join('?' for _ in names)}, {{places}} + ?)")
        self.persons_sql = ("INSERT INTO persons(paper_id, role, position, family, given, "
                            "prefix, suffix) VALUES ({offset} + ?, ?, ?, ?, ?, ?, ?)")
        self.first_id = int(self.conn.execute(
            "SELECT coalesce(max(id), 0) + 1 FROM papers").fetchone()[0])
        self.next_id = self.first_id
        self.indexed_to = self.first_id  # papers below this id are in the search index
        # Places in the library's layout (papers and blocks share them), handed out in
        # file order: a chunk's items take the places from ``places`` on.
        self.next_pos = lib.next_pos()
        self.places = self.next_pos
        # Blocks that were in the library before this import: a block that repeats one of
        # them exactly (the same file imported again) is not added twice. Within one
        # import nothing is merged, so that a file comes back as it was.
        self.old_blocks = int(self.conn.execute(
            "SELECT coalesce(max(id), 0) FROM blocks").fetchone()[0])
        self.file_id: int | None = None
        self.jabref_groups: list[tuple[int, str]] = []  # (file id, jabref-meta comment)
        # Papers to derive again at the end: crossref children and those derived with a
        # macro value the library ended up not having; and, with the macros they missed,
        # those that may yet be defined further on.
        self.rederive: list[int] = []
        # Kept as ints and strings (the names joined by NUL), which the garbage collector
        # does not track: in a window, a collection over 100,000 small tuples held here
        # was the longest pause of the GUI thread during an import.
        self.missed_ids: list[int] = []
        self.missed_names: list[str] = []
        self.generated: set[str] = set()  # folded keys made up for keyless entries
        self.known = dict(lib.macros())  # macros as the library will have them, so far
        # Lower-cased key -> the key as written, and the line of its entry (as above).
        self.seen_in_file: dict[str, str] = {}
        self.seen_lines: dict[str, int] = {}

    # -- driving ------------------------------------------------------------------------------

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=_mp_context(),
                                            initializer=_worker_init)
        return self.pool

    def _start_file(self, path: str, encoding: str = "utf-8", newline: str = "\n") -> None:
        self.seen_in_file, self.seen_lines = {}, {}
        self.file_id = int(self.conn.execute(
            "INSERT INTO files(path, encoding, newline, imported) VALUES (?, ?, ?, ?)",
            [path, encoding, newline, self.stamp]).lastrowid or 0)
        self.report.file_ids.append(self.file_id)

    def run_source(self, src: _Source) -> None:
        """Import one file, a chunk at a time, in parallel when it is large enough."""
        self._start_file(src.path)
        first_warning = len(self.report.warnings)
        bad_lines: list[int] = []
        utf8_seen = False
        line_ends = [0, 0, 0]
        parallel = self.workers > 1 and src.size >= self.parallel_min
        inflight: deque[tuple[Future[ChunkResult], dict[str, str]]] = deque()
        try:
            target = self.chunk_bytes or max(
                MIN_CHUNK_BYTES, min(CHUNK_BYTES, src.size // (4 * self.workers)))
            for data, lines in src.chunks(target):
                if src.data is None:
                    for n, count in enumerate(_line_end_counts(data)):
                        line_ends[n] += count
                task = self._task(src.path, data, lines)
                if parallel:
                    inflight.append((self._pool().submit(parse_chunk, task), task.macros))
                    if len(inflight) < 2 * self.workers:
                        continue
                    future, macros = inflight.popleft()
                    result = future.result()
                else:
                    result, macros = parse_chunk(task), task.macros
                self._consume(src.path, result, macros)
                bad_lines += result.bad_lines
                utf8_seen |= result.utf8_seen
            while inflight:
                future, macros = inflight.popleft()
                result = future.result()
                self._consume(src.path, result, macros)
                bad_lines += result.bad_lines
                utf8_seen |= result.utf8_seen
        finally:
            for future, _ in inflight:
                future.cancel()
        binary = any(f.code == "binary" for f in self.report.failures if f.file == src.path)
        encoding = src.encoding or ("utf-8-sig" if src.bom else "utf-8")
        if bad_lines:
            encoding = "utf-8+cp1252" if utf8_seen or src.bom else "cp1252"
        self.conn.execute("UPDATE files SET encoding = ?, newline = ? WHERE id = ?",
                          [encoding, src.newline or newline_of(*line_ends), self.file_id])
        if bad_lines and (utf8_seen or src.bom) and not binary:
            # As bibtex.parse_file words it: a UTF-8 file with a few Latin-1 lines.
            shown = ", ".join(str(n) for n in bad_lines[:10])
            more = f" and {len(bad_lines) - 10} more" if len(bad_lines) > 10 else ""
            self.report.warnings.insert(first_warning, str(Failure(
                src.path, bad_lines[0], f"line{'s' if len(bad_lines) > 1 else ''} {shown}"
                f"{more} not in UTF-8 like the rest of the file; read as Windows-1252 "
                "(Latin-1)")))

    def _task(self, name: str, data: bytes, lines: int) -> ChunkTask:
        if self.cancelled is not None and self.cancelled():
            from .library import ImportCancelled

            raise ImportCancelled()
        task = ChunkTask(data, name, lines, dict(self.known))
        # The macros after this chunk, for the next: a macro defined again holds from there.
        for b in _string_macros(data, name):
            self.known[(b.name or "").lower()] = bibvalue.evaluate(b.value, self.known)
        return task

    def run_parsed(self, f: ParsedFile) -> None:
        """Import an already parsed file (pasted text, the seed library)."""
        self._start_file(f.path)
        macros = dict(self.known)
        for b in f.blocks:
            if b.kind == "string":
                self.known[(b.name or "").lower()] = bibvalue.evaluate(b.value, self.known)
        # Its failures are in the report already (a strict import stops before this).
        result = chunk_result(f, macros, sum(len(e.source) for e in f.entries))
        result.failures = []
        self._consume(f.path, result, macros)

    # -- one chunk's results -------------------------------------------------------------------

    def _consume(self, name: str, result: ChunkResult, sent: dict[str, str]) -> None:
        """Add a parsed chunk; ``sent`` are the macros its entries were derived with."""
        self.places = self.next_pos
        self.next_pos += result.items + 1
        self._blocks(name, result.blocks, result.block_places)
        self.report.failures.extend(result.failures)
        self.report.warnings.extend(str(w) for w in result.warnings)
        self._entries(name, result.rows, sent)
        self._text(result.tail, result.items)
        if self.next_id - self.indexed_to >= FTS_BATCH:
            self._index_new()
        self.done += result.size
        if self.progress is not None and self.total:
            self.progress(min(self.done, self.total - 1), self.total)

    def _text(self, text: str, place: int) -> None:
        """Text of the file that belongs to no block: a chunk's tail, a dropped entry's lead.

        A chunk's tail is kept even when empty: the last one tells a whole-file export that
        the file ends there (with no line end added).
        """
        self.conn.execute(
            "INSERT INTO blocks(kind, value, source, pos, lead, file_id) "
            "VALUES ('text', '', ?, ?, '', ?)",
            [text, self.places + place, self.file_id])

    def _blocks(self, name: str, blocks: Sequence[ParsedBlock], places: Sequence[int]) -> None:
        for b, place in zip(blocks, places, strict=True):
            if b.kind == "string":
                # The definition in force: the last one before here, as BibTeX reads it.
                row = self.conn.execute(
                    "SELECT value, id FROM blocks WHERE kind = 'string' AND name = ? "
                    "COLLATE NOCASE ORDER BY pos DESC LIMIT 1", [b.name]).fetchone()
                if row is not None and row[1] <= self.old_blocks:
                    if row[0] == b.value:
                        self._text(b.lead, place)  # the same file again: defined already
                        continue
                    self.report.warnings.append(
                        f"{name}: @string {b.name} = {b.value[:40]} replaces the library's "
                        f"{row[0][:40]} for the entries after it (as in BibTeX)")
                self.lib._macros_cache = None
            elif self.old_blocks and self.conn.execute(
                "SELECT 1 FROM blocks WHERE kind = ? AND source = ? AND id <= ?",
                [b.kind, b.source, self.old_blocks]
            ).fetchone():
                self._text(b.lead, place)  # the same file again: kept once
                continue
            elif b.kind == "comment" and b.value.lstrip().startswith("jabref-meta:"):
                self.jabref_groups.append((self.file_id or 0, b.value))
            self.conn.execute(
                "INSERT INTO blocks(kind, name, value, source, pos, lead, file_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [b.kind, b.name, b.value, b.source, self.places + place, b.lead, self.file_id])

    def _entries(self, name: str, rows: Rows, sent: dict[str, str]) -> None:
        from .library import ImportCancelled

        report, seen, cancelled = self.report, self.seen_in_file, self.cancelled
        # A strict import that already failed adds nothing; it still lists what else fails.
        inserting = not (self.strict and report.failures)
        keys = [m[0].strip() for m in rows.meta]
        taken = self._taken(keys) if inserting else set()
        owners = self._doi_owners([m[5] for m in rows.meta if m[5] and is_doi(m[5])]) \
            if inserting else {}
        added_dois: dict[str, str] = {}
        # The library's macros now. A defined macro keeps its value (the first definition
        # wins), so an entry derived with the same values as these is settled for good.
        current = self.lib.macros()
        stale = {n for n in sent.keys() | current.keys() if sent.get(n) != current.get(n)}
        added: list[tuple[int, str]] = []  # (row, key) of the entries to add, in order
        for i, (meta, key) in enumerate(zip(rows.meta, keys, strict=True)):
            if cancelled is not None and cancelled():
                raise ImportCancelled()
            line = meta[1]
            low = key.lower()
            if low in seen:
                # A key given twice in the file: BibTeX uses the first, and the second
                # stays in the file's text, as it was.
                self._text(rows.papers[i][-2] + (rows.papers[i][4] or ""), rows.papers[i][-1])
                first, first_line = seen[low], self.seen_lines[low]
                if first == key:  # as parse_text words it when both are in one chunk
                    message = (f"duplicate key {key!r}: the entry on line {first_line} "
                               "already has it; this one was not imported")
                else:
                    message = (f"key {key!r} collides with {first!r} in the same file "
                               "(BibTeX keys ignore case)")
                report.failures.append(Failure(name, line, message, key))
                continue
            seen[low] = key
            self.seen_lines[low] = line
            if not inserting:
                continue
            if key in taken or (self.generated and fold(key) in self.generated):
                report.duplicates.append(f"{key} ({name}:{line}): key already in the library")
                self._text(rows.papers[i][-2], rows.papers[i][-1])
                continue
            doi = meta[5]
            if doi and is_doi(doi):
                # Another paper may well share it (a preprint and its article, a DOI given
                # by mistake): both are kept, and the duplicates finder shows them.
                owner = added_dois.get(fold(doi)) or owners.get(fold(doi))
                if owner is not None:
                    report.warnings.append(
                        f"{name}:{line}: {key} has DOI {doi}, as {owner} has; both were "
                        "kept (citedesk duplicates lists them)")
            if not key:
                # A keyless entry gets a key, written into its text: the rest stays as it was.
                # What came before goes in first, so that the key is unique among those too.
                self._insert(rows, added)
                added = []
                fields = [tuple(x) for x in json.loads(rows.papers[i][3])]
                key = self.lib.generate_key(fields)  # type: ignore[arg-type]
                self.generated.add(fold(key))
                self._insert(rows, [(i, key)], keyless=True)
                pid = self.next_id - 1
            else:
                added.append((i, key))
                pid = self.next_id + len(added) - 1
            if meta[5] and is_doi(meta[5]):
                added_dois.setdefault(fold(meta[5]), key)
            used = meta[4]
            if meta[3] or (used and stale and not used.isdisjoint(stale)):
                self.rederive.append(pid)
            elif used:
                missing = used.difference(current)
                if missing:
                    self.missed_ids.append(pid)
                    self.missed_names.append("\0".join(missing))
            report.added.append(key)
        self._insert(rows, added)

    def _insert(self, rows: Rows, added: list[tuple[int, str]], keyless: bool = False) -> None:
        """Add the papers (and persons) of these rows of a chunk, with the next ids."""
        if not added:
            return
        base = self.next_id
        ids = range(base, base + len(added))
        self.next_id = ids.stop
        self.report.changes.added.update(ids)
        papers, persons = rows.papers, rows.persons
        if len(added) == len(papers) and all(papers[i][1] == key for i, key in added):
            # Every entry of the chunk, keys as written: the rows go in as they came.
            self.conn.executemany(self.insert_sql.format(offset=base, places=self.places),
                                  papers)
            self.conn.executemany(self.persons_sql.format(offset=base), persons)
            return
        pid_of = {i: pid for (i, _), pid in zip(added, ids, strict=True)}
        self.conn.executemany(self.insert_sql.format(offset=0, places=self.places), [
            (pid, key, papers[i][2], papers[i][3],
             with_key(papers[i][4], key) if keyless else papers[i][4],
             *papers[i][5:]) for (i, key), pid in zip(added, ids, strict=True)])
        self.conn.executemany(self.persons_sql.format(offset=0), [
            (pid_of[p[0]], *p[1:]) for p in persons if p[0] in pid_of])

    def _taken(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        return {k for (k,) in self.conn.execute(
            "SELECT j.value FROM json_each(?) AS j WHERE EXISTS (SELECT 1 FROM papers p "
            "WHERE p.key = j.value COLLATE NOCASE) OR EXISTS (SELECT 1 FROM key_aliases a "
            "WHERE a.alias = j.value)", [json.dumps(keys)])}

    def _doi_owners(self, dois: list[str]) -> dict[str, str]:
        if not dois:
            return {}
        return {fold(doi): key for doi, key in self.conn.execute(
            "SELECT j.value, (SELECT p.key FROM papers p WHERE p.doi = j.value COLLATE NOCASE) "
            "FROM json_each(?) AS j", [json.dumps(dois)]) if key is not None}

    # -- the end ----------------------------------------------------------------------------------

    def finish(self) -> None:
        """Settle crossrefs and late macros, then index the new papers for search."""
        if self.strict and self.report.failures:
            raise _StrictFailure()
        self.lib._macros_cache = None
        defined = set(self.lib.macros())
        late = self.rederive + [pid for pid, names in zip(self.missed_ids, self.missed_names,
                                                          strict=True)
                                if not defined.isdisjoint(names.split("\0"))]
        if late:
            self._rederive(late)
        self._jabref_groups()
        # Papers indexed already whose values changed here are indexed again.
        again = [pid for pid in late if pid < self.indexed_to]
        if again:
            self.lib._index(again)
        self._index_new()

    def _rederive(self, ids: list[int]) -> None:
        """Derive these papers again, each with the macros in force at its place (a macro
        defined only further on still fills in what it can, for display)."""
        strings = self.conn.execute(
            "SELECT pos, name, value FROM blocks WHERE kind = 'string' ORDER BY pos").fetchall()
        everything = self.lib.macros()
        here: dict[str, str] = {}
        macros = ChainMap(here, everything)
        n = 0
        for pid, pos, fields_json in self.conn.execute(
            "SELECT id, pos, fields FROM papers WHERE id IN (SELECT value FROM json_each(?)) "
            "ORDER BY pos", [json.dumps(sorted(set(ids)))]
        ).fetchall():
            while n < len(strings) and strings[n][0] < pos:
                here[strings[n][1].lower()] = bibvalue.evaluate(strings[n][2], here)
                n += 1
            fields = [tuple(x) for x in json.loads(fields_json)]
            cols, d = self.lib._columns(fields, macros)  # type: ignore[arg-type]
            sets = ", ".join(f"{c} = ?" for c in cols)
            self.conn.execute(f"UPDATE papers SET {sets} WHERE id = ?", [*cols.values(), pid])
            self.lib._write_persons(pid, d)

    def _jabref_groups(self) -> None:
        """JabRef's groups of the files imported become tags of their papers."""
        for _file_id, comment in self.jabref_groups:
            groups = jabref.parse_groups(comment)
            if not groups:
                continue
            tagged = jabref.members(groups, self.conn.execute(
                "SELECT id, key, fields FROM papers WHERE id >= ?", [self.first_id]))
            for name, (color, ids) in tagged.items():
                # Every group is a tag, an empty one too: the JabRef user's groups are there.
                self.lib._tag_papers(sorted(ids), name, color)
                self.report.changes.tags = True
                again = [pid for pid in ids if pid < self.indexed_to]
                if again:  # indexed for search already, without the tag
                    self.lib._index(again)

    def _index_new(self) -> None:
        """Index the papers added since the last call (one statement per index: see
        :data:`FTS_BATCH`)."""
        if self.next_id > self.indexed_to:
            self.lib._fill_index("BETWEEN ? AND ?", [self.indexed_to, self.next_id - 1],
                                 notes=False)
            self.indexed_to = self.next_id


# -- entry points (Library.import_files and Library.import_parsed call these) ---------------

def import_files(lib: Library, paths: Sequence[str | os.PathLike[str]], *,
                 strict: bool = False, progress: Progress | None = None,
                 cancelled: Cancelled | None = None, workers: int | None = None,
                 parallel_min: int = PARALLEL_MIN_BYTES,
                 chunk_bytes: int | None = None) -> ImportReport:
    """Import .bib files in one transaction, streaming each; see the module docstring.

    Unreadable files are failures (line 0), not exceptions. ``progress(done, total)`` gets
    bytes; ``cancelled()`` is polled between entries and rolls everything back.
    ``workers`` (default: one per core), ``parallel_min`` and ``chunk_bytes`` tune the
    engine; tests use them to force many chunks and the parallel path on small files.
    """
    from .library import ImportReport

    report = ImportReport()
    sources = []
    for path in paths:
        try:
            sources.append(_open_source(path))
        except _Unreadable as exc:
            report.failures.append(Failure(str(path), 0, str(exc)))
    report.files = [s.path for s in sources]
    total = sum(s.size for s in sources)
    run = _Import(lib, report, strict=strict, cancelled=cancelled, progress=progress,
                  total=total, workers=workers or default_workers(), parallel_min=parallel_min,
                  chunk_bytes=chunk_bytes)

    def body() -> None:
        for src in sources:
            run.run_source(src)

    return _transaction(lib, run, body)


def import_parsed(lib: Library, files: Sequence[ParsedFile], *, strict: bool = False,
                  extra_failures: Sequence[Failure] = (), cancelled: Cancelled | None = None,
                  progress: Progress | None = None) -> ImportReport:
    """Add files parsed already (pasted text, the seed) in one transaction, in-process."""
    from .library import ImportReport

    report = ImportReport(files=[f.path for f in files], failures=list(extra_failures))
    for f in files:
        report.failures.extend(f.failures)
    if strict and report.failures:
        return report
    total = sum(len(e.source) for f in files for e in f.entries)
    run = _Import(lib, report, strict=strict, cancelled=cancelled, progress=progress,
                  total=total, workers=1, parallel_min=0)

    def body() -> None:
        for f in files:
            run.run_parsed(f)

    return _transaction(lib, run, body)


def _fts_config(lib: Library, table: str, name: str, value: object) -> None:
    lib.conn.execute(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)", [name, value])


def _transaction(lib: Library, run: _Import, body: Callable[[], None]) -> ImportReport:
    from .library import Changes, ImportCancelled

    report = run.report
    cache = lib.conn.execute("PRAGMA cache_size").fetchone()[0]
    lib.conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        with lib._write():
            before = {}
            for table in SEARCH_TABLES:
                row = lib.conn.execute(
                    f"SELECT v FROM {table}_config WHERE k = 'hashsize'").fetchone()
                before[table] = row[0] if row else 1 << 20  # FTS5's default: 1 MB
                _fts_config(lib, table, "hashsize", IMPORT_FTS_HASHSIZE)
            body()
            run.finish()
            for table, hashsize in before.items():  # for the small writes of editing
                _fts_config(lib, table, "hashsize", hashsize)
    except ImportCancelled:
        report.added.clear()
        report.changes = Changes()
        report.file_ids.clear()
        report.warnings.append("import cancelled: nothing was added")
    except _StrictFailure:
        report.added.clear()
        report.duplicates.clear()
        report.warnings.clear()
        report.changes = Changes()
        report.file_ids.clear()
    finally:
        run.close()
        lib.conn.execute(f"PRAGMA cache_size = {int(cache)}")
        lib._macros_cache = None
    if run.progress is not None and run.total:
        run.progress(run.total, run.total)
    return report
