"""What each entry type holds, and the fields BibLaTeX and BibTeX name differently.

The knowledge is biblatex's data model and JabRef's entry types, kept small: for each
type the fields it needs (required) and the ones people commonly give it (optional), as
*slots*. A slot is one thing an entry says, which BibLaTeX and BibTeX may name differently
(``journaltitle``/``journal``); the form shows the name the entry uses.

:func:`paired_changes` keeps the two names of a slot saying the same thing when an entry has
both, so that biber (which reads ``date``, ``journaltitle``) and BibTeX (``year``,
``journal``) print the same: every field edit goes through it (``Papers.update_fields``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Fields that BibLaTeX and BibTeX name differently: BibLaTeX name -> BibTeX name. When an
#: entry has both, an edit of one writes the other too. ``date``/``year`` differ in kind
#: (a date's year is the year) and are handled apart.
SYNONYMS: dict[str, str] = {
    "journaltitle": "journal",
    "location": "address",
    "institution": "school",
}

#: How people name fields in a form (anything else is shown by its BibTeX name).
LABELS: dict[str, str] = {
    "author": "Authors",
    "editor": "Editors",
    "title": "Title",
    "year": "Year",
    "date": "Date",
    "month": "Month",
    "journal": "Journal",
    "journaltitle": "Journal",
    "booktitle": "Book title",
    "volume": "Volume",
    "number": "Number",
    "pages": "Pages",
    "chapter": "Chapter",
    "publisher": "Publisher",
    "address": "Address",
    "location": "Location",
    "school": "School",
    "institution": "Institution",
    "organization": "Organization",
    "howpublished": "How published",
    "type": "Kind",
    "series": "Series",
    "edition": "Edition",
    "isbn": "ISBN",
    "issn": "ISSN",
    "doi": "DOI",
    "url": "URL",
    "urldate": "Visited",
    "eprint": "eprint",
    "eprinttype": "eprint type",
    "eprintclass": "eprint class",
    "keywords": "Keywords",
    "note": "Note",
    "abstract": "Abstract",
}

#: Types only BibLaTeX knows: a slot they do not fill yet gets its BibLaTeX name.
BIBLATEX_TYPES = frozenset(
    {"online", "thesis", "report", "software", "dataset", "mvbook", "collection", "reference"}
)

# A slot is written "a|b": the entry's own name among them is shown, else the first (the
# BibTeX name) for BibTeX types, the second for BibLaTeX ones. "author/editor" means one
# of the two is required, both shown.
_YEAR = "year|date"
_JOURNAL = "journal|journaltitle"
_ADDRESS = "address|location"
_SCHOOL = "school|institution"
_COMMON = ("doi", "url", "keywords", "note")

#: entry type -> (required slots, optional slots), as biblatex's data model and JabRef
#: have them (misc, the catch-all of preprints, also offers where it may be published).
TYPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "article": (
        ("author", "title", _JOURNAL, _YEAR),
        ("volume", "number", "pages", "month", *_COMMON),
    ),
    "book": (
        ("author/editor", "title", "publisher", _YEAR),
        ("volume", "series", _ADDRESS, "edition", "isbn", *_COMMON),
    ),
    "booklet": (("title",), ("author", "howpublished", _ADDRESS, _YEAR, *_COMMON)),
    "inbook": (
        ("author/editor", "title", "chapter", "publisher", _YEAR),
        ("booktitle", "pages", "volume", "series", _ADDRESS, "edition", *_COMMON),
    ),
    "incollection": (
        ("author", "title", "booktitle", "publisher", _YEAR),
        ("editor", "pages", "volume", "series", _ADDRESS, *_COMMON),
    ),
    "inproceedings": (
        ("author", "title", "booktitle", _YEAR),
        ("editor", "pages", "publisher", "organization", _ADDRESS, "series", *_COMMON),
    ),
    "manual": (("title",), ("author", "organization", _ADDRESS, "edition", _YEAR, *_COMMON)),
    "mastersthesis": (("author", "title", _SCHOOL, _YEAR), ("type", _ADDRESS, *_COMMON)),
    "phdthesis": (("author", "title", _SCHOOL, _YEAR), ("type", _ADDRESS, *_COMMON)),
    "thesis": (("author", "title", "type", _SCHOOL, _YEAR), (_ADDRESS, *_COMMON)),
    "misc": (
        ("author", "title", _YEAR),
        ("howpublished", "publisher", "volume", "number", "pages", "eprint", *_COMMON),
    ),
    "online": (("author/editor", "title", _YEAR, "url"), ("urldate", "doi", "keywords", "note")),
    "proceedings": (
        ("title", _YEAR),
        ("editor", "publisher", "organization", _ADDRESS, "series", "volume", *_COMMON),
    ),
    "techreport": (("author", "title", "institution", _YEAR), ("type", "number", *_COMMON)),
    "report": (("author", "title", "type", "institution", _YEAR), ("number", *_COMMON)),
    "unpublished": (("author", "title", "note"), (_YEAR, "doi", "url", "keywords")),
}
_OTHER_TYPE = (("author", "title", _YEAR), ("publisher", "pages", *_COMMON))

#: Fields a form edits apart from the rows (the abstract has its own multi-line editor).
NOT_ROWS = frozenset({"abstract"})

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_\-:.+]*$")
_DATE_YEAR = re.compile(r"^(\d{4})(?=$|[-/T])")
_YEAR_ONLY = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class FormRow:
    """One row of an entry's field form: the field it edits and how it is labelled."""

    name: str
    label: str
    required: bool = False
    #: What the row is about, for a tooltip (the field's names in both dialects).
    hint: str = ""


