"""What an import's workers do: parse a chunk and derive the rows the library stores.

Chunks (:mod:`db.chunks`) are parsed by :func:`db.bibtex.parse_text` and their display
values derived by :func:`db.derive.derive` in worker processes; what comes back is rows
ready for ``executemany`` (:class:`Rows`). Inputs too small to be worth a worker run the
same code in-process.

Workers are forked while the process has a single thread (the command line); a process
with other threads (the window) starts them from a forkserver, as forking it could
deadlock. Then, as with every start method but fork, a script that imports must keep its
top level under ``if __name__ == "__main__":``, or each worker runs it again.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import bibdecode, bibtex, bibvalue, derive
from .bibitems import Failure, ParsedBlock, ParsedEntry, ParsedFile
from .papers import display_columns


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
    ``tail`` the text after the last of them (see :attr:`db.bibitems.ParsedFile.items`).
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
    return ChunkResult(
        entry_rows(pf.items, macros),
        pf.blocks,
        pf.failures,
        pf.warnings,
        size,
        block_places=places,
        items=len(pf.items),
        tail=pf.tail,
    )


class _MacroLookup(dict[str, str]):
    """The macros for derive(), noting every name it looks up (found or not)."""

    used: set[str]

    def __contains__(self, name: object) -> bool:
        self.used.add(str(name))
        return dict.__contains__(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        self.used.add(name)
        return dict.get(self, name, default)

    def __missing__(self, name: str) -> str:
        self.used.add(name)
        raise KeyError(name)


def display_column_names() -> tuple[str, ...]:
    return tuple(display_columns(derive.Derived()))


@dataclass
class Rows:
    """Everything the library stores for a chunk's entries, ready for ``executemany``.

    ``meta[i]`` is ``(key, line, doi_as_written, has_crossref, macros_looked_up, doi,
    macros_not_defined_there)`` for deciding duplicates and what to derive again;
    ``papers[i]`` is ``(i, key, entry_type, fields_json, source,
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
        d = derive.derive(e.fields, lookup)
        fmap = derive.field_map(e.fields)
        doi = bibvalue.evaluate(fmap["doi"]).strip() if "doi" in fmap else ""
        rows.persons.extend(
            (i, "author", n, p.family, p.given, p.prefix, p.suffix) for n, p in enumerate(d.authors)
        )
        rows.persons.extend(
            (i, "editor", n, p.family, p.given, p.prefix, p.suffix) for n, p in enumerate(d.editors)
        )
        used = lookup.used
        missing = frozenset(n for n in used if not dict.__contains__(lookup, n)) if used else None
        rows.meta.append(
            (
                e.key,
                e.line,
                doi,
                "crossref" in fmap,
                frozenset(used) or None,
                d.doi,
                missing or None,
            )
        )
        rows.papers.append(
            (
                i,
                e.key,
                e.entry_type,
                json.dumps(e.fields),
                e.source,
                *display_columns(d).values(),
                e.lead,
                place,
            )
        )
    return rows


def parse_chunk(task: ChunkTask) -> ChunkResult:
    """Parse one chunk and derive its entries' values (runs in a worker process)."""
    was_enabled = gc.isenabled()
    gc.disable()  # many short-lived objects and no cycles worth collecting meanwhile
    try:
        text, bad, utf8_seen = bibdecode.decode_lines(task.data)
        pf = bibtex.parse_text(
            text,
            task.name,
            first_line=task.line_offset + 1,
            undefined=bibdecode.undefined_bytes(task.data, bad),
        )
        result = chunk_result(pf, task.macros, len(task.data))
        result.bad_lines = [task.line_offset + n for n in bad]
        result.utf8_seen = utf8_seen
        return result
    finally:
        if was_enabled:
            gc.enable()


def worker_init() -> None:
    # Failures are reported with file and line in the ImportReport; the parser's own log
    # lines would only repeat them on the terminal.
    logging.getLogger("bibtexparser").setLevel(logging.ERROR)


def mp_context() -> multiprocessing.context.BaseContext:
    """fork while this process has one thread (instant, and no re-run of ``__main__``);
    otherwise (a GUI) forkserver, since forking a process with other threads can deadlock."""
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        threads = 0  # not Linux: count Python's threads only
    if "fork" in multiprocessing.get_all_start_methods() and (
        threads == 1 or (threads == 0 and threading.active_count() == 1)
    ):
        return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["citedesk.db.workers"])
        return ctx
    return multiprocessing.get_context("spawn")


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
