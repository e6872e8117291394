"""db.bibfast reads plain entries exactly as bibtexparser does, only faster.

Every check here compares db.bibtex.parse_text with the fast reader on and off (off is
bibtexparser for everything, as before), on crafted edge cases of the splitter's rules, on
hypothesis-generated and mutated text, and on every file of the real-world corpus. The one
known, wanted difference is tested on its own: line numbers after a line ending in a
backslash (bibtexparser loses count there; the fast reader does not).
"""

from __future__ import annotations

import importlib.util
import logging
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citedesk.db import bibfast, bibtex

_spec = importlib.util.spec_from_file_location(
    "fuzz_import", Path(__file__).resolve().parents[1] / "robustness" / "fuzz_import.py"
)
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("fuzz_import", fuzz)
_spec.loader.exec_module(fuzz)

logging.getLogger("bibtexparser").setLevel(logging.ERROR)


def parse(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> bibtex.ParsedFile:
    monkeypatch.setattr(bibtex, "FAST_ENTRIES", fast)
    return bibtex.parse_text(text, "t.bib")


def _numbers(message: str) -> str:
    return re.sub(r"\d+", "#", message)


def _problems(items: list[bibtex.Failure], lines: bool) -> list[tuple]:
    return sorted(
        (f.line if lines else 0, f.message if lines else _numbers(f.message), f.key or "")
        for f in items
    )


def assert_same(text: str, monkeypatch: pytest.MonkeyPatch) -> bibtex.ParsedFile:
    """Both readers give the same entries, blocks, failures and warnings.

    Line numbers are compared where bibtexparser counts them right (no line ends in a
    backslash). Failures may come in another order (the text between plain entries is read
    apart), so they are compared sorted.
    """
    fast, slow = parse(text, True, monkeypatch), parse(text, False, monkeypatch)
    normal = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    lines = "\\\n" not in normal  # as parse_text reads it

    def entries(r: bibtex.ParsedFile) -> list[tuple]:
        return [
            (e.key, e.entry_type, e.fields, e.source, e.file) + ((e.line,) if lines else ())
            for e in r.entries
        ]

    def failures(r: bibtex.ParsedFile) -> list[tuple]:
        return _problems(r.failures, lines)

    assert entries(fast) == entries(slow)
    assert fast.blocks == slow.blocks
    assert failures(fast) == failures(slow)
    assert _problems(fast.warnings, lines) == _problems(slow.warnings, lines)
    return fast


# -- the splitter's rules, one case each ----------------------------------------------------------

CASES = {
    "plain": "@article{k,\n  title = {A {B} C},\n  year = 2020,\n  journal = jmlr\n}\n",
    "quoted": '@book{k, title = "A {B} c", note = "x, y"}',
    "quote in braces in quotes": '@book{k, title = "a {"} b"}\n',
    "escaped quote": '@book{k, title = "a \\" b"}\n',
    "escaped braces": "@misc{k, title = {a \\{ b}, note = {c}}\n",
    "escaped brace closes late": "@misc{k, title = {a \\} b}}, x = {y}}\n@misc{j, a = {b}}\n",
    # BibTeX counts a brace after a backslash: bibtexparser does not, so such blocks are
    # read by BibTeX's rules (db.bibsplit) or the fast reader, never taken from it.
    "backslash brace balanced": "@article{gre01,\n\tAuthor = {T. {Te\\{v}zak-Gregl}},\n"
    "\tJournal = {Opuscula},\n\tTitle = {Veze},\n\tYear = {2001}}\n",
    "backslash braces in a group": "@misc{h, title = {Horse, wagon \\{\\&} chariot}}\n",
    "backslash brace group alone": "@misc{k, title = {\\{}}, note = {x}}\n@misc{j, a = {\\}}}\n",
    "backslash brace unbalanced": "@misc{k, title = {a \\{ b}, note = {c}}\n@misc{j, a = {b}}\n",
    "backslash brace in quotes": '@misc{k, title = "a \\{b\\} c", note = "d {\\{} e"}\n',
    "backslash brace unbalanced in quotes": '@misc{k, title = "a \\{ b", x = {y}}\n@misc{j}\n',
    "backslash brace in key": "@misc{k\\}, title = {t}}\n@misc{j, a = {b}}\n",
    "backslash brace in string": '@string{s = "x \\{y}"}\n@misc{k, t = s}\n',
    "backslash brace in comment": "@comment{a \\} b}\n@misc{k, t = {x}}\n",
    "quote inside braces inside quotes": '@misc{k, title = "a {x"y} b", year = 1}\n',
    "quote after backslash backslash": '@misc{k, title = "a\\\\", year = 1}\n@misc{j}\n',
    "blocks only BibTeX sees": (
        "@ inproceedings{s1, title={A}, year=2008}\n@InProceedings\n{s2, title={B}}\n"
        "@www-inproceedings{s4, title={C}, year=2001}\n@misc{s3, title={D}}\n"
    ),
    "block BibTeX sees inside what bibtexparser reads": (
        "@ misc{k, note = {mail a@b{c}.org}}\n@misc{j, a = {b}}\n"
    ),
    "block BibTeX sees after an entry on its line": "@misc{a, t={1}} @ misc{b, t={2}}\n",
    "at and identifier without a brace": "see a@b.org and\n@ nothing here\n@misc{k, t={1}}\n",
    "backslash before comma": "@misc{k, year = 20\\,20, title = {t}}\n",
    "double backslash": "@misc{k, title = {a\\\\}, note = {b}}\n",
    "deep braces": "@misc{k, title = {a{b{c{d{e{f}}}}} g}, year = 1}\n",
    "concatenation": '@misc{k, month = jan # " 1", title = "a" # {b}}\n',
    "trailing comma": "@misc{k, title = {t},\n}\n",
    "no fields": "@misc{k,}\n@misc{j}\n",
    "duplicate field": "@misc{k, title = {a}, title = {b}}\n",
    "field twice, other case": "@misc{k, title = {a}, TITLE = {b}}\n",
    "duplicate keys": "@misc{k, a = {1}}\n@misc{k, a = {2}}\n@misc{K, a = {3}}\n",
    "parens": "@misc(k, title = {a)b})\n@misc{j, a = {b}}\n",
    "string and preamble": '@string{jmlr = {J. ML}}\n@preamble{"x"}\n@misc{k, j = jmlr}\n',
    "comment types": "@comment{x}\n@commentary{k, a = {b}}\n@Stringent{k, a = {b}}\n",
    "comment lines": "% head\n@misc{k, a = {b}}\n%% between\n@misc{j, a = {c}}\n",
    "percent inside": "@misc{k,\n% note\n  title = {t}}\n@misc{j, a = {b}}\n",
    "at inside a value": "@misc{k, note = {mail a@b{c}.org}, t = {x @misc{y}}}\n",
    "block start inside a value": "@misc{k, note = {first\n@misc{j, a = {b}}\n",
    "unclosed then good": "@misc{k, title = {open\n\n@misc{j, a = {b}}\n",
    "unclosed quote then good": '@misc{k, title = "open\n@misc{j, a = {b}}\n',
    "missing comma": "@misc{k, title = {a} year = {b}}\n@misc{j, a = {b}}\n",
    "missing equals": "@misc{k, title {a}}\n@misc{j, a = {b}}\n",
    "name without value": "@misc{k, title = {a}, year}\n@misc{j, a = {b}}\n",
    "junk after value": "@misc{k, year = 2020 junk, a = {b}}\n",
    "value with equals": "@misc{k, note = a=b, c = {d}}\n",
    "empty value": "@misc{k, note = , c = {d}}\n",
    "empty key": "@misc{, a = {b}}\n@misc{j, a = {b}}\n",
    "key with space": "@misc{a b, a = {b}}\n",
    "empty type": "@{k, a = {b}}\n",
    "indented": "  @misc{k, a = {b}}\n\t@misc{j, a = {b}}\n",
    "form feed before": "\f@misc{k, a = {b}}\n@misc{j, a = {b}}\n",
    "block start mid-line": "x @misc{k, a = {b}} @misc{j, a = {c}}\n",
    "unicode": "@misc{Müller2020, title = {Ünïcödé — ☃}, author = {Ç and Ø}}\n",
    "unicode space": "@misc{k, title =\u00a0{t}\u2003}\n",
    "nul and cr": "@misc{k, title = {a\x00b}}\r\n@misc{j, a = {b}}\r",
    "text only": "just words, no entries\n",
    "at end without close": "@misc{k, a = {b}",
    "field name with at": "@misc{k, a@b = {c}}\n",
    "block start after backslash and newline": (
        "@misc{h, note = {a \\\n@misc{k, title = {a}}\nb}}\n@misc{j, a = {b}}\n"
    ),
    # Found by review: each made the two readers differ (and bibtexparser's path wrong).
    "broken block cut by a piece's end": '@misc{x, t="{a"b} @misc{y, q={z}\n@article{p, t={d}}\n',
    "failed block repeating the one before": "@a{k, t={1}} @a{",
    "failed block found inside a value": "@a{k, t={@b{j}}} @b{j",
    "comment repeated unclosed": "@comment{x} @comment{x\n@a{k, t={1}}\n",
    "odd type repeated": (
        "@commentary {é} @commentary {é\n@article{é,\n  title={x}  , Title = 2020}"
    ),
    "entry repeated inside a value": (
        '@article{p, note={@misc{q, t="{a"b}"}}} @misc{q, t="{a"b}"}\n'
    ),
    "commented-out twin": "%@misc{k,\n%  a = {b}\n%}\n\n@misc{k,\n  a = {b}\n}\n",
    # A failed block's text ends in the head of the block after it; an entry with the same
    # text comes later. Found by hypothesis: that copy was taken for the block after it.
    "failed block ending in the next block's head": (
        "@{@InProceedings{dup,\n@InProceedings{dup,\nh=l}"
    ),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_edge_cases_read_as_bibtexparser_reads_them(text: str, monkeypatch) -> None:
    assert_same(text, monkeypatch)


def test_plain_entries_are_read_by_the_fast_reader_and_odd_ones_are_not() -> None:
    """The cases above would prove nothing if the fast reader took none (or all) of them."""
    text = "\n".join(
        CASES[name]
        for name in (
            "plain",
            "quoted",
            "deep braces",
            "parens",
            "duplicate field",
            "string and preamble",
        )
    )
    got = [(p.key, [n for n, _ in p.fields]) for p in bibfast.scan(text)]
    assert got == [
        ("k", ["title", "year", "journal"]),
        ("k", ["title", "note"]),
        ("k", ["title", "year"]),
        ("j", ["a"]),
        ("k", ["j"]),
    ]
    plain = bibfast.scan(CASES["plain"])[0]
    assert CASES["plain"][plain.start : plain.end] == CASES["plain"].strip()
    assert plain.fields == [("title", "{A {B} C}"), ("year", "2020"), ("journal", "jmlr")]


def test_line_numbers_stay_right_after_a_line_ending_in_a_backslash(monkeypatch) -> None:
    """bibtexparser does not count a newline right after a backslash; the fast reader does,
    and the text bibtexparser reads between plain entries starts on its true line."""
    text = (
        "@misc{a, note = {ends \\\n here}}\n\n@misc{b, x = {y}}\n"
        "@misc(c, x = {y})\n@misc{d, x = {y}}\n"
    )
    fast, slow = parse(text, True, monkeypatch), parse(text, False, monkeypatch)
    assert [(e.key, e.line) for e in fast.entries] == [("a", 1), ("b", 4), ("c", 5), ("d", 6)]
    assert [e.line for e in slow.entries] == [1, 3, 4, 5]  # what bibtexparser counts


def test_a_commented_out_twin_does_not_make_the_real_entry_a_duplicate(monkeypatch) -> None:
    """``%@misc{k,...`` is a block start to bibtexparser (anywhere outside a block), so it
    reads a broken entry k there, which Citedesk rejects. bibtexparser then calls the real k
    its duplicate; only entries Citedesk took count as taken keys, with either reader."""
    text = CASES["commented-out twin"]
    for fast in (True, False):
        got = parse(text, fast, monkeypatch)
        assert [(e.key, e.line) for e in got.entries] == [("k", 5)]
        assert [f.line for f in got.failures] == [1]
        assert "duplicate" not in got.failures[0].message


# -- generated and mutated text -------------------------------------------------------------------

BOUNDED = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@BOUNDED
@given(st.lists(fuzz.bib_block(), max_size=8).map("\n\n".join))
def test_generated_bibtex_reads_the_same(monkeypatch, text: str) -> None:
    assert_same(text, monkeypatch)


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    files = [p for p in fuzz.corpus_files() if p.stat().st_size < 200_000]
    if not files:
        pytest.skip(f"the shared BibTeX corpus is not at {fuzz.CORPUS}: no real files to mutate")
    return [p.read_bytes().decode("utf-8", "replace") for p in files]


@BOUNDED
@given(data=st.data())
def test_mutated_real_files_read_the_same(
    monkeypatch, corpus_texts: list[str], data: st.DataObject
) -> None:
    original = data.draw(st.sampled_from(corpus_texts)).encode("utf-8")
    mutations = data.draw(st.lists(fuzz.mutation, min_size=1, max_size=5))
    assert_same(fuzz.mutate(original, mutations).decode("utf-8", "replace"), monkeypatch)


# -- the corpus ------------------------------------------------------------------------------------


def test_every_corpus_file_reads_the_same(bibdata: Path, monkeypatch) -> None:
    files = sorted(
        p
        for p in bibdata.rglob("*")
        if p.is_file() and p.suffix.lower() in (".bib", ".bibtex", ".biblatex")
    )
    assert len(files) > 400
    plain = total = 0
    for path in files:
        try:
            text, _ = bibtex.read_bib_file(path)
        except bibtex.BibFileError:
            continue  # unreadable files are the robustness tests' business
        got = assert_same(text, monkeypatch)
        total += len(got.entries)
        plain += len(bibfast.scan(text.replace("\r\n", "\n").replace("\r", "\n")))
    # Most real entries are plain: the fast reader is not a fast path in name only.
    assert total > 25_000 and plain > 0.8 * total, (plain, total)


@pytest.mark.parametrize("fast", [True, False])
def test_a_failed_block_is_read_where_it_is_not_where_its_text_first_appears(
    fast: bool, monkeypatch
) -> None:
    """bibtexparser gives a failed block's text and line only; it used to be looked for from
    the start of its line, so an earlier copy of that text (the entry before, or a value
    holding the same words) was read again: a duplicate key, or an entry that is not there."""
    got = parse(CASES["failed block repeating the one before"], fast, monkeypatch)
    assert [e.key for e in got.entries] == ["k"]
    assert [f.message for f in got.failures] == ["@a is not closed before the file ends (line 1)"]
    got = parse(CASES["entry repeated inside a value"], fast, monkeypatch)
    assert [e.key for e in got.entries] == ["p", "q"] and got.failures == []
