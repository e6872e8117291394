"""Person names in BibTeX: the ``and``-separated list, name parts, ``and others``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)

from .latex import collapse_space, latex_to_unicode


@dataclass(frozen=True)
class Person:
    """One name, parts as written in LaTeX (decoded forms are properties)."""

    family: str
    given: str = ""
    prefix: str = ""  # "von", "van der"
    suffix: str = ""  # "Jr."

    @property
    def is_others(self) -> bool:
        return self.family == "others" and not self.given

    # Decoded forms are cached on the (immutable) object: parse_names hands out one object per
    # distinct name, and a large import shows the same authors thousands of times.
    @cached_property
    def display_family(self) -> str:
        text = latex_to_unicode(" ".join(p for p in (self.prefix, self.family) if p))
        return collapse_space(text)

    @cached_property
    def display_given(self) -> str:
        return collapse_space(latex_to_unicode(self.given))

    @cached_property
    def display(self) -> str:
        """'Given von Family, Jr.' in Unicode, as a reader writes it."""
        if self.is_others:
            return "others"
        name = " ".join(p for p in (self.display_given, self.display_family) if p)
        if self.suffix:
            name += ", " + latex_to_unicode(self.suffix)
        return name

    def bibtex(self) -> str:
        """The name in BibTeX's 'von Last, Jr, First' form, which every style reads right."""
        if self.is_others:
            return "others"
        last = " ".join(p for p in (self.prefix, self.family) if p)
        if self.suffix:
            return f"{last}, {self.suffix}, {self.given}"
        if self.given:
            return f"{last}, {self.given}"
        return last


def parse_names(text: str) -> list[Person]:
    """Split a BibTeX name list (``A and B and others``) into people, in order."""
    people = []
    for raw in _split_names(text):
        raw = collapse_space(raw)
        if raw:
            people.append(_parse_name(raw))
    return people


#: " and " between names, as bibtexparser finds it outside braces (its white space only).
_AND = re.compile(r"[ \r\n\t]+[aA][nN][dD][ \r\n\t]+")


def _split_names(text: str) -> list[str]:
    """bibtexparser's split_multiple_persons_names, with a fast path for the usual lists.

    Without braces or backslashes its character loop splits exactly where this regular
    expression does (tests/db/test_import_engine.py compares them); that loop is a tenth
    of an import's time otherwise.
    """
    if "{" in text or "}" in text or "\\" in text:
        return split_multiple_persons_names(text)
    text = text.strip(" \r\n\t")
    return _AND.split(text) if text else []


@lru_cache(maxsize=1 << 16)
def _parse_name(raw: str) -> Person:
    """One name; cached, since the same people recur all over a bibliography."""
    try:
        parts = parse_single_name_into_parts(raw, strict=False)
    except (InvalidNameError, IndexError, ValueError):
        return Person(family=raw)
    return Person(
        family=" ".join(parts.last),
        given=" ".join(parts.first),
        prefix=" ".join(parts.von),
        suffix=" ".join(parts.jr),
    )


def format_names(people: list[Person]) -> str:
    return " and ".join(p.bibtex() for p in people)


def short_authors(families: list[str], others: bool = False) -> str:
    """The table's author column: 'Wang', 'Wang, Zhou', 'Wang, Zhou et al.'."""
    if not families:
        return ""
    if len(families) <= 2 and not others:
        return ", ".join(families)
    return ", ".join(families[:2]) + " et al."
