"""Citedesk's performance figures, each against its budget (issue 6).

    python -m tests.bench.run [--sizes 1k,10k,100k] [--runs N] [--figures import,export,...]

The full-text figures (issue 14: fulltext-index, fulltext-memory, search-fulltext,
freeze-indexing) work on a seeded corpus of 1,000 PDFs of about 10 pages
(tests/bench/pdfcorpus.py, generated once into the cache directory) and print SKIP while
``Library.index_fulltext`` does not exist.

Prints one line per figure: the median and spread over ``--runs`` runs, the peak memory, a
ratio against a reference measured in the same run (bibtexparser's parse of the same file,
opening the 25-paper seeded library, ...), and the budget with PASS or FAIL.

Every measurement runs in a fresh Python process. Its peak memory is the larger of the
resident memory of its whole process tree (import workers included), sampled from /proc
every 50 ms by this process, and the child's own ``getrusage`` maximum RSS. Libraries and
.bib files are generated once, seeded, into ``/tmp/citedesk-bench`` (``CITEDESK_BENCH_DIR``);
a run never writes into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench import generate, pdfcorpus  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PAGE = os.sysconf("SC_PAGE_SIZE")
#: Rows the table shows at once; the window fetches about this many after each query.
VISIBLE_ROWS = 60

# What a person types in the search box, one keystroke at a time (every prefix is a query).
TYPED = [
    "transformer",
    "gradient descent",
    "müller",
    "author:wang",
    "kernel year:2010..2020",
    "sch",
    "privacy federated",
    "convergence",
    '"neural network"',
    "tag:survey",
    "zh",
    "robust -adversarial",
    "diffusion model",
    "garcía",
    "bayes",
]

#: The figures measured in a window (gui.py), in the order they are run.
_GUI_FIGURE_ORDER = [
    "open",
    "gui-search",
    "gui-type",
    "select",
    "gui-memory",
    "freeze-import",
    "freeze-export",
    "autoexport-edit",
    "freeze-indexing",
]
#: Issue 14's figures: full text of attached PDFs, and attaching files.
_FILE_FIGURES = ["fulltext-index", "fulltext-memory", "search-fulltext", "attach-rename"]
ALL_FIGURES = ["import", "jabref", "export", "search", "sort", *_FILE_FIGURES, *_GUI_FIGURE_ORDER]
GUI_FIGURES = set(_GUI_FIGURE_ORDER)


# -- in the child process ---------------------------------------------------------------------


def _rusage() -> dict[str, float]:
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "maxrss_mb": me.ru_maxrss / 1024,
        "children_maxrss_mb": kids.ru_maxrss / 1024,
        "cpu_s": me.ru_utime + me.ru_stime,
        "children_cpu_s": kids.ru_utime + kids.ru_stime,
    }


def _report(**values: Any) -> None:
    print("RESULT " + json.dumps({**values, **_rusage()}), flush=True)


def child_parse(bib: str, stack: str) -> None:
    import bibtexparser

    t = time.perf_counter()
    if stack == "default":
        lib = bibtexparser.parse_file(bib)
    else:
        lib = bibtexparser.parse_file(bib, parse_stack=[])
    seconds = time.perf_counter() - t
    _report(seconds=seconds, entries=len(lib.entries))


def child_import(bib: str, target: str) -> None:
    from citedesk.db import Library

    lib = Library.open(target, seed=False)
    t = time.perf_counter()
    report = lib.import_files([bib])
    seconds = time.perf_counter() - t
    lib.close()
    _report(seconds=seconds, added=len(report.added), failures=len(report.failures))


def child_export(library: str, target: str) -> None:
    from citedesk.db import Library

    lib = Library.open(library, seed=False)
    t = time.perf_counter()
    n = lib.export(target)
    seconds = time.perf_counter() - t
    lib.close()
    _report(seconds=seconds, entries=n, bytes=os.path.getsize(target))


def child_search(library: str) -> None:
    from citedesk.db import Library, Query

    lib = Library.open(library, seed=False)
    lib.rows(lib.paper_ids(limit=VISIBLE_ROWS))  # the window has shown the table
    times: list[float] = []
    worst = ("", 0.0, 0)
    for text in TYPED:
        for i in range(1, len(text) + 1):
            query = Query(search=text[:i])
            t = time.perf_counter()
            ids = lib.paper_ids(query, sort="added", descending=True)
            lib.rows(ids[:VISIBLE_ROWS])
            dt = time.perf_counter() - t
            times.append(dt)
            if dt > worst[1]:
                worst = (text[:i], dt, len(ids))
    lib.close()
    _report(samples=times, worst=list(worst))


def child_sort(library: str) -> None:
    from citedesk.db import Library
    from citedesk.db.library import SORT_COLUMNS

    lib = Library.open(library, seed=False)
    lib.rows(lib.paper_ids(limit=VISIBLE_ROWS))
    times: dict[str, float] = {}
    for column in SORT_COLUMNS:
        for descending in (False, True):
            t = time.perf_counter()
            ids = lib.paper_ids(sort=column, descending=descending)
            lib.rows(ids[:VISIBLE_ROWS])
            times[f"{column}{' desc' if descending else ''}"] = time.perf_counter() - t
    lib.close()
    _report(samples=list(times.values()), by_column=times)


def child_pdf_bare(folder: str) -> None:
    """The reference for indexing: a bare single-process pypdfium2 loop over the corpus,
    every page's text, every object closed."""
    import pypdfium2 as pdfium

    names = json.loads((Path(folder) / pdfcorpus.MANIFEST).read_text())["files"]
    pages = chars = 0
    t = time.perf_counter()
    for name in names:
        doc = pdfium.PdfDocument(Path(folder) / name)
        try:
            for i in range(len(doc)):
                page = doc[i]
                textpage = page.get_textpage()
                chars += len(textpage.get_text_range())
                textpage.close()
                page.close()
                pages += 1
        finally:
            doc.close()
    seconds = time.perf_counter() - t
    _report(seconds=seconds, files=len(names), pages=pages, chars=chars)


