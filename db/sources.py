"""The metadata services a paper is looked up in, one small client each.

- doi.org content negotiation: CSL-JSON, then BibTeX (Crossref, DataCite, mEDRA, JaLC and
  the other agencies all answer it), then Crossref's REST API when doi.org fails;
- arXiv's API (Atom): ids in batches, and searches by title and author;
- Crossref's REST API: a work by DOI, and searches by title and author;
- Open Library: books by ISBN.

Each answer becomes a :class:`Found`: a BibTeX entry in plain text (:class:`csljson.Entry`),
the source it came from and, for a search, how well it matches. Every failure is a
:class:`~db.http.SourceError` naming the source. Base URLs come from :class:`Endpoints`
(environment variables, for tests and mirrors).
"""

from __future__ import annotations

import difflib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from . import bibtex, bibvalue, csljson
from .http import Gate, Http, Response, SourceError, json_of
from .identifiers import Identifier, arxiv_base
from .latex import ascii_fold, escape_user_text, latex_to_unicode

DOI_ORG = "doi.org"
CROSSREF = "Crossref"
ARXIV = "arXiv"
OPEN_LIBRARY = "Open Library"

CSL_JSON = "application/vnd.citationstyles.csl+json"
BIBTEX = "application/x-bibtex"

#: At most this many arXiv ids go into one request (its API takes a comma list).
ARXIV_BATCH = 50


@dataclass(frozen=True)
class Endpoints:
    """Where each service is; ``CITEDESK_*_URL`` variables point them at mirrors or tests."""

    doi: str = "https://doi.org"
    crossref: str = "https://api.crossref.org"
    arxiv: str = "https://export.arxiv.org/api/query"
    openlibrary: str = "https://openlibrary.org"
    #: Seconds between two arXiv requests: its terms ask for 3.
    arxiv_interval: float = 3.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Endpoints:
        env = os.environ if environ is None else environ
        base = cls()

        def url(name: str, default: str) -> str:
            return (env.get(name) or default).rstrip("/")

        interval = base.arxiv_interval
        raw = env.get("CITEDESK_ARXIV_INTERVAL", "").strip()
        if raw:
            try:
                interval = max(0.0, float(raw))
            except ValueError:
                pass
        return cls(
            doi=url("CITEDESK_DOI_URL", base.doi),
            crossref=url("CITEDESK_CROSSREF_URL", base.crossref),
            arxiv=url("CITEDESK_ARXIV_URL", base.arxiv),
            openlibrary=url("CITEDESK_OPENLIBRARY_URL", base.openlibrary),
            arxiv_interval=interval,
        )

    def gates(self) -> dict[str, Gate]:
        """Each source's politeness: arXiv one request at a time, ``arxiv_interval`` apart;
        doi.org and Crossref's polite pool three at once; Open Library two."""
        return {
            ARXIV: Gate(1, self.arxiv_interval),
            DOI_ORG: Gate(3),
            CROSSREF: Gate(3),
            OPEN_LIBRARY: Gate(2),
        }


@dataclass
class Found:
    """A paper as a source describes it."""

    source: str
    entry: csljson.Entry
    identifier: Identifier | None = None
    #: How well a search result matches what was searched for, 0..1 (1 for an id lookup).
    score: float = 1.0
    #: An arXiv preprint's published version (its DOI's record, keeping the arXiv id).
    published: Found | None = None

    def get(self, name: str) -> str:
        return dict(self.entry.fields).get(name, "")

    @property
    def title(self) -> str:
        return self.get("title")

    def raw_fields(self) -> list[tuple[str, str]]:
        """The fields as BibTeX values (braced, specials escaped): what will be stored."""
        e = self.entry
        return [(n, csljson.raw_value(n, v, n in e.raw)) for n, v in e.fields]

    def bibtex(self, key: str) -> str:
        from .bibwrite import format_entry

        return format_entry(self.entry.entry_type, key, self.raw_fields())


# -- DOI ---------------------------------------------------------------------------------------


