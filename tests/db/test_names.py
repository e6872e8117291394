"""db.names: the fast name readers give what bibtexparser's character loops give."""

from __future__ import annotations

import random

import pytest
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)

from citedesk.db import names
from citedesk.db.latex import collapse_space
from citedesk.db.names import Person, parse_names


@pytest.mark.parametrize(
    "text",
    [
        "Lef{\\`e}vre, Martin and Yoon, Maria",
        "{Barnes and Noble} and Knuth",
        'M\\"uller and Smith',
        'A \\"Ozturk',
        'A and \\"Ozturk',
        "A an\\d B",
        "A \\ and B",
        "A and }B",
        "A } and B",
        "A and {B}",
        "{A and",
        "A and{B}",
        "x {a and b} and y",
        "Dvo{\\v{r}}{\\'a}k, Bo and Wilson",
        "A AND B",
        "A And\tb",
        "A and and B",
        "\\",
        "{\\\\} and x",
        "\\{ and \\}",
        "İ and K and x",
    ],
)
def test_split_names_agrees_with_bibtexparser(text: str) -> None:
    assert names._split_names(text) == _bibtexparser_split(text)
    folded = collapse_space(text)  # as derive passes lists: the " and " search fast path
    assert names._split_names(folded) == _bibtexparser_split(folded)


def _bibtexparser_split(text: str) -> list[str]:
    """bibtexparser's split, counting a brace after a backslash as BibTeX does: the only
    difference between the two, so where there is none it is bibtexparser's split itself."""
    split = names._bibtexparser_split(text)
    if "\\{" not in text and "\\}" not in text:
        assert split == split_multiple_persons_names(text)
    return split


def test_split_names_with_braces_and_escapes_agrees_with_bibtexparser() -> None:
    rng = random.Random(7)
    pieces = [
        "a",
        "A",
        "n",
        "d",
        "D",
        " ",
        "  ",
        "\t",
        "x",
        " and ",
        " AND ",
        "~",
        "é",
        ",",
        "{",
        "}",
        "\\",
        "\\'",
        "{\\`e}",
        '\\"o',
        " {",
        "{ and }",
        "\\\\",
        "\\{",
        "\\}",
        "İ",
    ]
    for _ in range(30_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        if rng.random() < 0.5:
            text = collapse_space(text)
        assert names._split_names(text) == _bibtexparser_split(text), repr(text)


@pytest.mark.parametrize(
    "name",
    [
        "Donald E. Knuth",
        "Knuth, Donald E.",
        "Ludwig van Beethoven",
        "van Beethoven, Ludwig",
        "Beeblebrox, IV, Zaphod",
        "de la Vallée Poussin, Charles",
        "Jean de la Fontaine",
        "Brinch Hansen, Per",
        "others",
        "Smith, Jr., John",
        "a, b, c, d",
        "A,",
        ",A",
        ",",
        "~",
        "Anne~Marie Dupont",
        "e. e. cummings",
        "Ǆemal ǅa",
        "1st 2nd",
        "x y z",
        "A b C d",
    ],
)
def test_plain_name_parts_agree_with_bibtexparser(name: str) -> None:
    parts = parse_single_name_into_parts(name, strict=False)
    assert names._plain_name_parts(name) == (parts.first, parts.von, parts.last, parts.jr)


def test_plain_name_parts_agree_with_bibtexparser_on_random_names() -> None:
    rng = random.Random(8)
    pieces = [
        "Smith",
        "van",
        "der",
        "de",
        "Jr.",
        "A.",
        "é",
        "Émile",
        "ß",
        "ǅa",
        " ",
        "  ",
        ",",
        ", ",
        "~",
        "\t",
        "von",
        "1",
        "-",
        "IV",
        "'t",
        "\xa0",
        "\u2003",
        "\x1c",
    ]
    for _ in range(30_000):
        name = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 9)))
        parts = parse_single_name_into_parts(name, strict=False)
        expected = (parts.first, parts.von, parts.last, parts.jr)
        assert names._plain_name_parts(name) == expected, repr(name)


@pytest.mark.parametrize(
    "text",
    [
        "Knuth, Donald and van Beethoven, Ludwig and Smith, Jr., John and others",
        "Lef{\\`e}vre, Martin and Anne~Marie Dupont and Jean--Pierre Serre",
        'de la Fontaine, Jean and {World Health Organization} and \\"Ozturk, Ali',
    ],
)
def test_parsed_people_show_what_a_fresh_person_computes(text: str) -> None:
    # _parse_name fills in the decoded forms of plain names itself; they must be what
    # Person's properties compute, and parse_names what parsing each name gives.
    names._parse_name_list.cache_clear()
    names._parse_name.cache_clear()
    people = parse_names(text)
    for raw, person in zip(split_multiple_persons_names(text), people, strict=True):
        parts = parse_single_name_into_parts(collapse_space(raw), strict=False)
        fresh = Person(
            family=" ".join(parts.last),
            given=" ".join(parts.first),
            prefix=" ".join(parts.von),
            suffix=" ".join(parts.jr),
        )
        assert person == fresh
        assert (person.display, person.display_family, person.display_given, person.is_others) == (
            fresh.display,
            fresh.display_family,
            fresh.display_given,
            fresh.is_others,
        )


