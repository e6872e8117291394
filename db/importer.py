"""Importing BibTeX fast: files streamed in chunks, parsed on every core, added in batches.

How, and why:

1. A file is read as bytes and cut into chunks of about 1 MB, each starting at a block
   and with its braces balanced (:mod:`db.chunks`), so memory stays bounded whatever the
   size of the file.
2. Chunks are parsed and their display values derived in worker processes
   (:mod:`db.workers`), a bounded number of chunks in flight, the results taken in file
   order. Inputs under :data:`PARALLEL_MIN_BYTES` run the same code in-process.
3. The main process decides duplicates (key, key alias, DOI) a chunk at a time with one
   query each, inserts papers and persons with ``executemany`` and fills the full-text
   index with one ``INSERT ... SELECT`` per :data:`FTS_BATCH` papers while the workers
   parse on, all in one transaction.
4. What a worker cannot know is settled at the end in one pass: crossref children get
   their parent's values, and entries that used an @string defined only after their chunk
   was sent are derived again.

The engine writes through the library's parts (:class:`Target`), by their public methods.
:mod:`db.bibin` runs it: one :class:`ImportRun` per import, in one transaction.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections import ChainMap, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Protocol

from . import bibvalue, filefields, jabref
from .bibitems import Failure, ParsedBlock, ParsedFile
from .chunks import (
    CHUNK_BYTES,
    MIN_CHUNK_BYTES,
    Source,
    line_end_counts,
    newline_of,
    split_bytes,  # noqa: F401 - tests/db/test_import_engine.py cuts bytes with it
    string_macros,
)
from .chunks import brace_depth as _depth  # noqa: F401 - and counts braces with it
from .citekeys import CiteKeys
from .identifiers import is_doi
from .macros import StringMacros
from .papers import Papers
from .personal import Personal
from .queries import SearchIndex
from .store import Store
from .values import ImportReport, now
from .workers import (
    ChunkResult,
    ChunkTask,
    Rows,
    chunk_result,
    display_column_names,
    mp_context,
    parse_chunk,
    worker_init,
)

#: Inputs smaller than this are parsed in-process (workers cost ~20 ms to fork, more to
#: start from a forkserver the first time).
PARALLEL_MIN_BYTES = 256 << 10
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

_KEY_SLOT = re.compile(r"@[^{(]*[{(][ \t]*")


def with_key(source: str | None, key: str) -> str | None:
    """An entry's text with ``key`` put where its empty key was (``@misc{,`` becomes
    ``@misc{key,``); None when the text does not start that way."""
    if source is None:
        return None
    m = _KEY_SLOT.match(source)
    if m is None or not source[m.end() :].lstrip().startswith((",", "}", ")")):
        return None
    return source[: m.end()] + key + source[m.end() :]


def fold(text: str) -> str:
    """Case-fold as SQLite's NOCASE does (ASCII letters only), for duplicate checks."""
    if text.isascii():
        return text.lower()
    return "".join(c.lower() if c.isascii() else c for c in text)


#: A Windows path (``C:\\x.pdf``, ``\\\\server\\x.pdf``): absolute, if not on this system.
_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]|\\\\")


class ImportCancelled(Exception):
    """Raised inside an import's transaction to roll it back."""


class StrictFailure(Exception):
    """Raised inside the transaction: a strict import saw a failure."""


class Target(Protocol):
    """What an import writes to: a :class:`db.Library`, or its BibTeX-in part."""

    store: Store
    index: SearchIndex
    string_macros: StringMacros
    keys: CiteKeys
    personal: Personal
    papers: Papers


