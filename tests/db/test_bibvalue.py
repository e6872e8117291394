"""db.bibvalue: the fast paths read raw values as the group-by-group reader does."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest

from citedesk.db import bibvalue
from citedesk.db.bibvalue import braced_end, evaluate, is_well_formed

TRICKY = [
    "",
    "{",
    "}",
    "{}",
    '""',
    '"',
    "{a}",
    "{a b}",
    "{{a}}",
    "{a}{b}",
    "{a} # {b}",
    "{a}#{b}",
    "{a} # jan",
    "jan",
    "Jan",
    "2020",
    "12",
    "²",
    "{\\}",
    "{\\}}",
    "{\\{}",
    "{a\\}",
    "{a\\\\}",
    "{a\\\\\\}",
    "{\\\\}",
    "{x {y} z}",
    "{x {y z}",
    "{x y} z}",
    '{\\"o}',
    '{Schr{\\"o}dinger}',
    '"a"',
    '"a {"} b"',
    '"a \\" b"',
    '"a" # "b"',
    '"a',
    "{a} #",
    "# {a}",
    " {a} ",
    "{a}  ",
    "{$x$}",
    "{a~b}",
    "{1--2}",
    "macro # {x}",
    "{a}\n#\n{b}",
    "{" * 10 + "}" * 10,
    "{" + "{x}" * 5 + "}",
    "{\\emph{Section 3}, 95\\% of}",
]

PIECES = [
    "{",
    "}",
    "\\",
    "\\\\",
    "\\{",
    "\\}",
    '"',
    "a",
    "jan",
    "Jan",
    " ",
    "#",
    " # ",
    "12",
    "x y",
    "\n",
    "~",
    "$",
    "²",
    "é",
]

MACROS = {"a": "AA", "jan": "J!"}


def _split_general_evaluate(raw: str, macros: Mapping[str, str] | None) -> str:
    """evaluate() without its fast paths: every value read group by group."""
    parts = bibvalue._split_general(raw)
    return raw if parts is None else bibvalue.join_parts(parts, macros)


def _random_values(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    values = []
    for _ in range(count):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 10)))
        wrap = rng.random()
        values.append("{" + text + "}" if wrap < 0.5 else '"' + text + '"' if wrap < 0.65 else text)
    return values


@pytest.mark.parametrize("raw", TRICKY)
def test_evaluate_and_is_well_formed_agree_with_the_general_reader(raw: str) -> None:
    general = bibvalue._split_general(raw)
    assert is_well_formed(raw) == (general is not None)
    for macros in (None, MACROS):
        assert evaluate(raw, macros) == _split_general_evaluate(raw, macros)


def test_evaluate_and_is_well_formed_agree_with_the_general_reader_on_random_values() -> None:
    for raw in _random_values(5, 30_000):
        general = bibvalue._split_general(raw)
        assert is_well_formed(raw) == (general is not None), repr(raw)
        assert bibvalue._split_parts(raw) == ([raw] if raw.isalnum() else general), repr(raw)
        for macros in (None, MACROS):
            assert evaluate(raw, macros) == _split_general_evaluate(raw, macros), repr(raw)


def _bibtex_group_end(raw: str, i: int) -> int:
    """BibTeX's rule, a character at a time: every brace counts, after a backslash too."""
    depth = 0
    for k in range(i, len(raw)):
        depth += (raw[k] == "{") - (raw[k] == "}")
        if depth == 0:
            return k
    return -1


def test_braced_end_counts_braces_as_bibtex_does() -> None:
    for raw in TRICKY + _random_values(6, 20_000):
        for i, ch in enumerate(raw):
            if ch == "{":
                assert braced_end(raw, i) == _bibtex_group_end(raw, i), (raw, i)
                assert bibvalue._group_end(raw, i) == braced_end(raw, i), (raw, i)


@pytest.mark.parametrize(
    ("raw", "well_formed"),
    [
        ("{T. {Te\\{v}zak-Gregl}}", True),
        ("{Horse, wagon \\{\\&} chariot}", True),
        ("{\\{}}", True),
        ("{a \\{ b}", False),
        ("{a \\} b}", False),
        ("{\\}", True),
        ('"a \\{b\\} c"', True),
        ('"a {x"y} b"', True),
        ('"a \\{ b"', False),
        ('"a } b"', False),
        ('"a \\" b"', True),
        ("{a} # \\b", True),
        ("# {a}", False),
        ("%x", False),
        ("O'Reilly", False),
        ("a(b)", False),
    ],
)
def test_every_brace_counts_a_backslash_before_it_too(raw: str, well_formed: bool) -> None:
    """BibTeX has no escaped brace: ``\\{`` opens a group. (A quote after a backslash
    does not end a quoted value, as bibtexparser reads it; and a bare part is BibTeX's
    identifier, which has no quote, ``%``, ``'``, parenthesis, comma or equals sign.)"""
    assert is_well_formed(raw) is well_formed


def test_macro_lookups_are_made_for_bare_names_only() -> None:
    # The importer records which macros each entry looked up: the fast paths must not
    # skip a lookup for a bare name, nor make one for braced text or a number.
    seen: list[str] = []

    class Recording(dict[str, str]):
        def __contains__(self, name: object) -> bool:
            seen.append(str(name))
            return dict.__contains__(self, name)

    macros = Recording(MACROS)
    for raw in ["{jan}", '"jan"', "2020", "{a \\{jan}", "{x}"]:
        evaluate(raw, macros)
    assert seen == []
    assert [evaluate(raw, macros) for raw in ["jan", "A", "feb", "x # {y}"]] == [
        "J!",
        "AA",
        "February",
        "xy",
    ]
    assert seen == ["jan", "a", "feb", "x"]
