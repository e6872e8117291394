"""Bad BibTeX input: every hostile file gives a report saying what and where, never a traceback.

The real ``citedesk`` command runs in a subprocess for the command-line half; the library
half imports into real files in tmp_path. The shared corpus's malformed/ folder is read in
place (tests skip when it is absent).
"""

from __future__ import annotations

import codecs
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from citedesk.db import Library
from citedesk.db.bibtex import parse_file, parse_text

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "bibdata"
MALFORMED = sorted(p for p in (CORPUS / "malformed").rglob("*.bib")) if CORPUS.is_dir() else []
DATA = Path(__file__).resolve().parents[1] / "data"


def citedesk(*args: str, lib: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citedesk", "--library", str(lib), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_clean_report(r: subprocess.CompletedProcess[str]) -> list[str]:
    """No traceback, and every line on stderr is one problem starting with 'citedesk: '."""
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.splitlines()
    assert all(line.startswith("citedesk: ") for line in lines), r.stderr
    return lines


def integrity(lib: Library) -> str:
    return str(lib.conn.execute("PRAGMA integrity_check").fetchone()[0])


# -- the corpus of malformed files ----------------------------------------------------------------


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: str(p.relative_to(CORPUS / "malformed")))
def test_every_malformed_file_gives_a_report_and_keeps_the_library(
    path: Path, seeded: Library
) -> None:
    before = seeded.count()
    started = time.monotonic()
    report = seeded.import_files([path])
    assert time.monotonic() - started < 30
    assert integrity(seeded) == "ok"
    assert seeded.count() == before + len(report.added)
    for failure in report.failures:
        assert failure.file == str(path)
        assert failure.message and "Traceback" not in failure.message
        # Entry-level failures say on which line; only whole-file problems have none.
        assert failure.line > 0 or failure.key is None


def test_malformed_corpus_is_present(bibdata: Path) -> None:
    assert len(list((bibdata / "malformed").rglob("*.bib"))) >= 40


def test_valid_bibtex_that_bibtexparser_rejects_is_imported(
    bibdata: Path, empty_lib: Library
) -> None:
    # bibclean's testbib5: quotes inside braces inside a quoted value, valid for BibTeX.
    report = empty_lib.import_files([bibdata / "malformed/bibclean-tests/testbib5.bib"])
    assert report.added == ["label"] and not report.failures
    p = empty_lib.paper_by_key("label")
    assert p.raw("verbatim3") == '"{\\verb="abc"}"'
    assert p.raw("everything2").startswith('"{umlaut accents: "a, "e,')


def test_truncated_corpus_file_names_the_entry_and_line(bibdata: Path, empty_lib: Library) -> None:
    path = bibdata / "malformed/synthetic/truncated_in_field_biblatex-examples.bib"
    report = empty_lib.import_files([path])
    [failure] = report.failures
    assert (failure.key, failure.line) == ("knuth:ct:e", 753)
    assert "is not closed before the file ends" in failure.message
    assert len(report.added) == 43


# -- hostile inputs through the real command ----------------------------------------------------

GOOD = "@misc{good1, title = {One}}\n\n@misc{good2, title = {Two}}\n"