def lookup_doi(http: Http, ep: Endpoints, doi: str, *, fresh: bool = False) -> Found:
    """A DOI's record: doi.org as CSL-JSON, else as BibTeX, else Crossref's REST API.

    A DOI doi.org does not know (404) is asked of Crossref only (its converter can fail
    where its record is fine); one that is not a DOI at all (400) nowhere else.
    """
    age = 0.0 if fresh else 30 * 86400.0
    url = f"{ep.doi}/{quote(doi, safe='/:;()<>[]')}"
    problems: list[str] = []
    unknown = False
    try:
        r = http.get(DOI_ORG, url, accept=CSL_JSON, max_age=age, ok=(200, 404))
        if r.status == 404:
            # Unregistered, or the agency's converter failed: Crossref's own record tells.
            unknown = True
            raise SourceError(DOI_ORG, "not found (404)", 404)
        item = json_of(DOI_ORG, r)
        if not isinstance(item, dict) or not item.get("title"):
            raise SourceError(DOI_ORG, "the answer is not a CSL-JSON record")
        return _from_csl(DOI_ORG, item, doi)
    except SourceError as exc:
        if exc.status == 400:
            raise SourceError(DOI_ORG, f"{doi} is not a DOI (400)", 400) from None
        problems.append(str(exc))
    if not unknown:
        try:
            r = http.get(DOI_ORG, url, accept=BIBTEX, max_age=age)
            return _from_bibtex(DOI_ORG, r, doi)
        except SourceError as exc:
            problems.append(str(exc))
    try:
        return crossref_work(http, ep, doi, fresh=fresh)
    except SourceError as exc:
        if unknown and exc.status == 404:
            raise SourceError(
                DOI_ORG, f"DOI {doi} is not registered (doi.org and Crossref: 404)", 404
            ) from None
        problems.append(str(exc))
    raise SourceError(DOI_ORG, "; ".join(_without_source(p) for p in problems))


def _without_source(problem: str) -> str:
    return problem if not problem.startswith(f"{DOI_ORG}: ") else problem[len(DOI_ORG) + 2 :]


def _from_csl(source: str, item: Mapping[str, Any], doi: str | None = None) -> Found:
    item = dict(item)
    if not isinstance(item.get("DOI"), str):
        item.pop("DOI", None)  # the DOI asked for stands
    item.pop("id", None)
    item.pop("citation-key", None)  # the library makes its own key
    item.pop("reference", None)
    entry = csljson.entry_from_item(item, 1)
    entry.key = ""
    _tidy(entry, doi)
    return Found(source, entry, Identifier("doi", doi) if doi else None)


def _tidy(entry: csljson.Entry, doi: str | None) -> None:
    """What services add that a bibliography does not want: ``dx.doi.org`` URLs that only
    repeat the DOI, empty values; and the DOI as asked when the record lacks it."""
    out = []
    have = dict(entry.fields)
    the_doi = have.get("doi") or doi or ""
    for name, value in entry.fields:
        value = value.strip()
        if not value:
            continue
        if name == "url" and the_doi and re.search(r"doi\.org/", value, re.I):
            continue  # the DOI link is made from the doi field
        if name == "doi":
            value = re.sub(r"^https?://(dx\.)?doi\.org/", "", value, flags=re.I)
        out.append((name, value))
    if doi and "doi" not in dict(out):
        out.append(("doi", doi))
    entry.fields = out


def _from_bibtex(source: str, r: Response, doi: str) -> Found:
    """doi.org's BibTeX answer: its values are BibTeX already, kept as written."""
    parsed = bibtex.parse_text(r.text, source)
    if not parsed.entries:
        raise SourceError(source, "the answer holds no BibTeX entry")
    e = parsed.entries[0]
    fields = []
    for name, value in e.fields:
        name = name.lower()
        if name == "month" and value.isalpha():
            fields.append((name, value.lower()))  # a month macro, as it stands
        else:
            fields.append((name, bibvalue.evaluate(value)))
    entry = csljson.Entry(e.entry_type.lower(), "", fields, 1, {n for n, _ in fields})
    _tidy(entry, doi)
    return Found(source, entry, Identifier("doi", doi))


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# -- Crossref ----------------------------------------------------------------------------------

#: Crossref's REST types -> CSL types (its /works answers are CSL-like, with its own types).
_CSL_OF_CROSSREF = {
    "journal-article": "article-journal",
    "proceedings-article": "paper-conference",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "reference-entry": "entry-encyclopedia",
    "posted-content": "article",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "proceedings": "book",
    "dissertation": "thesis",
    "report": "report",
    "report-series": "report",
    "standard": "standard",
    "dataset": "dataset",
    "component": "document",
    "peer-review": "review",
    "other": "document",
}