def test_a_name_that_is_a_bare_command_shows_as_written() -> None:
    """``\\Thanh`` (a macro of the document's) decodes to nothing; a person shown as nothing
    is lost in every list, so its text shows."""
    [person] = parse_names("\\Thanh")
    assert (person.family, person.display, person.display_family) == (
        "\\Thanh",
        "\\Thanh",
        "\\Thanh",
    )
    assert [p.display for p in parse_names("{\\relax} and Ann \\Thanh")] == [
        "{\\relax}",
        "Ann \\Thanh",
    ]


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("T. {Te\\{v}zak-Gregl}", [("T.", "", "{Te\\{v}zak-Gregl}")]),
        ("\\{Smith\\} and {\\{Jones}}", [("", "", "\\{Smith\\}"), ("", "", "{\\{Jones}}")]),
        ("Ann \\{van\\} Berg and B. C", [("Ann \\{van\\}", "", "Berg"), ("B.", "", "C")]),
    ],
)
def test_a_brace_after_a_backslash_counts_in_names_as_in_bibtex(
    text: str, people: list[tuple[str, str, str]]
) -> None:
    """As BibTeX 0.99d's format.name$ splits them (tests/db/test_bibtex_rules.py asks it):
    ``\\{van\\}`` has no letter outside braces, so it is no "von" word."""
    assert [(p.given, p.prefix, p.family) for p in parse_names(text)] == people


def test_parse_names_hands_out_a_new_list_each_time() -> None:
    first = parse_names("A and B")
    first.append(Person("C"))
    assert parse_names("A and B") == [Person("A"), Person("B")]


def test_others_and_von_names_are_read_as_bibtex_reads_them() -> None:
    people = parse_names("van der Berg, Jr., Jan and Anne Marie de Vries and others")
    assert [(p.prefix, p.family, p.given, p.suffix) for p in people] == [
        ("van der", "Berg", "Jan", "Jr."),
        ("de", "Vries", "Anne Marie", ""),
        ("", "others", "", ""),
    ]
    assert [p.display for p in people] == ["Jan van der Berg, Jr.", "Anne Marie de Vries", "others"]
    assert people[2].is_others and not people[0].is_others


def _bibtexparser_person(raw: str) -> Person | None:
    """What _parse_name gives, from bibtexparser's reader alone (braces counted as BibTeX
    counts them: see _bibtexparser_split)."""
    raw = collapse_space(raw)
    if not raw:
        return None
    first, von, last, jr = names._bibtexparser_parts(raw)
    if "\\{" not in raw and "\\}" not in raw:
        parts = parse_single_name_into_parts(raw, strict=False)
        assert (first, von, last, jr) == (parts.first, parts.von, parts.last, parts.jr)
    return Person(
        family=" ".join(last), given=" ".join(first), prefix=" ".join(von), suffix=" ".join(jr)
    )


@pytest.mark.parametrize(
    "raw",
    [
        "Kov{\\'a}cs, Luc{\\'i}a",
        "Dvo{\\v{r}}{\\'a}k, Bo",
        '{\\"O}zt{\\"u}rk, Lei',
        "{\\o}rsted, H. C.",
        "Anne {van} Berg",
        "Anne {v}an Berg",
        "{SGD} Team",
        'M\\"uller, A.',
        "{Barnes and Noble}",
        "{Barnes, Noble}",
        'a{\\"O}b c d',
        "x {\\'e}mile Zola",
        "Jean {de la} Fontaine",
        "{\\relax Ch}ristopher Smith",
        "Smith}",
        "{Smith",
        "Sm{\\\\}ith",
    ],
)
def test_names_with_braces_agree_with_bibtexparser(raw: str) -> None:
    assert names._parse_name.__wrapped__(raw) == _bibtexparser_person(raw)


def test_names_with_braces_agree_with_bibtexparser_on_random_names() -> None:
    rng = random.Random(14)
    pieces = [
        "Smith",
        "van",
        "de",
        "Jr.",
        "A.",
        "é",
        " ",
        ",",
        ", ",
        "~",
        "von",
        "1",
        "-",
        "'t",
        "{",
        "}",
        "\\",
        "\\'",
        "{\\'a}",
        '{\\"O}',
        "{\\o}",
        "{\\v{r}}",
        "{SGD}",
        "{van}",
        "{a b}",
        "{a,b}",
        '\\"u',
        "{\\\\}",
        "\\{",
        "{x}y",
        "o",
        "O",
    ]
    for _ in range(30_000):
        raw = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert names._parse_name.__wrapped__(raw) == _bibtexparser_person(raw), repr(raw)
