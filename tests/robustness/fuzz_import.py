"""Fuzzing the importer: random BibTeX and mutated real files never crash or corrupt it.

The default tests (test_import_fuzz.py) run a bounded number of cases. The long run is this
script, started by hand (it is not collected by pytest):

    /work/venv/bin/python tests/robustness/fuzz_import.py --minutes 10
    /work/venv/bin/python tests/robustness/fuzz_import.py --cases 5000 --seed 7 --keep

Every case writes one file and imports it with Library.import_files into a library that
already holds papers with tags, notes and a reading status, then checks:

- no exception escapes the import (problems are reported, not raised);
- ``PRAGMA integrity_check`` is ok;
- every paper that was there is unchanged (its BibTeX, tags, notes, status);
- the import added entries or said why not (failures, duplicates, warnings), or the file
  really held no entry;
- the papers said to be added are there, and only those.

Cases are generated with hypothesis (BibTeX built from hostile pieces) and by mutating the
real files of ../shared/bibdata (cut, doubled, scribbled, re-encoded). A failing case is
shrunk by hypothesis and saved to ``fuzz-failures/`` for a regression test.
"""

from __future__ import annotations

import argparse
import codecs
import json
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from citedesk.db import Library  # noqa: E402
from citedesk.db.bibtex import decode_bytes, parse_text  # noqa: E402

CORPUS = REPO.parent / "shared" / "bibdata"
#: Real files small enough to import many times a second; all of them in the long run.
SAMPLE_FILES = [
    "texlive/xampl.bib",
    "texlive/btxdoc.bib",
    "texlive/biblatex-examples.bib",
    "malformed/bibclean-tests/testbib5.bib",
    "malformed/bibclean-tests/testscr1.bib",
    "malformed/bibtexparser-v1/traps.bib",
    "malformed/jabref-encoding/tiny-LE-noBOM.bib",
    "malformed/jabref-history/duplicates.bib",
    "malformed/synthetic/cr_only_xampl.bib",
]

# -- generated BibTeX -----------------------------------------------------------------------------

PIECES = [
    "{",
    "}",
    '"',
    "@",
    "%",
    "#",
    ",",
    "=",
    "(",
    ")",
    "\\",
    "\n",
    "\r",
    "\t",
    " ",
    "\x00",
    "\ufeff",
    "~",
    "$",
    "é",
    "🙂",
    "\\'e",
    '{\\"o}',
    "and",
    "others",
    "jan",
    "\n@misc{inner,",
    "\n% comment\n",
    "@comment{",
    "}}",
    "{{",
    '{"}',
    "\\{",
    "\\}",
    # A backslash escapes no brace in BibTeX: these open, close or balance groups.
    "{\\{}",
    "{\\}",
    "\\{\\&}",
    "{T. {Te\\{v}zak}}",
    "\\\\{",
    # Block starts only BibTeX sees.
    "@ misc{",
    "\n@misc\n{j,",
    "@www-misc{",
    "@\n",
]
ENTRY_TYPES = [
    "article",
    "book",
    "misc",
    "inproceedings",
    "ARTICLE",
    "comment",
    "string",
    "preamble",
    "set",
    "",
    "x-y",
    " inproceedings",
    "InProceedings\n",
    "\nmisc ",
    "www-inproceedings",
    "String\n",
    " preamble",
]
FIELD_NAMES = [
    "title",
    "author",
    "editor",
    "year",
    "month",
    "journal",
    "doi",
    "url",
    "crossref",
    "abstract",
    "TITLE",
    "note",
    "% c\n  title",
    "ti tle",
    "",
]

text_piece = st.one_of(st.sampled_from(PIECES), st.text(max_size=6))
value_text = st.lists(text_piece, max_size=12).map("".join)


@st.composite
def field_value(draw: Any) -> str:
    kind = draw(st.sampled_from(["brace", "quote", "bare", "concat", "raw"]))
    body = draw(value_text)
    if kind == "brace":
        return "{" + body + "}"
    if kind == "quote":
        return '"' + body + '"'
    if kind == "bare":
        return draw(st.sampled_from(["2020", "jan", "acm", "x", ""]))
    if kind == "concat":
        return '"' + body + '" # jan # {' + draw(value_text) + "}"
    return body