def child_fulltext_index(library: str) -> None:
    from citedesk.db import Library

    lib = Library.open(library, seed=False)
    t = time.perf_counter()
    report = lib.index_fulltext()
    seconds = time.perf_counter() - t
    lib.close()
    _report(
        seconds=seconds,
        indexed=report.indexed,
        pages=report.pages,
        failed=[list(f) for f in report.failed[:5]],
        n_failed=len(report.failed),
        skipped=report.skipped,
        cancelled=report.cancelled,
    )


def child_attach_rename(library: str, pdfs: str) -> None:
    """Attach a stored ~1 MB PDF to a paper, then rename it; once per PDF, each on its own
    paper (papers without files, picked with a seed)."""
    import random

    from citedesk.db import Library

    files = json.loads(pdfs)
    lib = Library.open(library, seed=False)
    ids = lib.paper_ids()
    rng = random.Random(generate.DEFAULT_SEED + 14)
    chosen = [pid for pid in rng.sample(ids, min(len(ids), 4 * len(files)))]
    chosen = [pid for pid in chosen if not lib.attachments_of(pid)][: len(files)]
    times: list[float] = []
    for i, (pid, pdf) in enumerate(zip(chosen, files, strict=False)):
        t = time.perf_counter()
        lib.attach(pid, [pdf])
        att = max(lib.attachments_of(pid), key=lambda a: a.position)
        lib.rename_attachment(att.id, f"Renamed by the benchmark {i}.pdf")
        times.append(time.perf_counter() - t)
    lib.close()
    _report(samples=times)


CHILDREN: dict[str, Callable[..., None]] = {
    "parse": child_parse,
    "pdf-bare": child_pdf_bare,
    "fulltext-index": child_fulltext_index,
    "attach-rename": child_attach_rename,
    "import": child_import,
    "export": child_export,
    "search": child_search,
    "sort": child_sort,
}


# -- in this process --------------------------------------------------------------------------


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except OSError:
            pass
    return total / 2**20


