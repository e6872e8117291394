"""BibTeX in: the import part of a library, and running an import in one transaction.

The engine is :mod:`db.importer`; :func:`import_files` and :func:`import_parsed` run it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from . import bibitems, bibtex, csljson, ris
from .bibitems import Failure, ParsedFile
from .chunks import Source, Unreadable, open_source
from .citekeys import CiteKeys
from .importer import (
    IMPORT_CACHE_KIB,
    IMPORT_FTS_HASHSIZE,
    PARALLEL_MIN_BYTES,
    Cancelled,
    ImportCancelled,
    ImportRun,
    Progress,
    StrictFailure,
    Target,
)
from .macros import StringMacros
from .papers import Papers
from .personal import Personal
from .queries import SearchIndex
from .store import Store
from .values import Changes, ImportReport
from .workers import default_workers


class Imports:
    """Imports of files, text and parsed files, each in one transaction.

    It holds the parts an import writes to (an :class:`db.importer.Target`).
    """

    def __init__(
        self,
        store: Store,
        index: SearchIndex,
        string_macros: StringMacros,
        keys: CiteKeys,
        personal: Personal,
        papers: Papers,
    ) -> None:
        self.store = store
        self.index = index
        self.string_macros = string_macros
        self.keys = keys
        self.personal = personal
        self.papers = papers

    def import_seed(self) -> ImportReport:
        """Add the 25 seeded papers (used when a library is created)."""
        from importlib.resources import files

        text = files("citedesk.seeds").joinpath("seed.bib").read_text(encoding="utf-8")
        return self.import_text(text, name="seed.bib")

    def import_text(self, text: str, name: str = "<pasted text>") -> ImportReport:
        """Import a BibTeX text: a large one (a group's papers joining, a huge paste) as a
        file is imported, in chunks parsed on every core; a small one in this process."""
        if len(text) >= PARALLEL_MIN_BYTES:
            return self.import_bibtex(text, name)
        return self.import_parsed([bibtex.parse_text(text, name)])

    def import_bibtex(self, text: str, name: str) -> ImportReport:
        """Import a BibTeX text through the file engine (parsed in this process, a group's
        100,000 papers took 2.4x as long)."""
        data = text.encode("utf-8")
        src = Source(name, len(data), data=data, encoding="utf-8", newline="\n")
        report = ImportReport(files=[name])
        run = ImportRun(
            self,
            report,
            strict=False,
            cancelled=None,
            progress=None,
            total=len(data),
            workers=default_workers(),
            parallel_min=PARALLEL_MIN_BYTES,
        )
        return _transaction(self, run, lambda: run.run_source(src))

    def import_files(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        strict: bool = False,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportReport:
        """Import .bib files in one transaction. Unreadable files are failures, not exceptions.

        Files are streamed in chunks and parsed on every core (see :mod:`db.importer`).
        ``progress(done_bytes, total_bytes)`` is called as chunks are added; ``cancelled`` is
        polled between entries, and when it returns True the import is rolled back. With
        ``strict`` nothing is added when anything failed.
        """
        return import_files(self, paths, strict=strict, progress=progress, cancelled=cancelled)

    def import_parsed(
        self,
        files: Sequence[bibitems.ParsedFile],
        *,
        strict: bool = False,
        extra_failures: Sequence[bibitems.Failure] = (),
        cancelled: Callable[[], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Add parsed files in one transaction and report what became of every entry.

        With ``strict`` nothing is added when anything failed. ``cancelled`` is a callable
        polled between entries; when it returns True the import is rolled back.
        """
        return import_parsed(
            self,
            files,
            strict=strict,
            extra_failures=extra_failures,
            cancelled=cancelled,
            progress=progress,
        )

    def import_other_text(self, text: str, name: str = "<pasted text>") -> ImportReport:
        """Import a text in any format Citedesk reads (BibTeX, RIS, CSL-JSON)."""
        fmt = text_format(text)
        if fmt == "bibtex":
            return self.import_text(text, name)
        return self.import_parsed([read_other_text(text, name, fmt)])


# -- other tools' formats: RIS and CSL-JSON ---------------------------------------------------

_BIBTEX_ENTRY = re.compile(r"^[ \t]*@[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
#: How much of a file's start tells its format.
_SNIFF_BYTES = 64 * 1024


def text_format(text: str) -> str:
    """``"csl-json"``, ``"ris"`` or ``"bibtex"``, told by the text itself, not a file name."""
    if csljson.looks_like(text) and not _BIBTEX_ENTRY.search(text):
        # (A .bib may open with any text, a bracket too; JSON has no line opening "@type{".)
        return "csl-json"
    if ris.looks_like(text):
        return "ris"
    return "bibtex"


def file_format(path: str | os.PathLike[str]) -> str:
    """The format of a file by its first bytes (``"bibtex"`` when unreadable: the BibTeX
    import then says why)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return "bibtex"
    return text_format(head.decode("utf-8", errors="replace"))


def read_other_text(text: str, name: str, fmt: str) -> ParsedFile:
    """A RIS or CSL-JSON text as a parsed file the import engine takes."""
    return (csljson.read_text if fmt == "csl-json" else ris.read_text)(text, name)


def read_other_file(path: str | os.PathLike[str], fmt: str) -> ParsedFile:
    """A RIS or CSL-JSON file, read whole (they are small: a record is a few hundred bytes)."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # EndNote on Windows writes ANSI
    return read_other_text(text, str(path), fmt)


# -- running the engine (db/importer.py) in one transaction ----------------------------------


def import_files(
    lib: Target,
    paths: Sequence[str | os.PathLike[str]],
    *,
    strict: bool = False,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    workers: int | None = None,
    parallel_min: int = PARALLEL_MIN_BYTES,
    chunk_bytes: int | None = None,
) -> ImportReport:
    """Import files in one transaction; see the module docstring. Each file's format is
    told by its content: BibTeX is streamed; a RIS or CSL-JSON file (small: a record is a
    few hundred bytes) is read whole into BibTeX entries whose problems name the file and
    the line of the record (:mod:`db.csljson`), and one that does not parse at all adds
    nothing and is one failure.

    Unreadable files are failures (line 0), not exceptions. ``progress(done, total)`` gets
    bytes; ``cancelled()`` is polled between entries and rolls everything back.
    ``workers`` (default: one per core), ``parallel_min`` and ``chunk_bytes`` tune the
    engine; tests use them to force many chunks and the parallel path on small files.
    """
    report = ImportReport()
    steps: list[Source | ParsedFile] = []
    for path in paths:
        fmt = file_format(path)
        try:
            steps.append(open_source(path) if fmt == "bibtex" else read_other_file(path, fmt))
        except Unreadable as exc:
            report.failures.append(Failure(str(path), 0, str(exc)))
        except OSError as exc:
            report.failures.append(Failure(str(path), 0, f"cannot be read ({exc.strerror or exc})"))
    for step in steps:
        if isinstance(step, ParsedFile):
            report.failures.extend(step.failures)
    report.files = [s.path for s in steps]
    total = sum(
        s.size if isinstance(s, Source) else sum(len(e.source) for e in s.entries) for s in steps
    )
    run = ImportRun(
        lib,
        report,
        strict=strict,
        cancelled=cancelled,
        progress=progress,
        total=total,
        workers=workers or default_workers(),
        parallel_min=parallel_min,
        chunk_bytes=chunk_bytes,
    )

    def body() -> None:
        for step in steps:
            if isinstance(step, ParsedFile):
                run.run_parsed(step)
            else:
                run.run_source(step)

    return _transaction(lib, run, body)


def import_parsed(
    lib: Target,
    files: Sequence[ParsedFile],
    *,
    strict: bool = False,
    extra_failures: Sequence[Failure] = (),
    cancelled: Cancelled | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Add files parsed already (pasted text, the seed) in one transaction, in-process."""
    report = ImportReport(files=[f.path for f in files], failures=list(extra_failures))
    for f in files:
        report.failures.extend(f.failures)
    if strict and report.failures:
        return report
    total = sum(len(e.source) for f in files for e in f.entries)
    run = ImportRun(
        lib,
        report,
        strict=strict,
        cancelled=cancelled,
        progress=progress,
        total=total,
        workers=1,
        parallel_min=0,
    )

    def body() -> None:
        for f in files:
            run.run_parsed(f)

    return _transaction(lib, run, body)


def _transaction(lib: Target, run: ImportRun, body: Callable[[], None]) -> ImportReport:
    report = run.report
    conn = lib.store.conn
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        with lib.store.write() as w, lib.index.bulk(IMPORT_FTS_HASHSIZE):
            body()
            run.finish()
        if report.changes:
            report.changes.status = True  # new papers are unread
            w.result(report.changes)
    except ImportCancelled:
        report.added.clear()
        report.changes = Changes()
        report.file_ids.clear()
        report.warnings.append("import cancelled: nothing was added")
    except StrictFailure:
        report.added.clear()
        report.duplicates.clear()
        report.warnings.clear()
        report.changes = Changes()
        report.file_ids.clear()
    finally:
        run.close()
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
        lib.string_macros.forget()
    if run.progress is not None and run.total:
        run.progress(run.total, run.total)
    return report
