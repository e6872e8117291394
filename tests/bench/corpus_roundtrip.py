"""How faithfully Citedesk round-trips real .bib files: import each one, export it, compare.

For every ``*.bib`` under the corpus (sorted, malformed ones included), in a fresh empty
library: ``Library.import_files([path])`` then ``Library.export(out)`` of the whole library.
Per file it records BibTeX's entry count, entries imported, import failures, whether the
export is byte-identical to the original, identical after decoding (the original in the
encoding Citedesk read it in, CRLF/CR as LF: tells encoding and line-end changes apart from
content changes), and whether ``bibtex`` with ``plain`` and ``\\nocite{*}`` makes the same
``.bbl`` from both. A file is *well-formed* when bibtex reports no error on the original;
files bibtex cannot read at all are not. Without ``bibtex`` on PATH the .bbl part is
skipped (said so), and "well-formed" falls back to "Citedesk reported no import failure".

Run from the repository root (not collected by pytest)::

    python -m tests.bench.corpus_roundtrip [--corpus DIR] [--limit N] [--jobs N]
                                           [--keep-encoding] [--json OUT]
"""

from __future__ import annotations

import argparse
import inspect
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, cast

from citedesk.db import Library
from citedesk.db.bibtex import decode_bytes

ROOT = Path(__file__).resolve().parents[2]
FILE_LIMIT_S = 120.0
BIBTEX_LIMIT_S = 30.0
DOC_AUX = "\\relax\n\\citation{*}\n\\bibstyle{plain}\n\\bibdata{refs}\n"
_ENTRY_LINE = re.compile(r"^\s*@\s*([^\s\"#%'(),={}]+)\s*[{(]", re.MULTILINE)
_ERRORS = re.compile(r"\(There (?:were (\d+) error messages|was (1) error message)\)")
Record = dict[str, Any]


