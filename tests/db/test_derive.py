"""db.bibtex's derived values and db.papers.display_columns: fast paths against the plain
definitions they stand in for."""

from __future__ import annotations

import random

import pytest

from citedesk.db import bibtex, bibvalue
from citedesk.db.bibtex import derive, field_map, parse_text, text_of
from citedesk.db.latex import collapse_space, latex_to_unicode
from citedesk.db.names import Person
from citedesk.db.papers import display_columns

RAWS = [
    "{Plain title}",
    "{A  title\n over lines}",
    "{1--2}",
    "{1---2}",
    "{a~b}",
    "{$O(n--1)$}",
    "{Schr{\\\"o}dinger's}",
    "{{SGD} More}",
    "{95\\% of}",
    "{\\emph{x}}",
    "{x}}",
    "{{x}",
    "{a\\}",
    "2020",
    "jan",
    "JAN",
    "cras",
    "{x} # jan",
    '"quoted"',
    '"a" # "b"',
    "",
    "{}",
    "{ lead}",
    "{trail }",
    "{tab\there}",
    "{" + "word " * 40 + "}",
    "{é--è}",
    "\\x",
]


@pytest.mark.parametrize("raw", RAWS)
def test_text_of_is_evaluate_then_decode_then_fold(raw: str) -> None:
    for macros in (None, {"cras": "Comptes {R}endus", "jan": "Jan."}):
        slow = collapse_space(latex_to_unicode(bibvalue.evaluate(raw, macros)))
        assert text_of(raw, macros) == slow


def test_text_of_is_evaluate_then_decode_then_fold_on_random_values() -> None:
    rng = random.Random(9)
    pieces = [
        "{",
        "}",
        "\\",
        "\\'",
        "a",
        " ",
        "  ",
        "-",
        "--",
        "~",
        "$",
        "#",
        " # ",
        "jan",
        "\n",
        "é",
        "x" * 30,
    ]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        raw = "{" + text + "}" if rng.random() < 0.7 else text
        slow = collapse_space(latex_to_unicode(bibvalue.evaluate(raw, None)))
        assert text_of(raw, None) == slow, repr(raw)


@pytest.mark.parametrize(
    "fields",
    [
        [("author", "{A}"), ("title", "{T}")],
        [("Author", "{A}"), ("TITLE", "{T}")],
        [("title", "{first}"), ("Title", "{second}")],
        [("title", "{first}"), ("title", "{second}")],
        [("ΣΑ", "{x}"), ("σα", "{y}")],
        [("İd", "{x}")],
        [("2020", "{x}")],
        [],
    ],
)
def test_field_map_keeps_the_first_of_each_lower_cased_name(fields: list[tuple[str, str]]) -> None:
    slow: dict[str, str] = {}
    for name, raw in fields:
        slow.setdefault(name.lower(), raw)
    result = field_map(fields)
    assert result == slow and list(result) == list(slow)
    assert field_map(iter(fields)) == slow  # any iterable, as the library passes


def test_derive_reads_an_entry_with_every_kind_of_value() -> None:
    d = derive(
        [
            ("Title", '{The {SGD} Method for Schr{\\"o}dinger--type ~Problems}'),
            ("author", "{Lef{\\`e}vre, Martin and van der Berg, Jr., Jan and others}"),
            ("journal", "cras"),
            ("year", "2023"),
            ("month", "jul"),
            ("pages", "{889--918}"),
            ("volume", "{10}"),
            ("url", "{https://arxiv.org/abs/2101.00001v2}"),
            ("abstract", "{We show  that\n$O(n)$ holds in 95\\% of \\emph{cases}.}"),
            ("title", "{ignored: BibTeX uses the first}"),
        ],
        {"cras": "Comptes Rendus de l'Acad{\\'e}mie"},
    )
    assert d.title == "The SGD Method for Schrödinger–type Problems"  # "~" folds too
    assert [(p.prefix, p.family, p.given, p.suffix) for p in d.authors] == [
        ("", "Lef{\\`e}vre", "Martin", ""),
        ("van der", "Berg", "Jan", "Jr."),
        ("", "others", "", ""),
    ]
    assert (d.venue, d.year, d.month, d.pages, d.volume, d.arxiv) == (
        "Comptes Rendus de l'Académie",
        2023,
        7,
        "889–918",
        "10",
        "2101.00001",
    )
    assert d.abstract == "We show that O(n) holds in 95% of cases."  # simple math as text


def _display_slow(d: bibtex.Derived) -> tuple[str, str, str]:
    """The author columns as display_columns defined them before its fast paths."""
    named = [p for p in d.authors if not p.is_others] or [p for p in d.editors if not p.is_others]
    others = (
        any(p.is_others for p in d.authors) if d.authors else any(p.is_others for p in d.editors)
    )
    families = [p.display_family for p in named[:3]]
    short = (
        ""
        if not families
        else " & ".join(families)
        if len(families) <= 2 and not others
        else families[0] + " et al."
    )
    return (
        short,
        "; ".join(p.display for p in (d.authors or d.editors)),
        (named[0].display_family.lower() if named else ""),
    )


@pytest.mark.parametrize(
    "authors, editors",
    [
        ([], []),
        (["A"], []),
        (["A", "others"], []),
        (["others"], ["E"]),
        (["others"], ["E", "others"]),
        ([], ["E", "F", "G"]),
        ([], ["others"]),
        (["A", "B", "C", "D"], ["E"]),
        (["A", "B"], []),
        (["others", "others"], []),
    ],
)
def test_display_columns_name_columns_follow_their_definition(
    authors: list[str], editors: list[str]
) -> None:
    d = bibtex.Derived(
        title="T", authors=[Person(a) for a in authors], editors=[Person(e) for e in editors]
    )
    columns = display_columns(d)
    assert (columns["authors"], columns["authors_full"], columns["first_author"]) == _display_slow(
        d
    )


def test_control_characters_are_counted_as_the_regular_expression_counts() -> None:
    rng = random.Random(10)
    alphabet = [chr(i) for i in range(0x90)] + ["\ufffd", "é", "\ud800", "中", "\uffff"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        assert bibtex._control_count(text) == len(bibtex._CONTROL.findall(text)), repr(text)


def test_bad_field_names_still_send_an_entry_to_bibtexs_own_rules() -> None:
    # Field names are checked through a cache; a bad one is still caught every time.
    for _ in range(2):
        parsed = parse_text("@article{k,\n  good = {1},\n  bad name = {2}\n}\n")
        assert [e.fields for e in parsed.entries] != [[("good", "{1}"), ("bad name", "{2}")]]
    parsed = parse_text("@article{k,\n  good = {1},\n  also_good = {2}\n}\n")
    assert parsed.entries[0].fields == [("good", "{1}"), ("also_good", "{2}")]