def _crossref_item(message: Mapping[str, Any]) -> dict[str, Any]:
    item = dict(message)
    item["type"] = _CSL_OF_CROSSREF.get(str(item.get("type", "")), "document")
    if "issued" not in item or not _has_date(item.get("issued")):
        for name in ("published-print", "published-online", "published", "created"):
            if _has_date(item.get(name)):
                item["issued"] = item[name]
                break
    return item


def _has_date(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    parts = value.get("date-parts")
    if not isinstance(parts, list) or not parts or not isinstance(parts[0], list):
        return False
    return bool(parts[0] and isinstance(parts[0][0], int | str) and parts[0][0])


def crossref_work(http: Http, ep: Endpoints, doi: str, *, fresh: bool = False) -> Found:
    """A DOI's record from Crossref's REST API (``/works/{doi}``)."""
    url = f"{ep.crossref}/works/{quote(doi, safe='/:;()<>[]')}"
    r = http.get(
        CROSSREF,
        url,
        accept="application/json",
        max_age=0 if fresh else 30 * 86400.0,
        ok=(200, 404),
    )
    if r.status == 404:
        raise SourceError(CROSSREF, f"DOI {doi} is not in Crossref (404)", 404)
    data = json_of(CROSSREF, r)
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict) or not message.get("title"):
        raise SourceError(CROSSREF, "the answer is not a Crossref work")
    return _from_csl(CROSSREF, _crossref_item(message), doi)


def crossref_search(
    http: Http, ep: Endpoints, title: str, author: str = "", rows: int = 5
) -> list[Found]:
    """Crossref's best matches for a title (and first author), best first."""
    params = {"query.bibliographic": title, "rows": str(rows)}
    if author:
        params["query.author"] = author
    r = http.get(CROSSREF, f"{ep.crossref}/works", params=params, accept="application/json")
    data = json_of(CROSSREF, r)
    message = data.get("message") if isinstance(data, dict) else None
    items = message.get("items") if isinstance(message, dict) else None
    if not isinstance(items, list):
        raise SourceError(CROSSREF, "the answer is not a list of works")
    out = []
    for item in items:
        if isinstance(item, dict) and item.get("title"):
            doi = str(item.get("DOI", "")) or None
            out.append(_from_csl(CROSSREF, _crossref_item(item), doi))
    return out


# -- arXiv -------------------------------------------------------------------------------------

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def lookup_arxiv(
    http: Http, ep: Endpoints, ids: Sequence[str], *, fresh: bool = False
) -> dict[str, Found | SourceError]:
    """The records of arXiv ids, asked in batches; each id gets a Found or its error."""
    out: dict[str, Found | SourceError] = {}
    for start in range(0, len(ids), ARXIV_BATCH):
        batch = list(dict.fromkeys(ids[start : start + ARXIV_BATCH]))
        params = {"id_list": ",".join(batch), "start": "0", "max_results": str(len(batch))}
        try:
            r = http.get(
                ARXIV,
                ep.arxiv,
                params=params,
                accept="application/atom+xml",
                max_age=0 if fresh else 30 * 86400.0,
                ok=(200, 400),
            )
            entries = _atom_entries(r)
        except SourceError as exc:
            for i in batch:
                out[i] = exc
            continue
        by_base: dict[str, Found] = {}
        for found in entries:
            by_base[arxiv_base(found.get("eprint")).lower()] = found
        for i in batch:
            hit = by_base.get(arxiv_base(i).lower())
            if hit is None:
                out[i] = SourceError(ARXIV, f"no paper has the id {i}")
            else:
                out[i] = _as_asked(hit, i)
    return out


def _as_asked(found: Found, asked: str) -> Found:
    """A record with the id as the person gave it: a version only when they named one."""
    fields = [
        (n, asked if n == "eprint" else f"https://arxiv.org/abs/{asked}" if n == "url" else v)
        for n, v in found.entry.fields
    ]
    entry = replace(found.entry, fields=fields, raw=set(found.entry.raw))
    return replace(found, entry=entry, identifier=Identifier("arxiv", asked))