def run_bibtex(bib: bytes, work: Path) -> tuple[bytes | None, int | None]:
    """The .bbl bibtex makes of ``bib`` and its error count; None, None if it cannot read it."""
    work.mkdir()
    (work / "refs.bib").write_bytes(bib)
    (work / "doc.aux").write_text(DOC_AUX)
    env = {**os.environ, "openout_any": "a"}
    try:
        proc = subprocess.run(
            ["bibtex", "-terse", "doc"],
            cwd=work,
            env=env,
            timeout=BIBTEX_LIMIT_S,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
    except subprocess.TimeoutExpired:
        return None, None
    bbl, blg = work / "doc.bbl", work / "doc.blg"
    if proc.returncode >= 3 or not bbl.exists():  # 3: fatal error
        return None, None
    m = _ERRORS.search(blg.read_text("latin-1")) if blg.exists() else None
    return bbl.read_bytes(), int(m.group(1) or m.group(2)) if m else 0


def first_difference(a: str, b: str) -> str:
    """'line N: <original excerpt> | <exported excerpt>' for the first line that differs."""
    la, lb = a.split("\n"), b.split("\n")
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "<end of file>"
        y = lb[i] if i < len(lb) else "<end of file>"
        if x != y:
            return f"line {i + 1}: {x[:60]!r} | {y[:60]!r}"
    return "no line differs"


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def measure(path: Path, tmp: Path, keep_encoding: bool, has_bibtex: bool, rec: Record) -> None:
    """Import, export and compare one file into ``rec`` (see the module docstring), working in
    ``tmp``, in an order that leaves BibTeX's view of the original in it should the import
    crash."""
    original = path.read_bytes()
    text, rec["encoding"] = decode_bytes(original)
    rec["regex_entries"] = sum(
        m.group(1).lower() not in ("comment", "string", "preamble")
        for m in _ENTRY_LINE.finditer(normalise(text))
    )
    rec["entries"] = rec["regex_entries"]  # BibTeX's count replaces it when bibtex reads the file
    bbl: bytes | None = None
    if has_bibtex:
        bbl, rec["bibtex_errors"] = run_bibtex(original, tmp / "orig")
        rec["well_formed"] = rec["bibtex_errors"] == 0
        if bbl is not None:
            rec["entries"] = len(re.findall(rb"^\\bibitem[\[{]", bbl, re.MULTILINE))
    out = tmp / "export.bib"
    with Library.open(tmp / "lib.sqlite", seed=False) as lib:
        report = lib.import_files([path])
        kwargs: dict[str, Any] = {"keep_encoding": True} if keep_encoding else {}
        lib.export(out, **kwargs)
    exported = out.read_bytes()
    rec.update(
        imported=len(report.added),
        failures=len(report.failures),
        duplicates=len(report.duplicates),
        byte_identical=exported == original,
    )
    if not has_bibtex:
        rec["well_formed"] = not report.failures
    exported_text, exported_encoding = decode_bytes(exported)
    a, b = normalise(text), normalise(exported_text)
    rec["decoded_identical"] = a == b
    if rec["byte_identical"]:
        rec["reason"] = ""
    elif a == b:
        eol = b"\r" in original and b"\r" not in exported
        rec["reason"] = (
            "line endings only"
            if rec["encoding"] == exported_encoding
            else f"encoding ({rec['encoding']} -> {exported_encoding}){' and line ends' * eol} only"
        )
    else:
        rec["reason"] = first_difference(a, b)
    if has_bibtex:
        bbl2, rec["bibtex_errors_export"] = run_bibtex(exported, tmp / "exp")
        rec["bbl_identical"] = bbl is not None and bbl == bbl2
        if bbl is not None and bbl != bbl2:
            rec["bbl_diff"] = first_difference(
                bbl.decode("latin-1"), (bbl2 or b"<no .bbl>").decode("latin-1")
            )


def _child(
    path: Path, corpus: Path, tmp: Path, keep_encoding: bool, has_bibtex: bool, conn: Connection
) -> None:
    os.setpgrp()  # its own group, so a timeout also ends the importer's workers
    start = time.perf_counter()
    rec: Record = {"file": str(path.relative_to(corpus)), "bytes": path.stat().st_size}
    try:
        measure(path, tmp, keep_encoding, has_bibtex, rec)
    except BaseException as exc:  # noqa: BLE001 - every failure is a figure
        rec["crashed"] = f"crashed: {type(exc).__name__}: {str(exc)[:200]}"
    rec["seconds"] = round(time.perf_counter() - start, 3)
    conn.send(rec)


def _kill_group(proc: BaseProcess) -> None:
    """End a child started here and the importer's workers it forked (its own group)."""
    try:  # not yet joined, so its pid (the group's id) cannot have been reused
        os.killpg(cast(int, proc.pid), signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_all(
    files: list[Path], corpus: Path, jobs: int, keep_encoding: bool, has_bibtex: bool
) -> list[Record]:
    """Measure every file in forked processes, ``jobs`` at a time, each killed after the limit."""
    ctx = multiprocessing.get_context("fork")  # the importer's own workers are forked too
    pending, results = list(reversed(files)), {}
    running: dict[Connection, tuple[Path, BaseProcess, float]] = {}
    tmps: dict[Path, Path] = {}  # made here, so that a killed child's files go too

    def done(path: Path, proc: BaseProcess, rec: Record | None) -> None:
        proc.join()
        shutil.rmtree(tmps.pop(path), ignore_errors=True)
        results[path] = rec or {
            "file": str(path.relative_to(corpus)),
            "crashed": f"crashed: ChildDied: exit code {proc.exitcode}",
        }

    try:
        while pending or running:
            while pending and len(running) < jobs:
                path = pending.pop()
                recv, send = ctx.Pipe(duplex=False)
                tmps[path] = Path(tempfile.mkdtemp(prefix="citedesk-rt-"))
                child = ctx.Process(
                    target=_child, args=(path, corpus, tmps[path], keep_encoding, has_bibtex, send)
                )
                child.start()
                send.close()
                running[recv] = (path, child, time.monotonic())
            for ready in multiprocessing.connection.wait(list(running), timeout=1.0):
                path, proc, _ = running.pop(cast(Connection, ready))
                try:
                    done(path, proc, cast(Connection, ready).recv())
                except EOFError:  # died without a word: a segfault, the OOM killer
                    done(path, proc, None)
            for conn, (path, proc, started) in list(running.items()):
                if time.monotonic() - started > FILE_LIMIT_S:
                    del running[conn]
                    _kill_group(proc)
                    done(
                        path,
                        proc,
                        {
                            "file": str(path.relative_to(corpus)),
                            "seconds": FILE_LIMIT_S,
                            "crashed": f"crashed: Timeout: over {FILE_LIMIT_S:.0f} s",
                        },
                    )
            if sys.stderr.isatty():
                print(f"\r{len(results)}/{len(files)} files", end="", file=sys.stderr, flush=True)
    finally:  # Ctrl-C or a bug here: end the children still running, and their workers
        for _, proc, _ in running.values():
            _kill_group(proc)
        for tmp in tmps.values():
            shutil.rmtree(tmp, ignore_errors=True)
    return [results[p] for p in files]


COLUMNS = {
    "entries": "entries (BibTeX's count*)",
    "regex_entries": "entries (@type lines)",
    "imported": "entries imported",
    "failures": "import failures",
    "byte_identical": "byte-identical files",
    "decoded_identical": "decoded-identical files",
    "bbl_identical": ".bbl-identical files",
    "crashed": "crashed or timed out",
}


def totals(recs: list[Record]) -> list[int]:
    flags = ("byte_identical", "decoded_identical", "bbl_identical", "crashed")
    return [len(recs)] + [
        sum(bool(r.get(k)) if k in flags else r.get(k, 0) for r in recs) for k in COLUMNS
    ]


def print_report(recs: list[Record], has_bibtex: bool, seconds: float) -> None:
    if not has_bibtex:
        print("bibtex not found: .bbl comparison skipped; 'well-formed' = no import failure")
    well = [r for r in recs if r.get("well_formed")]
    rows = ["files", *COLUMNS.values()]
    print(f"{'':28}{'all files':>12}{'well-formed':>14}")
    for name, x, y in zip(rows, totals(recs), totals(well), strict=True):
        print(f"{name:28}{x:>12}{y:>14}")
    print(
        f"total time {seconds:.1f} s; *@type lines where bibtex could not read a file or is absent"
    )
    differing = [r for r in well if not r.get("byte_identical")]
    print(f"\nWell-formed files not byte-identical ({len(differing)}; first 40):")
    for r in differing[:40]:
        print(f"  {r['file']}: {r.get('crashed') or r.get('reason')}")
    if has_bibtex:
        bbl = [r for r in well if not r.get("bbl_identical")]
        print(f"\nWell-formed files whose .bbl differs ({len(bbl)}):")
        for r in bbl:
            why = r.get("crashed") or (
                f"{r.get('bbl_diff')} ({r.get('bibtex_errors_export')} bibtex errors on the export)"
            )
            print(f"  {r['file']}: {why}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT / ".." / "shared" / "bibdata")
    ap.add_argument("--limit", type=int, default=None, help="only the first N files")
    ap.add_argument("--jobs", type=int, default=2, help="files measured at once (processes)")
    ap.add_argument(
        "--keep-encoding",
        action="store_true",
        help="export with keep_encoding=True when Library.export accepts it",
    )
    ap.add_argument("--json", type=Path, default=None, help="write per-file records here")
    args = ap.parse_args(argv)
    corpus = args.corpus.resolve()
    files = sorted(corpus.rglob("*.bib"))[: args.limit]
    if not files:
        print(f"no .bib files under {corpus}", file=sys.stderr)
        return 1
    has_bibtex = shutil.which("bibtex") is not None
    keep = args.keep_encoding and "keep_encoding" in inspect.signature(Library.export).parameters
    if args.keep_encoding and not keep:
        print("--keep-encoding: this Library.export has no keep_encoding; exports are UTF-8")
    start = time.perf_counter()
    recs = run_all(files, corpus, max(1, args.jobs), keep, has_bibtex)
    seconds = time.perf_counter() - start
    print_report(recs, has_bibtex, seconds)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "corpus": str(corpus),
                    "seconds": round(seconds, 1),
                    "bibtex": has_bibtex,
                    "files": recs,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
