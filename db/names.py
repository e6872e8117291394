"""Person names in BibTeX: the ``and``-separated list, name parts, ``and others``."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def display_family(self) -> str:
        text = latex_to_unicode(" ".join(p for p in (self.prefix, self.family) if p))
        return collapse_space(text)

    @property
    def display_given(self) -> str:
        return collapse_space(latex_to_unicode(self.given))

    @property
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
    for raw in split_multiple_persons_names(text):
        raw = collapse_space(raw)
        if not raw:
            continue
        try:
            parts = parse_single_name_into_parts(raw, strict=False)
        except (InvalidNameError, IndexError, ValueError):
            people.append(Person(family=raw))
            continue
        people.append(
            Person(
                family=" ".join(parts.last),
                given=" ".join(parts.first),
                prefix=" ".join(parts.von),
                suffix=" ".join(parts.jr),
            )
        )
    return people


def format_names(people: list[Person]) -> str:
    return " and ".join(p.bibtex() for p in people)


def short_authors(families: list[str], others: bool = False) -> str:
    """The table's author column: 'Wang', 'Wang, Zhou', 'Wang, Zhou et al.'."""
    if not families:
        return ""
    if len(families) <= 2 and not others:
        return ", ".join(families)
    return ", ".join(families[:2]) + " et al."
