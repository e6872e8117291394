"""Cite as you write (db/cite.py): Better BibTeX's CAYW formats, output for output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citedesk.db import Library
from citedesk.db.cite import FORMATS, CiteFormatError, cite

KEYS = ["knuth1984", "lamport1994"]


@pytest.mark.parametrize(
    ("fmt", "command", "expected"),
    [
        ("latex", "", r"\cite{knuth1984,lamport1994}"),
        ("latex", "citep", r"\citep{knuth1984,lamport1994}"),
        ("cite", "", r"\cite{knuth1984,lamport1994}"),
        ("natbib", "", r"\cite{knuth1984,lamport1994}"),  # BBT: natbib's default is \cite
        ("citep", "", r"\citep{knuth1984,lamport1994}"),
        ("citet", "", r"\citet{knuth1984,lamport1994}"),
        ("biblatex", "", r"\autocite{knuth1984,lamport1994}"),
        ("biblatex", "textcite", r"\textcite{knuth1984,lamport1994}"),
    ],
)
def test_latex_formats(fmt: str, command: str, expected: str) -> None:
    assert cite(KEYS, fmt, command=command) == expected


def test_pandoc_without_and_with_brackets() -> None:
    assert cite(KEYS, "pandoc") == "@knuth1984; @lamport1994"
    assert cite(KEYS, "pandoc", brackets=True) == "[@knuth1984; @lamport1994]"


def test_multimarkdown() -> None:
    assert cite(KEYS, "mmd") == "[#knuth1984][][#lamport1994][]"


def test_typst_uses_its_own_reference_syntax() -> None:
    assert cite(KEYS, "typst") == "@knuth1984 @lamport1994"


def test_typst_key_that_at_cannot_carry() -> None:
    assert cite(["smith2020."], "typst") == '#cite(label("smith2020."))'


def test_empty_pick_gives_empty_text() -> None:
    assert all(cite([], fmt) == "" for fmt in FORMATS)


def test_unknown_format_is_a_users_error() -> None:
    with pytest.raises(CiteFormatError, match="unknown cite format 'word'"):
        cite(KEYS, "word")


def test_bad_latex_command() -> None:
    with pytest.raises(CiteFormatError, match="not a LaTeX command"):
        cite(KEYS, "latex", command="cite}{x")


def test_translate_uses_the_export() -> None:
    assert cite(KEYS, "translate", translate=lambda keys: "|".join(keys)) == (
        "knuth1984|lamport1994"
    )
    with pytest.raises(CiteFormatError, match="translate"):
        cite(KEYS, "translate")


def _library(tmp_path: Path) -> Library:
    return Library.open(tmp_path / "l.sqlite")


def test_json_is_the_items_in_key_order(tmp_path: Path) -> None:
    items = _library(tmp_path).csl_items()
    keys = [items[3]["id"], items[0]["id"]]
    out = json.loads(cite(keys, "json", items=items))
    assert [item["id"] for item in out] == keys


def test_formatted_formats(tmp_path: Path) -> None:
    items = _library(tmp_path).csl_items()
    keys = [items[0]["id"], items[1]["id"]]
    citation = cite(keys, "formatted-citation", items=items)
    assert citation.startswith("(") and citation.endswith(")") and ";" in citation
    bibliography = cite(keys, "formatted-bibliography", items=items, style="ieee")
    assert bibliography.splitlines()[0].startswith("[1]")
    assert len(bibliography.splitlines()) == 2


def test_missing_items_named() -> None:
    with pytest.raises(CiteFormatError, match="needs the papers' CSL items"):
        cite(KEYS, "json")
    with pytest.raises(CiteFormatError, match="no CSL item for lamport1994"):
        cite(KEYS, "formatted-citation", items=[{"id": "knuth1984", "type": "book"}])