def arxiv_search(
    http: Http, ep: Endpoints, title: str, author: str = "", rows: int = 5
) -> list[Found]:
    """arXiv's matches for a title (and first author's family name)."""
    words = re.findall(r"\w+", ascii_fold(title))
    query = "ti:" + ('"' + " ".join(words) + '"' if len(words) > 1 else "".join(words))
    if author:
        family = re.findall(r"\w+", ascii_fold(author))
        if family:
            query += f" AND au:{family[-1]}"
    r = http.get(
        ARXIV,
        ep.arxiv,
        params={"search_query": query, "start": "0", "max_results": str(rows)},
        accept="application/atom+xml",
    )
    return _atom_entries(r)


def _atom_entries(r: Response) -> list[Found]:
    try:
        # The text, not the bytes: a feed re-encoded in Latin-1 still says encoding="UTF-8".
        root = ET.fromstring(r.text)
    except ET.ParseError as exc:
        raise SourceError(ARXIV, f"the answer is not valid XML ({exc})") from None
    if root.tag != f"{_ATOM}feed":
        raise SourceError(ARXIV, "the answer is not an Atom feed")
    out = []
    for e in root.findall(f"{_ATOM}entry"):
        entry_id = _text(e, f"{_ATOM}id")
        if "/api/errors" in entry_id:
            raise SourceError(ARXIV, _text(e, f"{_ATOM}summary") or "the request was refused")
        try:
            out.append(_arxiv_found(e, entry_id))
        except SourceError:
            continue  # one entry we cannot read leaves the others of the batch
    if r.status != 200:
        raise SourceError(ARXIV, f"unexpected answer {r.status}", r.status)
    return out


def _text(e: ET.Element, tag: str) -> str:
    node = e.find(tag)
    return " ".join((node.text or "").split()) if node is not None else ""


def _arxiv_found(e: ET.Element, entry_id: str) -> Found:
    m = re.search(r"arxiv\.org/abs/(.+)$", entry_id)
    if not m:
        raise SourceError(ARXIV, f"an entry without an arXiv id ({entry_id[:80]})")
    versioned = m.group(1)
    base = arxiv_base(versioned)
    names = [_text(a, f"{_ATOM}name") for a in e.findall(f"{_ATOM}author")]
    published = _text(e, f"{_ATOM}published") or _text(e, f"{_ATOM}updated")
    primary = e.find(f"{_ARXIV}primary_category")
    category = primary.get("term", "") if primary is not None else ""
    fields: list[tuple[str, str]] = [
        ("author", " and ".join(escape_user_text(n) for n in names if n)),
        ("title", arxiv_latex(_text(e, f"{_ATOM}title"))),
    ]
    raw = {"author", "title"}
    d = re.match(r"(\d{4})-(\d{2})-(\d{2})", published)
    if d:
        fields.append(("year", d.group(1)))
        month = int(d.group(2))
        if 1 <= month <= 12:
            fields.append(("month", _MONTHS[month - 1]))
            raw.add("month")
        fields.append(("date", f"{d.group(1)}-{d.group(2)}-{d.group(3)}"))
    fields += [
        ("eprint", base),
        ("eprinttype", "arxiv"),
    ]
    if category:
        fields += [("eprintclass", category), ("primaryclass", category)]
    fields.append(("url", f"https://arxiv.org/abs/{base}"))
    doi = _text(e, f"{_ARXIV}doi")
    if doi:
        fields.append(("doi", doi))
    journal_ref = _text(e, f"{_ARXIV}journal_ref")
    if journal_ref:
        fields.append(("note", journal_ref))
    abstract = _text(e, f"{_ATOM}summary")
    if abstract:
        fields.append(("abstract", arxiv_latex(abstract)))
        raw.add("abstract")
    entry = csljson.Entry("misc", "", fields, 1, raw)
    return Found(ARXIV, entry, Identifier("arxiv", base))


_MATH = re.compile(r"(\$\$.+?\$\$|(?<!\\)\$.+?(?<!\\)\$)", re.DOTALL)


def arxiv_latex(text: str) -> str:
    """An arXiv title or abstract as a BibTeX value's text. Authors write them in LaTeX
    (``$\\alpha$-stable``, ``\\emph{...}``), so commands and math stay as written; only
    what LaTeX would choke on outside math (``&``, ``%``, ``#``, ``_``) is escaped. Text
    whose braces do not balance is taken as plain text instead."""
    parts = _MATH.split(text)
    out = []
    for i, part in enumerate(parts):
        out.append(part if i % 2 else re.sub(r"(?<!\\)([&%#_])", r"\\\1", part))
    value = "".join(out)
    return value if bibvalue.is_well_formed("{" + value + "}") else escape_user_text(text)