def valid_field_name(name: str) -> bool:
    """A name BibTeX and biber read as a field name (lower case, as the library stores)."""
    return bool(_FIELD_NAME.match(name))


def label(name: str) -> str:
    """How a field is labelled: its common name, else its own with a capital, as the
    other labels are written."""
    return LABELS.get(name) or name[:1].upper() + name[1:]


def _other_name(name: str) -> str | None:
    for biblatex, bibtex in SYNONYMS.items():
        if name == biblatex:
            return bibtex
        if name == bibtex:
            return biblatex
    return None


def _hint(name: str) -> str:
    other = _other_name(name)
    if name == "date":
        return "date (BibLaTeX; BibTeX reads its year as year)"
    if name in SYNONYMS and other:
        return f"{name} (BibLaTeX; BibTeX calls it {other})"
    if other:
        return f"{name} (BibLaTeX calls it {other})"
    return name


def _slot_names(slot: str, present: set[str], biblatex_type: bool) -> list[str]:
    """The field names a slot shows for an entry with fields ``present``."""
    names = slot.split("|")
    had = [n for n in names if n in present]
    if not had:
        return [names[1] if biblatex_type and len(names) > 1 else names[0]]
    if len(had) > 1 and "date" not in had:
        return [next(n for n in had if n in SYNONYMS)]  # both say the same: one row
    return had  # a date and a year: both (a date says more than its year)


def form_rows(entry_type: str, present: Sequence[str]) -> list[FormRow]:
    """The rows of a field form: the type's required fields, its optional ones, then every
    other field the entry has (in its order). ``present`` are the entry's field names."""
    have = [n.lower() for n in present]
    have_set = set(have)
    required, optional = TYPE_FIELDS.get(entry_type.lower(), _OTHER_TYPE)
    biblatex_type = entry_type.lower() in BIBLATEX_TYPES
    rows: list[FormRow] = []
    shown: set[str] = set()
    for slots, is_required in ((required, True), (optional, False)):
        for slot in slots:
            for part in slot.split("/"):
                for name in _slot_names(part, have_set, biblatex_type):
                    if name not in shown:
                        shown.add(name)
                        rows.append(FormRow(name, label(name), is_required, _hint(name)))
    for name in have:
        if name in shown or name in NOT_ROWS or _other_name(name) in shown:
            continue
        shown.add(name)
        rows.append(FormRow(name, label(name), False, _hint(name)))
    return rows


def _with_year(date: str, year: str) -> str | None:
    """``date`` (ISO 8601, maybe a range) with its year made ``year``; None if it has none."""
    m = _DATE_YEAR.match(date)
    if not m:
        return None
    old = m.group(1)
    parts = date.split("/")
    return "/".join(year + p[4:] if p.startswith(old) else p for p in parts)


def paired_changes(
    fields: Mapping[str, str], changes: Mapping[str, str | None]
) -> dict[str, str | None]:
    """All the field changes an edit makes: ``changes`` and what keeps pairs agreeing.

    ``fields`` are the entry's fields as text (lower-case name -> value), ``changes`` the
    fields asked for (None or blank removes one). When the entry has both names of a
    synonym pair and only one is asked for, the other takes the same value (or goes). A
    new year is written into the entry's date (month and day kept: 2024-03-05 with year
    2025 is 2025-03-05); a new date gives an existing year its year. Names are lowered.
    """
    asked = {k.lower(): v for k, v in changes.items()}
    out = dict(asked)
    fields = {k.lower(): v for k, v in fields.items()}
    have = set(fields)
    for biblatex, bibtex in SYNONYMS.items():
        if biblatex in have and bibtex in have:
            if biblatex in asked and bibtex not in asked:
                out[bibtex] = asked[biblatex]
            elif bibtex in asked and biblatex not in asked:
                out[biblatex] = asked[bibtex]
    year = (asked.get("year") or "").strip()
    if "year" in asked and "date" not in asked and "date" in have and _YEAR_ONLY.match(year):
        date = _with_year(fields["date"].strip(), year)
        if date is not None and date != fields["date"].strip():
            out["date"] = date
    date = (asked.get("date") or "").strip()
    if "date" in asked and "year" not in asked and "year" in have:
        m = _DATE_YEAR.match(date)
        if m and m.group(1) != fields["year"].strip():
            out["year"] = m.group(1)
    return out