@dataclass
class Sample:
    seconds: float
    peak_mb: float
    data: dict[str, Any] = field(default_factory=dict)


def measure(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 1800
) -> Sample:
    """Run one child measurement (``python -m tests.bench.run --child ...``)."""
    cmd = [sys.executable, "-m", "tests.bench.run", "--child", *args]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    peak = 0.0
    start = time.monotonic()
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        if time.monotonic() - start > timeout:
            proc.kill()
            raise RuntimeError(f"{' '.join(args)}: timed out")
        time.sleep(0.05)
    out, err = proc.communicate()
    lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    data = json.loads(lines[-1][len("RESULT ") :])
    peak = max(peak, data.get("maxrss_mb", 0.0))
    return Sample(float(data.get("seconds", 0.0)), peak, data)


def _fmt_s(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _line(
    name: str,
    values: Sequence[float],
    peak: float,
    ratio: str,
    budget: str,
    ok: bool | None,
    note: str = "",
) -> None:
    med = statistics.median(values)
    spread = f"{_fmt_s(min(values))}–{_fmt_s(max(values))}" if len(values) > 1 else "-"
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    print(
        f"{name:<28} median {_fmt_s(med):>9}  spread {spread:<19} n={len(values):<3} "
        f"peak {peak:5.0f} MB  {ratio:<44} budget {budget:<26} {verdict}"
        + (f"  ({note})" if note else ""),
        flush=True,
    )


class Bench:
    def __init__(self, runs: int, cache: Path) -> None:
        self.runs = runs
        self.cache = cache
        self.tmp = Path(tempfile.mkdtemp(prefix="citedesk-bench-"))
        self._corpus: pdfcorpus.Corpus | None = None
        self._fulltext: tuple[list[Sample], list[Sample]] | None = None
        self._printed: set[str] = set()  # figures shown once per run, whatever the sizes

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def bib(self, size: str) -> Path:
        return generate.bib_path(size, cache=self.cache)

    def library(self, size: str) -> Path:
        """The size's library (imported, with tags, notes, statuses), built once and cached."""
        from citedesk.db import Library
        from citedesk.db.derive import DERIVE_VERSION
        from citedesk.db.schema import SCHEMA_VERSION

        n = generate.SIZES[size]
        # A library of an older schema or derived by older rules would be upgraded by the
        # first figure that opens it, which would then measure that.
        path = self.cache / (
            f"lib-{n}-s{generate.DEFAULT_SEED}-v{generate.VERSION}-schema{SCHEMA_VERSION}"
            f"-derive{DERIVE_VERSION}.sqlite"
        )
        if not path.exists():
            tmp = path.with_suffix(".building")
            for extra in ("", "-wal", "-shm"):
                Path(f"{tmp}{extra}").unlink(missing_ok=True)
            lib = Library.open(tmp, seed=False)
            lib.import_files([self.bib(size)])
            generate.add_personal_data(lib)
            lib.conn.execute("PRAGMA optimize")
            lib.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            lib.close()
            os.replace(tmp, path)
        return path

    def corpus(self) -> pdfcorpus.Corpus:
        """The 1,000 PDFs (generated once; the generation time is printed then)."""
        if self._corpus is None:
            self._corpus = pdfcorpus.corpus(cache=self.cache)
            c = self._corpus
            print(
                f"# PDF corpus: {len(c.files)} files, {c.total_pages} pages, made with "
                f"{c.maker} in {c.seconds:.1f} s ({c.folder})",
                flush=True,
            )
        return self._corpus

    def fulltext_library(self, size: str, indexed: bool) -> Path:
        """The size's library with the corpus's PDFs attached, linked, to as many of its
        papers (seeded), full text not indexed or indexed; built once and cached, keyed on
        the library (its schema version included) and the corpus."""
        import random

        from citedesk.db import Library

        base = self.library(size)
        corpus = self.corpus()
        stem = f"{base.stem}-{corpus.key}"
        path = self.cache / f"{stem}-{'indexed' if indexed else 'attached'}.sqlite"
        if path.exists():
            return path
        source = self.fulltext_library(size, False) if indexed else base
        tmp = path.with_suffix(".building")
        for extra in ("", "-wal", "-shm"):
            Path(f"{tmp}{extra}").unlink(missing_ok=True)
        shutil.copyfile(source, tmp)
        t = time.perf_counter()
        lib = Library.open(tmp, seed=False)
        if indexed:
            report = lib.index_fulltext()
            what = f"indexed {report.indexed} files, {report.pages} pages"
        else:
            ids = lib.paper_ids()
            rng = random.Random(generate.DEFAULT_SEED + 14)
            chosen = sorted(rng.sample(ids, min(len(ids), len(corpus.files))))
            for pid, pdf in zip(chosen, corpus.files, strict=False):
                lib.attach(pid, [pdf], store=False)
            what = f"attached {len(chosen)} PDFs"
        lib.conn.execute("PRAGMA optimize")
        lib.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        lib.close()
        os.replace(tmp, path)
        print(f"# {size} library: {what} in {time.perf_counter() - t:.1f} s", flush=True)
        return path

    def target(self, name: str) -> str:
        path = self.tmp / name
        for extra in ("", "-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        return str(path)

    # -- figures ----------------------------------------------------------------------------

    def fig_import(self, size: str) -> None:
        bib = str(self.bib(size))
        ref, bare, imp = [], [], []
        peak = 0.0
        for i in range(self.runs):
            ref.append(measure(["parse", bib, "default"]).seconds)
            bare.append(measure(["parse", bib, "none"]).seconds)
            s = measure(["import", bib, self.target(f"import-{i}.sqlite")])
            imp.append(s.seconds)
            peak = max(peak, s.peak_mb)
            if s.data["failures"]:
                print(f"  import {size}: {s.data['failures']} failures!")
        m, r, b = (statistics.median(x) for x in (imp, ref, bare))
        ratio = f"= {m / r:.2f}× parse_file {_fmt_s(r)} ({m / b:.2f}× bare {_fmt_s(b)})"
        if size == "10k":
            _line(f"import {size} .bib", imp, peak, ratio, "≤ 1.2× parse_file", m <= 1.2 * r)
            _line(
                f"import {size} (vs bare parse)",
                imp,
                peak,
                f"= {m / b:.2f}× parse_stack=[]",
                "≤ 1.2× (stricter reading)",
                m <= 1.2 * b,
            )
        elif size == "100k":
            _line(
                f"import {size} .bib",
                imp,
                peak,
                ratio,
                "< 24 s (aim 12 s)",
                m < 24,
                "aim met" if m <= 12 else "aim missed",
            )
            print(
                f"{'import ' + size + ' peak memory':<28} peak {peak:5.0f} MB (highest of "
                f"{len(imp)} runs: the import's process and its workers)  budget ≤ 500 MB "
                f"{'PASS' if peak <= 500 else 'FAIL'}",
                flush=True,
            )
        else:
            _line(f"import {size} .bib", imp, peak, ratio, "none at this size", None)

    def fig_jabref(self, size: str) -> None:
        jabref = shutil.which("jabref")
        if jabref is None:
            print(
                f"{'jabref ' + size:<28} not measured: Debian's jabref is not installed "
                "(apt-get install jabref)"
            )
            return
        bib = str(self.bib(size))
        times, peak = [], 0.0
        for _ in range(self.runs):
            out = self.tmp / "jabref-out.bib"
            start = time.perf_counter()
            proc = subprocess.Popen(
                [jabref, "-n", "-i", bib, "-o", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while proc.poll() is None:
                peak = max(peak, _tree_rss_mb(proc.pid))
                time.sleep(0.05)
            times.append(time.perf_counter() - start)
        imp = [
            measure(["import", bib, self.target("jabref-cmp.sqlite")]).seconds
            for _ in range(self.runs)
        ]
        r = statistics.median(imp) / statistics.median(times)
        _line(
            f"jabref {size} import+write",
            times,
            peak,
            f"Citedesk import = {r:.2f}× JabRef",
            "Citedesk faster",
            r < 1,
        )

    def fig_export(self, size: str) -> None:
        lib = str(self.library(size))
        samples = [measure(["export", lib, str(self.tmp / "export.bib")]) for _ in range(self.runs)]
        times = [s.seconds for s in samples]
        peak = max(s.peak_mb for s in samples)
        mb = samples[0].data["bytes"] / 1e6
        m = statistics.median(times)
        budget, ok = ("≤ 5 s", m <= 5) if size == "100k" else ("none at this size", None)
        _line(
            f"export {size} to .bib", times, peak, f"{mb:.0f} MB at {mb / m:.0f} MB/s", budget, ok
        )

    def fig_search(self, size: str) -> None:
        self._keystrokes(f"search keystroke {size} (db)", str(self.library(size)), size)

    def _keystrokes(self, name: str, lib: str, size: str, note: str = "") -> None:
        samples, peak, worst = [], 0.0, ("", 0.0, 0)
        for _ in range(self.runs):
            s = measure(["search", lib])
            samples += s.data["samples"]
            peak = max(peak, s.peak_mb)
            if s.data["worst"][1] > worst[1]:
                worst = tuple(s.data["worst"])  # type: ignore[assignment]
        med = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        note = f"{note}slowest {worst[0]!r}: {_fmt_s(worst[1])}, {worst[2]} hits"
        is_big = size == "100k"
        _line(
            name,
            samples,
            peak,
            f"p95 {_fmt_s(p95)}, {len(samples) // self.runs} keystrokes",
            "median ≤ 30 ms, p95 ≤ 60 ms" if is_big else "none at this size",
            (med <= 0.030 and p95 <= 0.060) if is_big else None,
            note,
        )

    def fig_sort(self, size: str) -> None:
        lib = str(self.library(size))
        by_column: dict[str, list[float]] = {}
        peak = 0.0
        for _ in range(self.runs):
            s = measure(["sort", lib])
            peak = max(peak, s.peak_mb)
            for k, v in s.data["by_column"].items():
                by_column.setdefault(k, []).append(v)
        worst = max(by_column, key=lambda k: statistics.median(by_column[k]))
        values = [statistics.median(v) for v in by_column.values()]
        is_big = size == "100k"
        _line(
            f"sort any column {size} (db)",
            values,
            peak,
            f"slowest: {worst} {_fmt_s(statistics.median(by_column[worst]))}",
            "≤ 150 ms each" if is_big else "none at this size",
            max(values) <= 0.150 if is_big else None,
            "values: median per column",
        )

    # -- issue 14: full text and attached files ------------------------------------------------

    def _fulltext_runs(self) -> tuple[list[Sample], list[Sample]]:
        """Indexing the 1,000-paper library's PDFs, and the bare loop over the same files,
        each run in turn (measured once, for both fulltext figures, at whichever size)."""
        if self._fulltext is None:
            corpus = self.corpus()
            template = self.fulltext_library("1k", False)
            bare, index = [], []
            for i in range(self.runs):
                bare.append(measure(["pdf-bare", str(corpus.folder)]))
                lib = self.target(f"fulltext-{i}.sqlite")
                shutil.copyfile(template, lib)
                index.append(measure(["fulltext-index", lib]))
                for extra in ("", "-wal", "-shm"):
                    Path(f"{lib}{extra}").unlink(missing_ok=True)
            self._fulltext = (bare, index)
        return self._fulltext

    def fig_fulltext_index(self, size: str) -> None:
        name = "fulltext index 1,000 PDFs"
        if name in self._printed:
            return
        self._printed.add(name)
        if not _has_fulltext(name):
            return
        bare, index = self._fulltext_runs()
        b = statistics.median(s.seconds for s in bare)
        m = statistics.median(s.seconds for s in index)
        pages = index[0].data["pages"] or bare[0].data["pages"]
        d = index[0].data
        _line(
            name,
            [s.seconds for s in index],
            max(s.peak_mb for s in index),
            f"bare loop / index = {b / m:.2f}× ({pages / m:.0f} vs "
            f"{bare[0].data['pages'] / b:.0f} pages/s)",
            "≥ 1.5× bare pypdfium2 loop",
            b / m >= 1.5,
            f"bare single-process loop {_fmt_s(b)}; indexed {d['indexed']} files, "
            f"{d['pages']} pages, {d['n_failed']} failed, {d['skipped']} skipped",
        )

    def fig_fulltext_memory(self, size: str) -> None:
        name = "fulltext index peak memory"
        if name in self._printed:
            return
        self._printed.add(name)
        if not _has_fulltext(name):
            return
        bare, index = self._fulltext_runs()
        peak = max(s.peak_mb for s in index)
        print(
            f"{name:<28} peak {peak:5.0f} MB (highest of {len(index)} runs: the indexing "
            f"process and its workers; bare loop {max(s.peak_mb for s in bare):.0f} MB)  "
            f"budget {'≤ 400 MB':<26} {'PASS' if peak <= 400 else 'FAIL'}",
            flush=True,
        )

    def fig_search_fulltext(self, size: str) -> None:
        name = f"search keystroke {size} +text"
        if not _has_fulltext(name):
            return
        lib = self.fulltext_library(size, True)
        self._keystrokes(name, str(lib), size, "1,000 PDFs indexed; ")

    def fig_attach_rename(self, size: str) -> None:
        pdfs = [str(p) for p in pdfcorpus.big_pdfs(20, cache=self.cache)]
        mb = statistics.median(Path(p).stat().st_size for p in pdfs) / 1e6
        samples, peak = [], 0.0
        for i in range(self.runs):
            lib = self.target(f"attach-{i}.sqlite")
            shutil.copyfile(self.library(size), lib)
            s = measure(["attach-rename", lib, json.dumps(pdfs)])
            samples += s.data["samples"]
            peak = max(peak, s.peak_mb)
            shutil.rmtree(Path(lib).parent / "files", ignore_errors=True)
        med = statistics.median(samples)
        big = size == "100k"
        _line(
            f"attach+rename {size}",
            samples,
            peak,
            f"p95 {_fmt_s(statistics.quantiles(samples, n=20)[-1])}",
            "median ≤ 50 ms" if big else "none at this size",
            med <= 0.050 if big else None,
            f"Library.attach (stored, {mb:.1f} MB PDF) then rename_attachment",
        )


def _has_fulltext(name: str) -> bool:
    """Whether the library can index full text yet; prints the figure's SKIP line if not."""
    from citedesk.db import Library

    if hasattr(Library, "index_fulltext"):
        return True
    print(f"{name:<28} SKIP (not built yet: Library.index_fulltext)", flush=True)
    return False


def child_main(argv: list[str]) -> None:
    if argv[0].startswith("gui-"):
        from tests.bench import gui

        gui.CHILDREN[argv[0]](*argv[1:])
    else:
        CHILDREN[argv[0]](*argv[1:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1k,10k", help="1k,10k,100k (default 1k,10k)")
    ap.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    ap.add_argument(
        "--figures", default=",".join(ALL_FIGURES), help=f"some of: {','.join(ALL_FIGURES)}"
    )
    ap.add_argument("--dir", type=Path, default=generate.CACHE_DIR, help="cache directory")
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_main(args.child)
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    figures = [f.strip() for f in args.figures.split(",") if f.strip()]
    unknown = [s for s in sizes if s not in generate.SIZES] + [
        f for f in figures if f not in ALL_FIGURES
    ]
    if unknown:
        ap.error(f"unknown: {', '.join(unknown)}")
    print(
        f"# Citedesk benchmark: {platform.node()}, {os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, runs={args.runs}"
    )
    try:
        load = os.getloadavg()
        print(f"# load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    except OSError:
        pass
    bench = Bench(args.runs, args.dir)
    try:
        for size in sizes:
            for figure in figures:
                if figure in GUI_FIGURES:
                    from tests.bench import gui

                    getattr(gui, "fig_" + figure.replace("-", "_"))(bench, size)
                else:
                    getattr(bench, "fig_" + figure.replace("-", "_"))(size)
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