def _hostile(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.bib"
    if name == "truncated":
        path.write_text(GOOD + "@article{cut, title = {A title that never ends, author = {X")
    elif name == "binary":
        path.write_bytes(random.Random(5).randbytes(64 * 1024))  # fixed: no flaky luck
    elif name == "junk_between_entries":
        path.write_bytes(
            GOOD.encode()
            + b"\n"
            + bytes(range(256)) * 16
            + b"\n"
            + b"@misc{good3, title = {Three}}\n"
        )
    elif name == "unbalanced":
        path.write_text("@misc{open, title = {x {y}\n\n" + GOOD)
    elif name == "duplicate_keys":
        path.write_text(GOOD + "@misc{good1, title = {Again}}\n@misc{GOOD2, title = {Case}}\n")
    elif name == "huge_field":
        path.write_text(
            "@misc{huge, abstract = {" + "word " * (8 * 1024 * 1024 // 5) + "}}\n" + GOOD
        )
    elif name == "deep_braces":
        path.write_text(
            "@misc{deep, title = {" + "{" * 100_000 + "x" + "}" * 100_000 + "},\n"
            "  note = {\\emph{" * 1 + "\\textbf{" * 50_000 + "y" + "}" * 50_001 + "}}\n" + GOOD
        )
    elif name == "cr_only":
        path.write_bytes(
            b"@misc{good1,\r title = {One}}\r\r@misc{bad,\r title = {x\r\r"
            b"@misc{good2, title = {Two}}\r"
        )
    elif name == "bom_latin1":
        path.write_bytes(
            codecs.BOM_UTF8
            + "@misc{good1, title = {Gödel}}\n".encode("latin-1")
            + "@misc{good2, title = {Two – Zwei}}\n".encode()
        )
    elif name == "utf16_no_bom":
        path.write_bytes(
            ("@misc{good3, title = {Gödel}}\n@misc{good4, title = {Two}}\n").encode("utf-16-le")
        )
    elif name == "empty":
        path.write_bytes(b"")
    elif name == "directory":
        path = tmp_path / "folder.bib"
        path.mkdir()
    elif name == "missing":
        path = tmp_path / "missing.bib"
    else:  # pragma: no cover
        raise AssertionError(name)
    return path


# name -> (exit code, keys imported, a regular expression each problem line must match)
HOSTILE = {
    "truncated": (
        1,
        ["good1", "good2"],
        r"{f}:4 \(entry cut\): the '\{' opened on line 4 in field title is not closed "
        r"before the file ends",
    ),
    "binary": (1, [], r"{f}: holds binary data, not BibTeX text"),
    # BibTeX 0.99d reads an entry in the junk: "@", letters and "[\]^_`" (its identifier
    # characters), then "{|}": key "|", which the 15 copies after it repeat. The junk
    # between them is skipped.
    "junk_between_entries": (
        1,
        ["good1", "good2", "|", "good3"],
        r"(warning: {f}:\d+: lines? \d+(-\d+)? holds? binary data|"
        r"{f}:\d+ \(entry \|\): duplicate key '\|': the entry on line 7)",
    ),
    "unbalanced": (1, ["good1", "good2"], r"{f}:1 \(entry open\): .*not closed"),
    "duplicate_keys": (
        1,
        ["good1", "good2"],
        r"{f}:(4 \(entry good1\): duplicate key 'good1'|5 \(entry GOOD2\): key "
        r"'GOOD2' collides with 'good2')",
    ),
    "huge_field": (0, ["huge", "good1", "good2"], r"$^"),
    "deep_braces": (0, ["deep", "good1", "good2"], r"$^"),
    "cr_only": (1, ["good1", "good2"], r"{f}:4 \(entry bad\): the '\{' opened on line 5"),
    "bom_latin1": (
        0,
        ["good1", "good2"],
        r"warning: {f}:1: line 1 not in UTF-8 like the rest of the file",
    ),
    "utf16_no_bom": (0, ["good3", "good4"], r"$^"),
    "empty": (1, [], r"{f}: is empty"),
    "directory": (1, [], r"{f}: is a directory"),
    "missing": (1, [], r"{f}: no such file"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_on_the_command_line(name: str, tmp_path: Path) -> None:
    lib = tmp_path / "lib.sqlite"
    path = _hostile(name, tmp_path)
    code, keys, pattern = HOSTILE[name]
    r = citedesk("--empty", "import", str(path), lib=lib)
    lines = assert_clean_report(r)
    assert r.returncode == code, r.stderr
    problems = [line for line in lines if not line.startswith("citedesk: duplicate:")]
    regex = re.compile("citedesk: " + pattern.replace("{f}", re.escape(str(path))))
    assert all(regex.match(line) for line in problems), (pattern, r.stderr)
    assert bool(problems) == (pattern != r"$^"), r.stderr
    with Library.open(lib) as after:
        assert sorted(r.key for r in after.rows(after.paper_ids()).values()) == sorted(keys)
        assert integrity(after) == "ok"


def test_text_of_odd_encodings_is_read_right(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib.sqlite", seed=False) as lib:
        lib.import_files([_hostile("bom_latin1", tmp_path), _hostile("utf16_no_bom", tmp_path)])
        titles = sorted(r.title for r in lib.rows(lib.paper_ids()).values())
    assert titles == ["Gödel", "Gödel", "Two", "Two – Zwei"]


def test_strict_import_of_a_hostile_file_adds_nothing(tmp_path: Path) -> None:
    lib = tmp_path / "lib.sqlite"
    r = citedesk("import", "--strict", str(_hostile("truncated", tmp_path)), lib=lib)
    lines = assert_clean_report(r)
    assert r.returncode == 1 and lines[-1] == "citedesk: nothing imported (--strict)"
    with Library.open(lib) as after:
        assert after.count() == 25


#: Runs the citedesk command and prints its peak memory (KiB) last on stderr: the larger of
#: its own high-water mark (VmHWM, of this program only) and its children's (the import
#: workers). Not the rusage of a waited-for child: Linux carries the high-water mark of
#: the process that started it across exec, so a child of a 450 MB pytest "peaked" at 450 MB.
_PEAK_OF_COMMAND = """
import atexit, resource, runpy, sys
def peak():
    with open("/proc/self/status") as fh:
        own = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    sys.stderr.write(f"\\npeak-kib {max(own, kids)}\\n")
atexit.register(peak)
sys.argv[0] = "citedesk"
runpy.run_module("citedesk", run_name="__main__", alter_sys=True)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_huge_and_deep_input_stays_within_memory(tmp_path: Path) -> None:
    """Peak memory of the whole command, for an 8 MiB field and 100,000-deep braces."""
    lib = tmp_path / "lib.sqlite"
    files = [str(_hostile("huge_field", tmp_path)), str(_hostile("deep_braces", tmp_path))]
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _PEAK_OF_COMMAND,
            "--library",
            str(lib),
            "--empty",
            "import",
            *files,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert b"Traceback" not in proc.stderr
    assert proc.returncode == 0
    peak_kib = int(proc.stderr.decode().rsplit("peak-kib ", 1)[1])
    assert 8 * 1024 < peak_kib < 400 * 1024  # read the 8 MiB; a bounded multiple of it


# -- the reader on its own ------------------------------------------------------------------------


def test_quotes_inside_braces_inside_quotes_are_valid_bibtex() -> None:
    parsed = parse_text(
        '@misc{q,\n  title = "A {B "C, D" E} F",\n  year = 2020\n}\n@misc{after, title = {ok}}\n'
    )
    assert not parsed.failures
    assert [(e.key, e.fields) for e in parsed.entries] == [
        ("q", [("title", '"A {B "C, D" E} F"'), ("year", "2020")]),
        ("after", [("title", "{ok}")]),
    ]
    assert parsed.entries[0].source.startswith("@misc{q,") and parsed.entries[0].line == 1


def test_percent_comment_lines_between_fields_are_skipped() -> None:
    text = (
        "@article{pc,\n  % an old year, kept for reference: year = 1999\n"
        "  title = {Kept},\n  % pages = {1--2},\n  year = 2020\n}\n"
        "@misc{after, title = {ok}}\n"
    )
    parsed = parse_text(text, "c.bib")
    assert not parsed.failures
    first = parsed.entries[0]
    assert (first.key, first.fields) == ("pc", [("title", "{Kept}"), ("year", "2020")])
    assert first.source == text[: text.index("\n}\n") + 2]
    assert [e.key for e in parsed.entries] == ["pc", "after"]
    assert "'%' comment lines" in parsed.warnings[0].message


def test_percent_line_that_bibtexparser_misreads_silently_is_read_right() -> None:
    # bibtexparser alone makes this a field named "% year" = "1999\n  year = 2020".
    parsed = parse_text("@misc{m,\n  title = {x},\n  % year = 1999\n  year = 2020,\n}\n")
    assert parsed.entries[0].fields == [("title", "{x}"), ("year", "2020")]


def test_an_entry_after_a_reread_block_is_neither_lost_nor_doubled() -> None:
    # bibtexparser aborts at the '{' in the comment and reads the rest as fragments.
    text = (
        '@misc{a,\n  % see {this}, and "that"\n  title = {A}\n}\n'
        "@misc{b, title = {B}}\n@misc{c, title = {C}}\n"
    )
    parsed = parse_text(text)
    assert [e.key for e in parsed.entries] == ["a", "b", "c"] and not parsed.failures


def test_failures_say_what_is_wrong_in_words() -> None:
    cases = {
        "@misc{k,\n title = {x}\n year = 2020\n}\n": (
            "a comma is missing after the value of field title (found 'year' on line 3)"
        ),
        "@misc{k,\n title {x}\n}\n": "field title: expected '=' on line 2, found '{'",
        "@misc{title = {x}}\n": "the entry has no citation key",
        "@misc{k, title = , year = 1}\n": "field title has no value",
        '@misc{k, title = "x } y"}\n': "a '}' without a matching '{'",
        "@misc{k,\n title = {x},\n\n@misc{j, title = {y}}\n": (
            "the entry is not closed before the next entry starts (line 4); its closing '}' "
            "is missing"
        ),
    }
    for text, words in cases.items():
        parsed = parse_text(text, "w.bib")
        assert parsed.failures, text
        assert words in parsed.failures[0].message, (text, parsed.failures[0].message)
        assert parsed.failures[0].line == 1


def test_field_given_twice_is_imported_with_a_warning_first_wins(empty_lib: Library) -> None:
    report = empty_lib.import_text(
        "@misc{tw, year = 2001, title = {T}, Year = 2002}\n", name="tw.bib"
    )
    assert report.added == ["tw"]
    assert report.warnings == [
        "tw.bib:1 (entry tw): field year is given more than once; BibTeX uses the first"
    ]
    assert empty_lib.paper_by_key("tw").year == 2001


def test_text_with_no_entries_is_a_failure_not_silence() -> None:
    [failure] = parse_text("just some notes\nno entries here\n", "notes.txt").failures
    assert "no BibTeX entries" in failure.message


def test_many_broken_blocks_on_one_line_take_linear_time() -> None:
    started = time.monotonic()
    parsed = parse_text("@misc(" * 50_000)
    assert time.monotonic() - started < 15
    assert len(parsed.failures) == 50_000 and not parsed.entries


def test_hundred_thousand_deep_braces_need_no_recursion() -> None:
    from citedesk.db.bibsplit import read_block
    from citedesk.db.latex import latex_to_unicode

    deep = "{" * 100_000 + "x" + "}" * 100_000
    block = read_block(f"@misc{{d, title = {deep}}}", 0)
    assert block.fields == [("title", deep)]  # type: ignore[union-attr]
    assert latex_to_unicode("\\emph{" * 100_000 + "x" + "}" * 100_000) == "x"
    assert latex_to_unicode("\\'{" * 100_000 + "e" + "}" * 100_000)  # bounded, no error


def test_bibtexparser_log_lines_never_reach_the_terminal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bib"
    bad.write_text("@misc{a, title = {x}\n@misc{b, title = {y}}\n")
    r = citedesk("import", str(bad), lib=tmp_path / "lib.sqlite")
    assert_clean_report(r)
    assert "Parsing of" not in r.stderr


def test_parse_file_reports_unreadable_files_as_errors(tmp_path: Path) -> None:
    from citedesk.db.errors import BibFileError

    with pytest.raises(BibFileError, match="no such file"):
        parse_file(tmp_path / "nope.bib")


def test_a_bibtexparser_bug_falls_back_to_citedesks_own_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from citedesk.db import bibtex

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("python-bibtexparser detected an invalid state")

    monkeypatch.setattr(bibtex, "parse_string", broken)
    parsed = parse_text(GOOD + "@string{acm = {ACM}}\n@misc{bad, title = {x\n", "g.bib")
    assert [(e.key, e.line) for e in parsed.entries] == [("good1", 1), ("good2", 3)]
    assert [b.name for b in parsed.blocks] == ["acm"]
    assert [(f.key, f.line) for f in parsed.failures] == [("bad", 5)]
    assert "Citedesk's own BibTeX reader was used" in parsed.warnings[0].message