def published_version(preprint: Found, record: Found) -> Found:
    """The published record of a preprint, keeping the arXiv id (``eprint``,
    ``eprinttype = arxiv``, its class) and the preprint's abstract when the record has none."""
    fields = list(record.entry.fields)
    raw = set(record.entry.raw)
    have = {n for n, _ in fields}
    for name in ("eprint", "eprinttype", "eprintclass", "primaryclass", "abstract"):
        value = preprint.get(name)
        if value and name not in have:
            fields.append((name, value))
            if name in preprint.entry.raw:
                raw.add(name)
    entry = csljson.Entry(record.entry.entry_type, "", fields, 1, raw)
    return Found(record.source, entry, preprint.identifier)


# -- Open Library --------------------------------------------------------------------------------


def lookup_isbn(http: Http, ep: Endpoints, isbn: str, *, fresh: bool = False) -> Found:
    """A book's record from Open Library (``/api/books``, ``jscmd=data``)."""
    key = f"ISBN:{isbn}"
    r = http.get(
        OPEN_LIBRARY,
        f"{ep.openlibrary}/api/books",
        params={"bibkeys": key, "format": "json", "jscmd": "data"},
        accept="application/json",
        max_age=0 if fresh else 30 * 86400.0,
    )
    data = json_of(OPEN_LIBRARY, r)
    if not isinstance(data, dict):
        raise SourceError(OPEN_LIBRARY, "the answer is not a JSON object")
    book = data.get(key)
    if not book:
        raise SourceError(OPEN_LIBRARY, f"no book has the ISBN {isbn}", 404)
    if not isinstance(book, dict):
        raise SourceError(OPEN_LIBRARY, "the answer is not a book record")
    names = [_str(a.get("name")) for a in _list(book.get("authors")) if isinstance(a, dict)]
    fields: list[tuple[str, str]] = [
        ("author", " and ".join(escape_user_text(str(n)) for n in names if n)),
    ]
    title = _str(book.get("title"))
    subtitle = _str(book.get("subtitle"))
    if not title:
        raise SourceError(OPEN_LIBRARY, f"the record of ISBN {isbn} has no title")
    fields.append(("title", f"{title}: {subtitle}" if subtitle else title))
    publishers = [_str(p.get("name")) for p in _list(book.get("publishers")) if isinstance(p, dict)]
    if publishers:
        fields.append(("publisher", str(publishers[0])))
    places = [_str(p.get("name")) for p in _list(book.get("publish_places")) if isinstance(p, dict)]
    if places:
        fields.append(("address", str(places[0])))
    year = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", _str(book.get("publish_date")))
    if year:
        fields.append(("year", year.group(1)))
    fields.append(("isbn", isbn))
    pages = book.get("number_of_pages")
    if isinstance(pages, int) and pages > 0:
        fields.append(("pagetotal", str(pages)))
    url = book.get("url")
    if isinstance(url, str) and url:
        fields.append(("url", url))
    entry = csljson.Entry("book", "", [(n, v) for n, v in fields if v], 1, {"author"})
    return Found(OPEN_LIBRARY, entry, Identifier("isbn", isbn))


def _str(value: object) -> str:
    """A JSON value as text: a string or a number; anything else (null, a list) is ''."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value).strip() if isinstance(value, str | int | float) else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


# -- how well a search result matches -------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", ascii_fold(latex_to_unicode(text)).lower()))


def match_score(found: Found, title: str, author: str = "", year: str = "") -> float:
    """0..1: how sure we are that ``found`` is the paper with this title, first author
    (family name) and year. Titles count most; a missing author or a year off by more
    than one lowers it."""
    a, b = _normal(title), _normal(found.title)
    if not a or not b:
        return 0.0
    score = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    if author:
        family = _normal(author).split()
        authors = _normal(found.get("author"))
        if family and family[-1] not in authors.split():
            score *= 0.75
    if year and found.get("year") and year.isdigit() and found.get("year").isdigit():
        if abs(int(year) - int(found.get("year"))) > 1:
            score *= 0.85
    return round(score, 3)


@dataclass
class Candidates:
    """What a search by title found, best first, and what went wrong on the way."""

    found: list[Found] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def best(self) -> Found | None:
        return self.found[0] if self.found else None