@st.composite
def bib_block(draw: Any) -> str:
    kind = draw(
        st.sampled_from(["entry", "entry", "entry", "string", "preamble", "comment", "junk"])
    )
    if kind == "junk":
        return draw(value_text)
    if kind == "string":
        return (
            f"@string{{{draw(st.sampled_from(['acm', 'jan', 'x y', '']))} = {draw(field_value())}}}"
        )
    if kind == "preamble":
        return f"@preamble{{{draw(field_value())}}}"
    if kind == "comment":
        return "@comment{" + draw(value_text) + "}"
    open_, close = draw(st.sampled_from([("{", "}"), ("(", ")"), ("{", ""), ("{", "}}")]))
    key = draw(
        st.one_of(st.sampled_from(["k1", "k2", "K1", "Smith2020", "a b", ""]), st.text(max_size=10))
    )
    fields = draw(st.lists(st.tuples(st.sampled_from(FIELD_NAMES), field_value()), max_size=6))
    sep = draw(st.sampled_from([",\n  ", ", ", "\n  ", ",,", ",\n% note\n  "]))
    body = sep.join(f"{name} = {value}" for name, value in fields)
    trail = draw(st.sampled_from([",", "", "\n"]))
    return f"@{draw(st.sampled_from(ENTRY_TYPES))}{open_}{key},\n  {body}{trail}\n{close}"


@st.composite
def bibtex_file(draw: Any) -> bytes:
    text = draw(st.lists(bib_block(), max_size=8).map("\n\n".join))
    encoding = draw(
        st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cr"])
    )
    if encoding == "cr":
        return text.replace("\n", "\r").encode("utf-8", "surrogatepass")
    return text.encode(encoding, errors="replace")


# -- mutated real files ---------------------------------------------------------------------------

MUTATIONS = [
    "truncate",
    "delete",
    "duplicate",
    "insert_bytes",
    "insert_piece",
    "scribble",
    "cr_only",
    "bom",
    "utf16",
    "swap",
]


@dataclass
class Mutation:
    op: str
    at: float
    length: int
    payload: bytes = b""

    def apply(self, data: bytes) -> bytes:
        n = len(data)
        i = min(int(self.at * n), n)
        j = min(i + self.length, n)
        if self.op == "truncate":
            return data[:i]
        if self.op == "delete":
            return data[:i] + data[j:]
        if self.op == "duplicate":
            return data[:j] + data[i:j] + data[j:]
        if self.op in ("insert_bytes", "insert_piece"):
            return data[:i] + self.payload + data[i:]
        if self.op == "scribble":
            return data[:i] + self.payload[: j - i] + data[i + len(self.payload[: j - i]) :]
        if self.op == "cr_only":
            return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
        if self.op == "bom":
            return codecs.BOM_UTF8 + data
        if self.op == "utf16":
            return decode_bytes(data)[0].encode("utf-16-le", errors="replace")
        if self.op == "swap":
            k = min(j + self.length, n)
            return data[:i] + data[j:k] + data[i:j] + data[k:]
        raise AssertionError(self.op)


mutation = st.builds(
    Mutation,
    st.sampled_from(MUTATIONS),
    st.floats(0, 1),
    st.integers(0, 400),
    st.one_of(
        st.binary(max_size=64),
        st.sampled_from(PIECES).map(lambda p: p.encode("utf-8")),
        st.sampled_from([b"\xff\xfe", b"\xef\xbb\xbf", b"\x00" * 8, b"\xe9\xe8"]),
    ),
)


def mutate(data: bytes, mutations: list[Mutation]) -> bytes:
    for m in mutations:
        data = m.apply(data)
    return data


# -- the checks -----------------------------------------------------------------------------------


