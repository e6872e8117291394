"""db.latex: the fast paths give what the character loop and the plain definitions give."""

from __future__ import annotations

import random
import unicodedata

import pytest

from citedesk.db import latex
from citedesk.db.latex import ascii_fold, collapse_space, latex_to_unicode

# Inputs where a fast path could go wrong: braces, escapes, accents, math, ties, dashes,
# macros-like words, commands at the ends, white space of every kind.
TRICKY = [
    "",
    " ",
    "plain text",
    "a-b",
    "a--b",
    "a---b",
    "a----b",
    "a-----b",
    "--",
    "---",
    "-",
    "pages 12--34",
    "$a--b$",
    "x $a--b$ y--z",
    "$",
    "$$",
    "a $x",
    "~",
    "a~b",
    "\\~{n}",
    "\\{",
    "\\}",
    "\\{x\\}",
    "{x}",
    "{{x}}",
    "}",
    "{",
    'Schr{\\"o}dinger',
    '\\"o',
    '{\\"o}',
    "\\'{e}",
    "\\'e",
    "\\`{\\i}",
    "\\c{c}",
    "{\\ss}",
    "\\ss{}",
    "\\o",
    'M\\"uller',
    "\\emph{x--y}",
    "\\href{http://a--b}{text}",
    "\\textbf{a}\\textit{b}",
    "\\unknown x",
    "\\\\",
    "a\\\\b",
    "\\",
    "a\\",
    "\\%",
    "95\\% of",
    "\\&",
    "\\LaTeX{} x",
    "\\'{\\'{e}}",
    "Jean--Pierre",
    "\u00e9--\u00e8",
    "tab\there",
    "line\nbreak",
    "two  spaces",
    " lead",
    "trail ",
    "\xa0nbsp",
    "\u2003em",
    "\x0bvt",
    "\x1cfs",
    "\u200bzw",
    "a\x00b",
]

PIECES = [
    "a",
    "b c",
    " ",
    "  ",
    "-",
    "--",
    "---",
    "$",
    "\\",
    "\\'",
    '\\"',
    "{",
    "}",
    "~",
    "\\emph{",
    "\\\\",
    "\\%",
    "\\'{e}",
    "\\href{u}{t}",
    "\\o ",
    "é",
    "\n",
    "\t",
    "\x00",
    "word" * 20,
]


def _random_texts(seed: int, count: int, longest: int = 14) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(PIECES) for _ in range(rng.randint(0, longest))) for _ in range(count)
    ]


@pytest.mark.parametrize("text", TRICKY)
def test_latex_to_unicode_fast_paths_agree_with_the_loop(text: str) -> None:
    # latex_to_unicode returns early (nothing to decode) or replaces dashes itself;
    # _decode is the loop that handles everything.
    assert latex_to_unicode(text) == latex._decode(text, 0)


def test_latex_to_unicode_fast_paths_agree_with_the_loop_on_random_text() -> None:
    for text in _random_texts(1, 20_000):
        assert latex_to_unicode(text) == latex._decode(text, 0), repr(text)


def test_dash_only_text_is_decoded_like_the_loop_does() -> None:
    rng = random.Random(2)
    for _ in range(5_000):
        text = "".join(rng.choice("-a 1") for _ in range(rng.randint(0, 12)))
        assert latex_to_unicode(text) == latex._decode(text, 0), repr(text)
    assert latex_to_unicode("1--2, 3---4, 5----6") == "1–2, 3—4, 5—-6"


def test_long_ascii_text_decodes_as_the_regular_expression_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Long ASCII texts find their plain runs in a NUL-marked copy; shorter ones, and all of
    # them here once the threshold is out of reach, with _PLAIN_RUN.
    texts = [t for t in _random_texts(3, 4_000, longest=30) if len(t) > 64 and t.isascii()]
    texts += [
        "Abstract " * 20 + "with $\\mathcal{O}(\\sqrt{n})$ and \\emph{Section 3}, 95\\%.",
        "x" * 80 + "\\",
        "y" * 80 + "\x00-\x00--\x00",
    ]
    marked = [latex_to_unicode(t) for t in texts]
    monkeypatch.setattr(latex, "_MARKED_MIN_LENGTH", 10**9)
    assert [latex_to_unicode(t) for t in texts] == marked
    assert len(texts) > 500


@pytest.mark.parametrize(
    "text",
    TRICKY
    + [
        "a" * 150 + "\tb",
        "a" * 150 + "  b",
        "a" * 150 + " ",
        " " + "a" * 150,
        "a " * 80,
        "é" * 150 + "\u2003b",
        "a" * 150 + "\x1c",
    ],
)
def test_collapse_space_is_split_and_join(text: str) -> None:
    assert collapse_space(text) == " ".join(text.split())


def test_collapse_space_is_split_and_join_on_random_text() -> None:
    rng = random.Random(4)
    spaces = [
        " ",
        "  ",
        "\t",
        "\n",
        "\r",
        "\x0b",
        "\x0c",
        "\x1c",
        "\x1f",
        "\x85",
        "\xa0",
        "\u2003",
        "\u3000",
        "x",
        "word",
        "é",
        "\x00",
        "\u200b",
    ]
    for _ in range(20_000):
        text = "".join(rng.choice(spaces) for _ in range(rng.randint(0, 12)))
        text = text * rng.choice([1, 1, 20])  # past the length where the scans change
        assert collapse_space(text) == " ".join(text.split()), repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Knuth",
        "Müller",
        "Øresund",
        "ß",
        "naïve café",
        "Łódź",
        "İstanbul",
        "x\u0301",
        "plain ASCII, 1-2 {x}",
    ],
)
def test_ascii_fold_of_ascii_text_is_the_text(text: str) -> None:
    # The fast path (ASCII in, the same out) and the table + NFKD path agree.
    slow = (
        unicodedata.normalize("NFKD", text.translate(latex._FOLD))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    assert ascii_fold(text) == slow