class ImportRun:
    """One import run: its report, the ids it hands out, what is settled at the end."""

    def __init__(
        self,
        lib: Target,
        report: ImportReport,
        *,
        strict: bool,
        cancelled: Cancelled | None,
        progress: Progress | None,
        total: int,
        workers: int,
        parallel_min: int,
        chunk_bytes: int | None = None,
    ) -> None:
        self.store = lib.store
        self.conn = lib.store.conn
        self.index = lib.index
        self.macros = lib.string_macros
        self.keys = lib.keys
        self.papers = lib.papers
        self.personal = lib.personal
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
        self.insert_sql = (
            f"INSERT INTO papers(id, added, modified, {', '.join(names)}, pos) "
            f"VALUES ({{offset}} + ?, '{self.stamp}', '{self.stamp}', "
            f"{', '.join('?' for _ in names)}, {{places}} + ?)"
        )
        self.persons_sql = (
            "INSERT INTO persons(paper_id, role, position, family, given, "
            "prefix, suffix) VALUES ({offset} + ?, ?, ?, ?, ?, ?, ?)"
        )
        self.first_id = int(
            self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM papers").fetchone()[0]
        )
        self.next_id = self.first_id
        self.indexed_to = self.first_id  # papers below this id are in the search index
        # Places in the library's layout (papers and blocks share them), handed out in
        # file order: a chunk's items take the places from ``places`` on.
        self.next_pos = self.papers.next_pos()
        self.places = self.next_pos
        # Blocks that were in the library before this import: a block that repeats one of
        # them exactly (the same file imported again) is not added twice. Within one
        # import nothing is merged, so that a file comes back as it was.
        self.old_blocks = int(
            self.conn.execute("SELECT coalesce(max(id), 0) FROM blocks").fetchone()[0]
        )
        self.file_id: int | None = None
        #: (first paper id, path) of each file imported, for its relative file paths.
        self.file_starts: list[tuple[int, str]] = []
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
        # The macros as the library will have them, so far (read ahead of the chunks).
        self.known = dict(self.macros.current())
        # The macros in force after the blocks added so far, kept as they are added: what
        # the library's own macros would give, without reading them back for every chunk.
        self.in_force = dict(self.known)
        self._old_blocks: set[tuple[str, str]] | None = None  # (kind, source), see _repeated
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
            self.pool = ProcessPoolExecutor(
                self.workers, mp_context=mp_context(), initializer=worker_init
            )
        return self.pool

    def _start_file(self, path: str, encoding: str = "utf-8", newline: str = "\n") -> None:
        self.seen_in_file, self.seen_lines = {}, {}
        self.file_starts.append((self.next_id, path))
        self.file_id = int(
            self.conn.execute(
                "INSERT INTO files(path, encoding, newline, imported) VALUES (?, ?, ?, ?)",
                [path, encoding, newline, self.stamp],
            ).lastrowid
            or 0
        )
        self.report.file_ids.append(self.file_id)
        undo = self.store.recording()
        undo.created("files", "id", [self.file_id])
        undo.created("blocks", "file_id", [self.file_id])

    def run_source(self, src: Source) -> None:
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
                MIN_CHUNK_BYTES, min(CHUNK_BYTES, src.size // (4 * self.workers))
            )
            for data, lines in src.chunks(target):
                if src.data is None:
                    for n, count in enumerate(line_end_counts(data)):
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
        self.conn.execute(
            "UPDATE files SET encoding = ?, newline = ? WHERE id = ?",
            [encoding, src.newline or newline_of(*line_ends), self.file_id],
        )
        if bad_lines and (utf8_seen or src.bom) and not binary:
            # As bibtex.parse_file words it: a UTF-8 file with a few Latin-1 lines.
            shown = ", ".join(str(n) for n in bad_lines[:10])
            more = f" and {len(bad_lines) - 10} more" if len(bad_lines) > 10 else ""
            self.report.warnings.insert(
                first_warning,
                str(
                    Failure(
                        src.path,
                        bad_lines[0],
                        f"line{'s' if len(bad_lines) > 1 else ''} {shown}"
                        f"{more} not in UTF-8 like the rest of the file; read as Windows-1252 "
                        "(Latin-1)",
                    )
                ),
            )

    def _task(self, name: str, data: bytes, lines: int) -> ChunkTask:
        if self.cancelled is not None and self.cancelled():
            raise ImportCancelled()
        task = ChunkTask(data, name, lines, dict(self.known))
        # The macros after this chunk, for the next: a macro defined again holds from there.
        for b in string_macros(data, name):
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
        # A macro whose value the worker guessed wrong at the chunk's start (read ahead of
        # the chunk, see _task) makes the entries that used it be derived again at the end.
        # The workers took the chunk's own definitions in order, so the macros in force at
        # its start are what ``sent`` is compared with.
        in_force = self.in_force
        stale = {n for n in sent.keys() | in_force.keys() if sent.get(n) != in_force.get(n)}
        self._blocks(name, result.blocks, result.block_places)
        self.report.failures.extend(result.failures)
        self.report.warnings.extend(str(w) for w in result.warnings)
        self._entries(name, result.rows, stale)
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
            [text, self.places + place, self.file_id],
        )

    def _blocks(self, name: str, blocks: Sequence[ParsedBlock], places: Sequence[int]) -> None:
        for b, place in zip(blocks, places, strict=True):
            if b.kind == "string":
                # The definition in force: the last one before here, as BibTeX reads it.
                row = self.conn.execute(
                    "SELECT value, id FROM blocks WHERE kind = 'string' AND name = ? "
                    "COLLATE NOCASE ORDER BY pos DESC LIMIT 1",
                    [b.name],
                ).fetchone()
                if row is not None and row[1] <= self.old_blocks:
                    if row[0] == b.value:
                        self._text(b.lead, place)  # the same file again: defined already
                        continue
                    self.report.warnings.append(
                        f"{name}: @string {b.name} = {b.value[:40]} replaces the library's "
                        f"{row[0][:40]} for the entries after it (as in BibTeX)"
                    )
                self.macros.forget()
                self.in_force[(b.name or "").lower()] = bibvalue.evaluate(b.value, self.in_force)
            elif self._repeated(b):
                self._text(b.lead, place)  # the same file again: kept once
                continue
            elif b.kind == "comment" and b.value.lstrip().startswith("jabref-meta:"):
                self.jabref_groups.append((self.file_id or 0, b.value))
            self.conn.execute(
                "INSERT INTO blocks(kind, name, value, source, pos, lead, file_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [b.kind, b.name, b.value, b.source, self.places + place, b.lead, self.file_id],
            )
            self.report.changes.blocks = True

    def _repeated(self, block: ParsedBlock) -> bool:
        """Whether a library had this @comment or @preamble before the import began; their
        texts are read once, when the first such block comes."""
        if not self.old_blocks:
            return False
        if self._old_blocks is None:
            self._old_blocks = set(
                self.conn.execute(
                    "SELECT kind, source FROM blocks WHERE kind IN ('comment', 'preamble') "
                    "AND id <= ?",
                    [self.old_blocks],
                )
            )
        return (block.kind, block.source) in self._old_blocks

    def _entries(self, name: str, rows: Rows, stale: set[str]) -> None:
        report, seen, cancelled = self.report, self.seen_in_file, self.cancelled
        # A strict import that already failed adds nothing; it still lists what else fails.
        inserting = not (self.strict and report.failures)
        keys = [m[0].strip() for m in rows.meta]
        taken = self._taken(keys) if inserting else set()
        owners = (
            self._doi_owners([m[5] for m in rows.meta if m[5] and is_doi(m[5])])
            if inserting
            else {}
        )
        added_dois: dict[str, str] = {}
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
                    message = (
                        f"duplicate key {key!r}: the entry on line {first_line} "
                        "already has it; this one was not imported"
                    )
                else:
                    message = (
                        f"key {key!r} collides with {first!r} in the same file "
                        "(BibTeX keys ignore case)"
                    )
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
                        "kept (citedesk duplicates lists them)"
                    )
            if not key:
                # A keyless entry gets a key, written into its text: the rest stays as it was.
                # What came before goes in first, so that the key is unique among those too.
                self._insert(rows, added)
                added = []
                fields = [tuple(x) for x in json.loads(rows.papers[i][3])]
                key = self.keys.generate_key(fields)
                self.generated.add(fold(key))
                self._insert(rows, [(i, key)], keyless=True)
                pid = self.next_id - 1
            else:
                added.append((i, key))
                pid = self.next_id + len(added) - 1
            if meta[5] and is_doi(meta[5]):
                added_dois.setdefault(fold(meta[5]), key)
            used, missing = meta[4], meta[6]
            if meta[3] or (used and stale and not used.isdisjoint(stale)):
                self.rederive.append(pid)
            elif missing:
                # Not defined before the entry: one defined further on still fills in what
                # the window shows (BibTeX would leave it empty).
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
        self.store.recording().created_papers(ids)
        papers, persons = rows.papers, rows.persons
        if len(added) == len(papers) and all(papers[i][1] == key for i, key in added):
            # Every entry of the chunk, keys as written: the rows go in as they came.
            self.conn.executemany(self.insert_sql.format(offset=base, places=self.places), papers)
            self.conn.executemany(self.persons_sql.format(offset=base), persons)
            return
        pid_of = {i: pid for (i, _), pid in zip(added, ids, strict=True)}
        self.conn.executemany(
            self.insert_sql.format(offset=0, places=self.places),
            [
                (
                    pid,
                    key,
                    papers[i][2],
                    papers[i][3],
                    with_key(papers[i][4], key) if keyless else papers[i][4],
                    *papers[i][5:],
                )
                for (i, key), pid in zip(added, ids, strict=True)
            ],
        )
        self.conn.executemany(
            self.persons_sql.format(offset=0),
            [(pid_of[p[0]], *p[1:]) for p in persons if p[0] in pid_of],
        )

    def _taken(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        return {
            k
            for (k,) in self.conn.execute(
                "SELECT j.value FROM json_each(?) AS j WHERE EXISTS (SELECT 1 FROM papers p "
                "WHERE p.key = j.value COLLATE NOCASE) OR EXISTS (SELECT 1 FROM key_aliases a "
                "WHERE a.alias = j.value)",
                [json.dumps(keys)],
            )
        }

    def _doi_owners(self, dois: list[str]) -> dict[str, str]:
        if not dois:
            return {}
        return {
            fold(doi): key
            for doi, key in self.conn.execute(
                "SELECT j.value, (SELECT p.key FROM papers p WHERE p.doi = j.value COLLATE NOCASE) "
                "FROM json_each(?) AS j",
                [json.dumps(dois)],
            )
            if key is not None
        }

    # -- the end ----------------------------------------------------------------------------------

    def finish(self) -> None:
        """Settle crossrefs and late macros, then index the new papers for search."""
        if self.strict and self.report.failures:
            raise StrictFailure()
        self.macros.forget()
        defined = set(self.macros.current())
        late = self.rederive + [
            pid
            for pid, names in zip(self.missed_ids, self.missed_names, strict=True)
            if not defined.isdisjoint(names.split("\0"))
        ]
        if late:
            self._rederive(late)
        self._jabref_groups()
        self._linked_files()
        # Papers indexed already whose values changed here are indexed again.
        again = [pid for pid in late if pid < self.indexed_to]
        if again:
            self.index.update(again)
        self._index_new()

    def _rederive(self, ids: list[int]) -> None:
        """Derive these papers again, each with the macros in force at its place (a macro
        defined only further on still fills in what it can, for display)."""
        strings = self.conn.execute(
            "SELECT pos, name, value FROM blocks WHERE kind = 'string' ORDER BY pos"
        ).fetchall()
        everything = self.macros.current()
        here: dict[str, str] = {}
        macros = ChainMap(here, everything)
        n = 0
        for pid, pos, fields_json in self.conn.execute(
            "SELECT id, pos, fields FROM papers WHERE id IN (SELECT value FROM json_each(?)) "
            "ORDER BY pos",
            [json.dumps(sorted(set(ids)))],
        ).fetchall():
            while n < len(strings) and strings[n][0] < pos:
                here[strings[n][1].lower()] = bibvalue.evaluate(strings[n][2], here)
                n += 1
            fields = [tuple(x) for x in json.loads(fields_json)]
            self.papers.rederive(pid, fields, macros)

    def _jabref_groups(self) -> None:
        """JabRef's groups of the files imported become tags of their papers."""
        for _file_id, comment in self.jabref_groups:
            groups = jabref.parse_groups(comment)
            if not groups:
                continue
            tagged = jabref.members(
                groups,
                self.conn.execute(
                    "SELECT id, key, fields FROM papers WHERE id >= ?", [self.first_id]
                ),
            )
            for name, (color, ids) in tagged.items():
                # Every group is a tag, an empty one too: the JabRef user's groups are there.
                self.personal.tag_papers(sorted(ids), name, color)
                self.report.changes.tags = True
                again = [pid for pid in ids if pid < self.indexed_to]
                if again:  # indexed for search already, without the tag
                    self.index.update(again)

    def _linked_files(self) -> None:
        """Files named in the ``file`` fields other tools write (JabRef, Zotero, Mendeley,
        BibDesk) become linked attachments; a relative path is taken from the .bib file's
        folder. Files are not read here (an import of 10,000 entries with their PDFs would
        read gigabytes): their hash is taken when full text is indexed or relinked."""
        rows = self.conn.execute(
            "SELECT id, fields FROM papers WHERE id >= ? AND (lower(fields) LIKE '%[\"file%' "
            "OR lower(fields) LIKE '%[\"bdsk-file-%')",
            [self.first_id],
        ).fetchall()
        if not rows:
            return
        starts = sorted(self.file_starts)
        linked: list[tuple[object, ...]] = []
        for pid, fields_json in rows:
            refs = filefields.file_refs(tuple(x) for x in json.loads(fields_json))
            source = next((p for first, p in reversed(starts) if first <= pid), "")
            folder = (
                Path(source).absolute().parent if source and not source.startswith("<") else None
            )
            position = 0
            for ref in refs:
                if ref.is_url:
                    continue
                path = filefields.resolve(ref, folder or Path(""))
                if folder is None and not (path.is_absolute() or _WINDOWS_PATH.match(ref.path)):
                    continue  # pasted text: a relative path names nothing
                position += 1
                kind = ref.type.lower()
                mime = (
                    "application/pdf"
                    if kind in ("pdf", "application/pdf") or path.suffix.lower() == ".pdf"
                    else mimetypes.guess_type(path.name)[0] or ""
                )
                role = "main" if position == 1 else "supplement"
                linked.append((pid, position, str(path), role, ref.description, mime, self.stamp))
        self.conn.executemany(
            "INSERT INTO attachments(paper_id, position, stored, path, role, description, mime,"
            " added) VALUES (?, ?, 0, ?, ?, ?, ?, ?)",
            linked,
        )
        self.report.changes.files |= bool(linked)

    def _index_new(self) -> None:
        """Index the papers added since the last call (one statement per index: see
        :data:`FTS_BATCH`)."""
        if self.next_id > self.indexed_to:
            self.index.add_new(self.indexed_to, self.next_id - 1)
            self.indexed_to = self.next_id