@dataclass
class Checker:
    """A library with personal data, and the checks made after importing each case."""

    directory: Path
    cases: int = 0
    added: int = 0
    failed: int = 0
    lib: Library = field(init=False)

    def __post_init__(self) -> None:
        self.lib = self._fresh()

    def _fresh(self) -> Library:
        path = self.directory / "fuzz.sqlite"
        for side in ("", "-wal", "-shm"):
            Path(f"{path}{side}").unlink(missing_ok=True)
        lib = Library.open(path)
        ids = lib.paper_ids()
        lib.add_tags(ids[:5], ["precious", "to read"])
        lib.add_note(ids[0], "my notes on this paper\n- keep them")
        lib.set_status(ids[1:3], "read")
        return lib

    def snapshot(self) -> dict[int, tuple[Any, ...]]:
        notes: dict[int, list[str]] = {}
        for pid, body in self.lib.conn.execute("SELECT paper_id, body FROM notes ORDER BY id"):
            notes.setdefault(pid, []).append(body)
        return {
            r[0]: (*r[1:], tuple(notes.get(r[0], ())))
            for r in self.lib.conn.execute(
                "SELECT id, key, fields, source, tags, status, rating FROM papers"
            )
        }

    def check(self, data: bytes, name: str = "case.bib") -> None:
        self.cases += 1
        if self.lib.count() > 2000:
            self.lib.close()
            self.lib = self._fresh()
        path = self.directory / name
        path.write_bytes(data)
        before = self.snapshot()
        report = self.lib.import_files([path])  # anything raised here is a bug
        after = self.snapshot()
        integrity = self.lib.conn.execute("PRAGMA integrity_check").fetchone()[0]
        assert integrity == "ok", integrity
        assert {k: after[k] for k in before} == before, "papers that were there changed"
        new = {after[k][0] for k in after.keys() - before.keys()}
        assert new == set(report.added), (sorted(new), report.added)
        assert len(after) == len(before) + len(report.added)
        if not (report.added or report.failures or report.duplicates or report.warnings):
            text = decode_bytes(data)[0]
            assert not parse_text(text).entries, "entries found but not added nor reported"
        for failure in report.failures:
            assert failure.file == str(path) and failure.message
        self.added += len(report.added)
        self.failed += len(report.failures)

    def close(self) -> None:
        self.lib.close()


def corpus_files() -> list[Path]:
    return [CORPUS / name for name in SAMPLE_FILES if (CORPUS / name).is_file()]


# -- the long run ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="stop after this long")
    ap.add_argument("--cases", type=int, default=1_000_000, help="or after this many cases")
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed (random if unset)")
    ap.add_argument(
        "--all-corpus",
        action="store_true",
        help="mutate every .bib under ../shared/bibdata up to 2 MB, not a sample",
    )
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="citedesk-fuzz-"))
    checker = Checker(work)
    files = corpus_files()
    if args.all_corpus and CORPUS.is_dir():
        files = [p for p in CORPUS.rglob("*.bib") if p.stat().st_size < 2 << 20]
    contents = [p.read_bytes() for p in files]
    deadline = time.monotonic() + args.minutes * 60
    failures = REPO / "tests" / "robustness" / "fuzz-failures"
    per_run = 200

    def run(strategy: st.SearchStrategy[bytes], label: str) -> None:
        @settings(
            max_examples=per_run,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
        )
        @given(strategy)
        def case(data: bytes) -> None:
            try:
                checker.check(data)
            except BaseException:
                failures.mkdir(exist_ok=True)
                out = failures / f"{label}-{int(time.time())}.bib"
                out.write_bytes(data)
                raise

        if args.seed is not None:
            case = seed(args.seed + checker.cases)(case)
        case()

    strategies: list[tuple[str, st.SearchStrategy[bytes]]] = [("generated", bibtex_file())]
    if contents:
        strategies.append(
            (
                "mutated",
                st.builds(
                    mutate, st.sampled_from(contents), st.lists(mutation, min_size=1, max_size=6)
                ),
            )
        )
    else:
        print(f"note: no corpus at {CORPUS}; only generated BibTeX is fuzzed", file=sys.stderr)
    started = time.monotonic()
    try:
        while time.monotonic() < deadline and checker.cases < args.cases:
            for label, strategy in strategies:
                run(strategy, label)
            print(
                f"{checker.cases} cases, {checker.added} entries added, {checker.failed} "
                f"failures reported, {time.monotonic() - started:.0f} s",
                flush=True,
            )
    finally:
        checker.close()
        if not args.keep:
            for p in work.iterdir():
                p.unlink()
            work.rmdir()
        else:
            print(f"work folder: {work}")
    print(
        json.dumps(
            {
                "cases": checker.cases,
                "added": checker.added,
                "failures_reported": checker.failed,
                "problems": 0,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sqlite3.enable_callback_tracebacks(True)
    sys.exit(main())
