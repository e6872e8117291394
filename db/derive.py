"""What the program shows and searches for an entry, decoded from its raw fields.

Kept apart from reading and writing: the library derives these values again whenever an
entry or a macro changes, from fields long since stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import bibvalue
from .latex import collapse_space, display_text, latex_to_unicode
from .names import Person, parse_names

#: The version of these rules. Raise it when what is derived changes (how titles, abstracts
#: or short author lists are shown): libraries derived by older rules are derived again
#: when opened (Library.open, options.DERIVED_WITH). 2: LaTeX math and \\hyphen shown as
#: readers expect, short author lists "Wang & E" / "Wang et al.".
DERIVE_VERSION = 2

_VENUE_FIELDS = (
    "journal",
    "journaltitle",
    "booktitle",
    "maintitle",
    "howpublished",
    "school",
    "institution",
    "publisher",
    "organization",
)
_ARXIV_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s/?#]+?)(?:v\d+)?(?:\.pdf)?$", re.I)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)
_MONTHS = {name: i + 1 for i, name in enumerate(bibvalue.MONTH_MACROS)}
_MONTH_NAMES = {v.lower(): _MONTHS[k] for k, v in bibvalue.MONTH_MACROS.items()}


@dataclass
class Derived:
    """What the program shows and searches for one entry, decoded from its raw fields."""

    title: str = ""
    authors: list[Person] = field(default_factory=list)
    editors: list[Person] = field(default_factory=list)
    year: int | None = None
    month: int | None = None
    date: str | None = None
    venue: str = ""
    volume: str | None = None
    number: str | None = None
    pages: str | None = None
    doi: str | None = None
    url: str | None = None
    arxiv: str | None = None
    abstract: str = ""
    keywords: str = ""
    category: str | None = None


def field_map(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased field name -> raw value; the first of duplicated fields wins, as in BibTeX."""
    if not isinstance(fields, (list, tuple)):
        fields = list(fields)
    out = dict(fields)
    if len(out) == len(fields):
        # The usual entry: no field twice. Its names are lower case already when lower()
        # changes none of them (it maps each character on its own, or Σ, which it always
        # changes), so one call on them all tells.
        names = "=".join(out)
        if names.lower() == names:
            return out
    out = {}
    for name, raw in fields:
        out.setdefault(name.lower(), raw)
    return out


def text_of(raw: str | None, macros: Mapping[str, str] | None, math: bool = False) -> str:
    """A field's text as shown: decoded, white space folded. ``math``: simple math as
    Unicode too (titles and abstracts, which people read; see :func:`latex.display_text`)."""
    if raw is None:
        return ""
    decode = display_text if math else latex_to_unicode
    n = len(raw)
    if n > 1 and raw[0] == "{" and raw[-1] == "}":
        # The usual value, one braced group: its text is what is inside (what evaluate
        # would find, without its second look). (A search for one character is a memchr;
        # for two it is some 20 times slower.)
        body = raw[1:-1]
        if not ("\\" in body or "{" in body or "}" in body):
            if not ("~" in body or ("-" in body and "--" in body) or (math and "$" in body)):
                return collapse_space(body)  # nothing to decode either
            return collapse_space(decode(body))
        if bibvalue.braced_end(raw) == n - 1:
            return collapse_space(decode(body))
    return collapse_space(decode(bibvalue.evaluate(raw, macros)))


def _month_number(text: str) -> int | None:
    t = text.strip().lower().rstrip(".")
    if t.isdigit() and 1 <= int(t) <= 12:
        return int(t)
    if t in _MONTHS:
        return _MONTHS[t]
    if t in _MONTH_NAMES:
        return _MONTH_NAMES[t]
    return None


_YEAR = re.compile(r"\d{4}")
_ISO_MONTH = re.compile(r"\d{4}-(\d{2})")


def derive(
    fields: Iterable[tuple[str, str]],
    macros: Mapping[str, str] | None = None,
    parent: Mapping[str, str] | None = None,
) -> Derived:
    """Decode an entry's display values. ``parent`` holds a crossref parent's raw fields."""
    f = field_map(fields)
    if parent:
        # biber's inheritance: the parent's title is the child's booktitle.
        if "title" in parent and "booktitle" not in f:
            f["booktitle"] = parent["title"]
        for name, raw in parent.items():
            if name not in f and name not in ("ids", "crossref", "key"):
                f[name] = raw
    evaluate = bibvalue.evaluate
    get = f.get
    title = text_of(get("title"), macros, math=True)
    authors = parse_names(collapse_space(evaluate(f["author"], macros))) if "author" in f else []
    editors = parse_names(collapse_space(evaluate(f["editor"], macros))) if "editor" in f else []
    date = text_of(get("date"), macros) or None
    m = _YEAR.search(text_of(get("year"), macros)) or (_YEAR.search(date) if date else None)
    year = int(m.group(0)) if m else None
    month = _month_number(text_of(f["month"], macros)) if "month" in f else None
    if month is None and date:
        dm = _ISO_MONTH.match(date)
        if dm and 1 <= int(dm.group(1)) <= 12:
            month = int(dm.group(1))
    venue = ""
    for name in _VENUE_FIELDS:
        if name in f:
            venue = text_of(f[name], macros)
            if venue:
                break
    volume = text_of(f["volume"], macros) or None if "volume" in f else None
    number = text_of(f["number"], macros) or None if "number" in f else None
    pages = text_of(f["pages"], macros) or None if "pages" in f else None
    doi = evaluate(f["doi"], macros).strip() or None if "doi" in f else None
    url = evaluate(f["url"], macros).strip() or None if "url" in f else None
    eprint_type = text_of(get("eprinttype") or get("archiveprefix"), macros).lower()
    arxiv = None
    if "eprint" in f and (eprint_type == "arxiv" or not eprint_type):
        arxiv = evaluate(f["eprint"], macros).strip() or None
    if arxiv is None and url:
        am = _ARXIV_IN_URL.search(url)
        if am:
            arxiv = am.group(1)
    if arxiv is None and doi:
        dm2 = _ARXIV_DOI.match(doi)
        if dm2:
            arxiv = dm2.group(1)
    category = text_of(get("eprintclass") or get("primaryclass"), macros) or None
    if not venue and (arxiv or eprint_type == "arxiv"):
        venue = "arXiv" + (f" {category}" if category else "")
    return Derived(
        title=title,
        authors=authors,
        editors=editors,
        year=year,
        month=month,
        date=date,
        venue=venue,
        volume=volume,
        number=number,
        pages=pages,
        doi=doi,
        url=url,
        arxiv=arxiv,
        abstract=text_of(get("abstract"), macros, math=True),
        keywords=text_of(get("keywords"), macros),
        category=category,
    )
