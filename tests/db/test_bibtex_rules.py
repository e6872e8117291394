"""Citedesk reads .bib text as BibTeX 0.99d does: where blocks start, and how braces count.

Each case is checked against the real ``bibtex`` program where it is installed: a style that
writes every field of every entry (and the parts of every author name) shows what BibTeX
read, and Citedesk must read the same.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from citedesk.db import bibtex
from citedesk.db.bibtex import parse_text
from citedesk.db.bibvalue import evaluate
from citedesk.db.latex import collapse_space
from citedesk.db.names import parse_names

FIELDS = ["title", "author", "year", "note", "journal", "booktitle"]
TYPES = ["article", "misc", "inproceedings", "www-inproceedings", "book", "fake-entry"]

# A style that writes "key|field|value" for each field BibTeX read, "key|type|t" for each
# entry, and "key|name|first/von/last/jr" for each author.
DUMP_BST = (
    """
ENTRY { FIELDS } {} { }
INTEGERS { n i }
FUNCTION {out}
{ duplicate$ missing$
    { pop$ pop$ }
    { swap$ cite$ "|" * swap$ * "|" * swap$ * write$ newline$ }
  if$
}
FUNCTION {names.out}
{ author missing$
    'skip$
    { author num.names$ 'n :=
      #1 'i :=
      { i n > #0 = }
      { cite$ "|name|" * author i "{ff{ }}/{vv{ }}/{ll{ }}/{jj{ }}" format.name$ *
        write$ newline$
        i #1 + 'i :=
      }
      while$
    }
  if$
}
FUNCTION {default.type}
{ cite$ "|type|" * type$ * write$ newline$
  OUTS
  names.out
}
TYPES
READ
ITERATE {call.type$}
""".replace("FIELDS", " ".join(FIELDS))
    .replace("OUTS", "\n  ".join(f'"{f}" {f} out' for f in FIELDS))
    .replace("TYPES", "\n".join(f"FUNCTION {{{t}}} {{ default.type }}" for t in TYPES))
)

needs_bibtex = pytest.mark.skipif(
    shutil.which("bibtex") is None, reason="the bibtex program is not installed"
)


def what_bibtex_reads(text: str, folder: Path) -> tuple[dict[str, dict[str, str]], int]:
    """key -> {"type": type, field: value, "names": [...]} as BibTeX reads ``text``, and the
    number of error messages it gave."""
    folder.mkdir(exist_ok=True)
    (folder / "x.bib").write_bytes(text.encode("utf-8"))
    (folder / "dump.bst").write_text(DUMP_BST)
    (folder / "x.aux").write_text("\\relax\n\\citation{*}\n\\bibstyle{dump}\n\\bibdata{x}\n")
    subprocess.run(
        ["bibtex", "-min-crossrefs=100", "x"],
        cwd=folder,
        capture_output=True,
        timeout=60,
        check=False,
    )
    read: dict[str, dict] = {}
    for line in (folder / "x.bbl").read_text("utf-8").splitlines():
        key, what, value = line.split("|", 2)
        entry = read.setdefault(key, {"names": []})
        if what == "name":
            entry["names"].append(value)
        else:
            entry[what] = value
    log = (folder / "x.blg").read_text("utf-8", "replace")
    m = re.search(r"\(There (?:was|were) (\d+) error messages?\)", log)
    return read, int(m.group(1)) if m else 0


def what_citedesk_reads(parsed: bibtex.ParsedFile) -> dict[str, dict]:
    """The same from Citedesk's reading: values evaluated, white space folded as BibTeX
    folds it, names split into their parts."""
    macros: dict[str, str] = {}
    for block in parsed.blocks:
        if block.kind == "string" and block.name:
            macros[block.name.lower()] = evaluate(block.value, macros)
    read: dict[str, dict] = {}
    for e in parsed.entries:
        values = {k.lower(): collapse_space(evaluate(v, macros)) for k, v in e.fields}
        entry: dict = {"type": e.entry_type if e.entry_type in TYPES else "", "names": []}
        entry.update({k: v for k, v in values.items() if k in FIELDS})
        if "author" in values:
            entry["names"] = [
                f"{p.given}/{p.prefix}/{p.family}/{p.suffix}" for p in parse_names(values["author"])
            ]
        read[e.key] = entry
    return read


# Valid BibTeX (BibTeX gives no error) that Citedesk must read exactly as BibTeX does.
VALID = {
    "blocks bibtexparser does not see": (
        "@ inproceedings{s1, title={A}, year=2008}\n@InProceedings\n{s2, title={B}, year=2003}\n"
        "@www-inproceedings{s4, title={C}, year=2001}\n@misc{s3, title={D}}\n"
    ),
    "btxdoc's fake entry and scribe entry": (
        '@FAKE-ENTRY\n        {fake-database-key,\n        note = "a real\n  comment"\n'
        '        }\n\nsyntactically legal things.@\n\nMaNuAl  (scribe,\n  TITLE="Scribe",\n'
        "  YEAR=1984,\n)   May the inclination not be with you.\n"
    ),
    "a line break and blanks before a string's brace": (
        '@String\n{jn = "J. Nowhere"}\n@ string {yr = 1999}\n@misc{k, journal = jn, year = yr}\n'
    ),
    # (Not on the last line: there BibTeX 0.99d ignores what follows an entry.)
    "an entry after another on its line": "@misc{a, title={1}} @ misc{b, title={2}}\n\n",
    "a backslash brace inside a name": (
        "@article{gre01,\n\tAuthor = {T. {Te\\{v}zak-Gregl}},\n\tJournal = {Opuscula},\n"
        "\tTitle = {Veze},\n\tYear = {2001}}\n"
    ),
    "backslash braces that balance": "@misc{h, title = {Horse, wagon \\{\\&} chariot}, "
    "year = 1999}\n",
    "a group of a backslash and a brace": "@misc{k, title = {\\{}}, note = {x}}\n",
    "backslash braces in quotes": '@misc{k, title = "a \\{b\\} c", note = "d {\\{}} e"}\n',
    "a quote inside braces inside quotes": '@misc{k, title = "a {x"y} b", year = 1}\n',
    "types of BibTeX's identifier characters": (
        "@t+{aa1, title={x}}\n@t@{aa2, title={y}}\n@_t{aa3, title={z}}\n\n"
    ),
    "names with backslash braces": (
        "@misc{k, author = {\\{Smith\\} and {\\{Jones}} and Ann \\{van\\} Berg}}\n"
    ),
}


@needs_bibtex
@pytest.mark.parametrize("text", VALID.values(), ids=VALID.keys())
@pytest.mark.parametrize("fast", [True, False])
def test_valid_bibtex_is_read_as_bibtex_reads_it(
    text: str, fast: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs, errors = what_bibtex_reads(text, tmp_path / "bibtex")
    assert errors == 0 and theirs  # the case is valid BibTeX, with entries
    monkeypatch.setattr(bibtex, "FAST_ENTRIES", fast)
    parsed = parse_text(text)
    assert parsed.failures == [] and parsed.warnings == []
    assert what_citedesk_reads(parsed) == theirs


# Not valid BibTeX: BibTeX gives an error, Citedesk a failure. The entries named are read
# by both, whole. (BibTeX reads on after an error to the next "@"; Citedesk stops a block
# still open at the next line that starts one: it reads "j" in all of these.)
INVALID = {
    "an escaped brace that closes a value early": (
        "@misc{k, title = {a \\} b}}, x = {y}}\n@misc{j, title = {b}}\n",
        ["j"],
    ),
    "an escaped brace that leaves a value open": (
        "@misc{k, title = {a \\{ b}, note = {c}}\n@misc{j, title = {b}}\n",
        [],
    ),
    "an escaped brace that leaves a quoted value open": (
        '@misc{k, title = "a \\{ b", year = 1}\n@misc{j, title = {b}}\n',
        [],
    ),
    "no entry type": ("@ {c, title={x}}\n@misc{j, title = {b}}\n", ["j"]),
    "a type that starts with a digit": ("@2thou{k, title={x}}\n@misc{j, title = {b}}\n", ["j"]),
}


@needs_bibtex
@pytest.mark.parametrize(("text", "keys"), INVALID.values(), ids=INVALID.keys())
def test_invalid_bibtex_is_a_failure_as_it_is_an_error_to_bibtex(
    text: str, keys: list[str], tmp_path: Path
) -> None:
    theirs, errors = what_bibtex_reads(text, tmp_path / "bibtex")
    parsed = parse_text(text)
    assert errors >= 1 and [f.key for f in parsed.failures] in (["k"], [None])
    ours = what_citedesk_reads(parsed)
    assert list(ours) == ["j"] and {k: theirs[k] for k in keys} == {k: ours[k] for k in keys}


# -- the cases of the report, one by one ---------------------------------------------------------


def test_entries_bibtex_starts_after_blanks_a_line_break_or_a_hyphenated_type() -> None:
    text = VALID["blocks bibtexparser does not see"]
    parsed = parse_text(text)
    assert [(e.key, e.entry_type) for e in parsed.entries] == [
        ("s1", "inproceedings"),
        ("s2", "inproceedings"),
        ("s4", "www-inproceedings"),
        ("s3", "misc"),
    ]
    assert [e.source for e in parsed.entries] == [
        "@ inproceedings{s1, title={A}, year=2008}",
        "@InProceedings\n{s2, title={B}, year=2003}",
        "@www-inproceedings{s4, title={C}, year=2001}",
        "@misc{s3, title={D}}",
    ]
    assert [e.line for e in parsed.entries] == [1, 2, 4, 5]
    assert parsed.failures == [] and parsed.warnings == []
    assert "".join(i.lead + i.source for i in parsed.items) + parsed.tail == text


def test_a_file_of_only_such_entries_is_read_not_refused() -> None:
    parsed = parse_text("@ misc{a, title={A}}\n@Book\n  {b, title={B}}\n")
    assert [e.key for e in parsed.entries] == ["a", "b"] and parsed.failures == []


def test_an_at_sign_in_comment_text_stays_a_comment() -> None:
    text = (
        "% mail me@example.org, or @ me\nSee @misc in the manual; @ {not a type}.\n"
        "@misc{k, title={T}}\n"
    )
    parsed = parse_text(text)
    assert [e.key for e in parsed.entries] == ["k"]
    assert [str(f) for f in parsed.failures] == [
        "<text>:2: '@' is not followed by an entry type (like @article)"
    ]


def test_an_at_sign_inside_a_value_starts_nothing() -> None:
    parsed = parse_text("@misc{k, note = {write to a@b {x} or\n@ misc(no)}, title = {T}}\n")
    assert [(e.key, [n for n, _ in e.fields]) for e in parsed.entries] == [("k", ["note", "title"])]
    assert parsed.failures == []


def test_a_brace_after_a_backslash_counts_so_no_field_is_lost() -> None:
    parsed = parse_text(VALID["a backslash brace inside a name"])
    [entry] = parsed.entries
    assert entry.fields == [
        ("Author", "{T. {Te\\{v}zak-Gregl}}"),
        ("Journal", "{Opuscula}"),
        ("Title", "{Veze}"),
        ("Year", "{2001}"),
    ]
    person = bibtex.derive(entry.fields).authors[0]
    assert (person.given, person.family) == ("T.", "{Te\\{v}zak-Gregl}")


def test_backslash_braces_that_balance_are_valid() -> None:
    parsed = parse_text(VALID["backslash braces that balance"])
    assert parsed.failures == []
    assert parsed.entries[0].fields == [
        ("title", "{Horse, wagon \\{\\&} chariot}"),
        ("year", "1999"),
    ]
