"""CSL-JSON in and out: what Zotero, Mendeley, EndNote, pandoc and doi.org write.

A CSL item becomes a BibTeX entry (type, key, fields), and the entries of a file become
BibTeX text that the ordinary import reads (:func:`parsed_file`): the same report,
duplicates and transaction as a .bib file, with each problem named by the file and the
line of its record. Going out, a paper becomes a CSL item (:func:`item_from_entry`).

BibTeX fields that CSL has no variable for, and the exact BibTeX type, travel in the
item's ``custom`` object (CSL-JSON 1.0.2's place for "additional information"), so that a
file Citedesk wrote comes back with the same field values; other tools ignore it.
:mod:`db.ris` goes through the same items.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import bibtex, bibvalue
from .bibitems import Failure, ParsedFile
from .derive import field_map, text_of
from .latex import collapse_space, escape_user_text, latex_to_unicode
from .names import Person, parse_names

#: One CSL item, as JSON gives it.
Item = dict[str, Any]

#: The key of ``custom`` under which Citedesk keeps what CSL has no variable for.
CUSTOM = "citedesk-bibtex"

# -- types ------------------------------------------------------------------------------------

_CSL_OF_TYPE = {
    "article": "article-journal",
    "book": "book",
    "booklet": "pamphlet",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "manual": "report",
    "mastersthesis": "thesis",
    "phdthesis": "thesis",
    "thesis": "thesis",
    "misc": "document",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "proceedings": "book",
    "techreport": "report",
    "report": "report",
    "unpublished": "manuscript",
    "patent": "patent",
    "dataset": "dataset",
    "software": "software",
}

_TYPE_OF_CSL = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "review": "article",
    "review-book": "article",
    "article": "misc",  # CSL 1.0.2: a preprint or working paper
    "book": "book",
    "classic": "book",
    "chapter": "incollection",
    "entry-dictionary": "incollection",
    "entry-encyclopedia": "incollection",
    "paper-conference": "inproceedings",
    "thesis": "phdthesis",
    "report": "techreport",
    "webpage": "online",
    "post": "online",
    "post-weblog": "online",
    "manuscript": "unpublished",
    "pamphlet": "booklet",
    "patent": "patent",
    "dataset": "dataset",
    "software": "software",
    # Crossref's own types, which its API's "citeproc-json" keeps.
    "journal-article": "article",
    "proceedings-article": "inproceedings",
    "book-chapter": "incollection",
    "posted-content": "misc",
    "dissertation": "phdthesis",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
}

# -- fields -------------------------------------------------------------------------------------

#: BibTeX field -> CSL variable, the same whatever the type (the others are in _container).
_SIMPLE = {
    "title": "title",
    "shorttitle": "title-short",
    "volume": "volume",
    "edition": "edition",
    "chapter": "chapter-number",
    "address": "publisher-place",
    "location": "publisher-place",
    "doi": "DOI",
    "url": "URL",
    "isbn": "ISBN",
    "issn": "ISSN",
    "abstract": "abstract",
    "keywords": "keyword",
    "note": "note",
    "language": "language",
    "series": "collection-title",
    "type": "genre",
}
#: Fields whose text is taken verbatim (no LaTeX decoding in, no escaping out).
_VERBATIM = {"doi", "url", "isbn", "issn", "eprint", "file"}
_NAME_ROLES = ("author", "editor", "translator")
#: CSL name variable -> BibTeX field (others are not BibTeX's).
_NAMES_IN = {"author": "author", "editor": "editor", "translator": "translator"}

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_WORDS = {
    **{m: i for i, m in enumerate(_MONTHS, 1)},
    **{
        name: i
        for i, name in enumerate(
            (
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ),
            1,
        )
    },
}
#: CSL's rich-text tags, and the JATS ones Crossref leaves in abstracts.
_JATS_TITLE = re.compile(r"<jats:title[^>]*>.*?</jats:title>", re.IGNORECASE | re.DOTALL)
_BLOCK_TAG = re.compile(r"</?(?:jats:)?(?:p|sec|list|list-item)(?:\s[^<>]*)?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+\d*);", re.IGNORECASE)
_RICH_TEXT = re.compile(r"</?(?:i|b|sup|sub|sc|span|p|jats:[\w-]+)(?:\s[^<>]*)?>", re.IGNORECASE)
#: A citation key we take over as it is; anything else (a Zotero URI, "ITEM-1") gets one made.
_GOOD_KEY = re.compile(r"[A-Za-z][\w:.+-]*\Z")


def _publisher_field(entry_type: str) -> str:
    return {
        "phdthesis": "school",
        "mastersthesis": "school",
        "thesis": "institution",
        "techreport": "institution",
        "report": "institution",
        "manual": "organization",
    }.get(entry_type, "publisher")


def _container_field(entry_type: str) -> str | None:
    if entry_type == "article":
        return "journal"
    if entry_type in ("inproceedings", "incollection", "inbook", "conference"):
        return "booktitle"
    return None


def _number_field(entry_type: str) -> str:
    """The CSL variable for BibTeX's ``number``: a journal's issue, a report's number."""
    return "issue" if entry_type in ("article", "inproceedings", "incollection") else "number"


def month_number(text: str) -> int | None:
    t = text.strip().lower().rstrip(".")
    if t.isdigit() and 1 <= int(t) <= 12:
        return int(t)
    return _MONTH_WORDS.get(t) or _MONTH_WORDS.get(t[:3])


# -- in: one item to one BibTeX entry ----------------------------------------------------------


@dataclass
class Entry:
    """A record of another format as a BibTeX entry; values are plain text, not BibTeX."""

    entry_type: str
    key: str
    fields: list[tuple[str, str]]
    line: int
    #: Markup-free raw values (name lists, month macros) that must not be escaped again.
    raw: set[str] = field(default_factory=set)


def plain(value: object) -> str:
    """A CSL string (or number) as plain text: its rich-text tags dropped."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):  # Crossref: titles, ISSNs, ISBNs as lists
        return ", ".join(plain(v) for v in value if plain(v))
    if not isinstance(value, str):
        return ""
    text = value
    if "<" in text:
        # Crossref's JATS abstracts: a heading ("Abstract") to drop, paragraphs to keep
        # apart, entities (&lt;) to read.
        text = _JATS_TITLE.sub(" ", text)
        text = _BLOCK_TAG.sub(" ", text)
        text = _RICH_TEXT.sub("", text)
        text = re.sub(
            r"[ \t]*\n[ \t]*\n?|  +", lambda m: "\n\n" if "\n" in m.group() else " ", text
        )
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)  # Crossref's "&amp;" and "&lt;", in titles too
    return text.strip()


def first(value: object) -> str:
    """A CSL string, or the first of a list of them (Crossref gives titles as lists)."""
    if isinstance(value, list):
        return plain(value[0]) if value else ""
    return plain(value)


def bibtex_names(people: object) -> str:
    """CSL names as a BibTeX name list, each ``von Family, Jr, Given`` (or ``{Literal}``)."""
    if not isinstance(people, list):
        return ""
    out = []
    for p in people:
        if not isinstance(p, dict):
            continue
        literal = plain(p.get("literal", ""))
        family = plain(p.get("family", ""))
        if literal or not family:
            name = literal or plain(p.get("given", ""))
            if name == "others":
                out.append("others")  # BibTeX's "and others" (et al.)
            elif name:
                out.append("{" + escape_user_text(name) + "}")
            continue
        particle = " ".join(
            plain(p.get(k, "")) for k in ("dropping-particle", "non-dropping-particle")
        ).strip()
        last = escape_user_text(f"{particle} {family}" if particle else family)
        if " " in family and not particle:
            last = "{" + last + "}"  # "Van Halen" as one family name
        parts = [last]
        suffix = plain(p.get("suffix", ""))
        if suffix:
            parts.append(escape_user_text(suffix))
        given = plain(p.get("given", ""))
        if given or suffix:
            parts.append(escape_user_text(given))
        out.append(", ".join(parts))
    return " and ".join(out)


def _date_parts(value: object) -> list[int]:
    """The year, month and day a CSL date gives (as many as it has)."""
    if not isinstance(value, dict):
        if isinstance(value, str):
            value = {"raw": value}
        else:
            return []
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list):
        out = []
        for p in parts[0][:3]:
            try:
                out.append(int(p))
            except (TypeError, ValueError):
                break
        return out
    raw = plain(value.get("raw") or value.get("literal") or "")
    m = re.match(r"\s*(\d{4})(?:[-/](\d{1,2}))?(?:[-/](\d{1,2}))?", raw)
    if not m:
        return []
    return [int(g) for g in m.groups() if g]


def pages_in(text: str) -> str:
    """``1-10``, ``1–10`` -> ``1--10``, as BibTeX writes a range."""
    return re.sub(r"\s*(?:--|[-‐-―])\s*", "--", text)


def entry_from_item(item: Mapping[str, Any], line: int) -> Entry:
    """A CSL item as a BibTeX entry (see the module docstring for what goes where)."""
    custom = item.get("custom")
    ours: dict[str, Any] = {}
    if isinstance(custom, dict) and isinstance(custom.get(CUSTOM), dict):
        ours = custom[CUSTOM]
    csl_type = plain(item.get("type", "")).lower()
    genre = plain(item.get("genre", ""))
    entry_type = plain(ours.get("type", "")) or _TYPE_OF_CSL.get(csl_type, "misc")
    if (
        not ours.get("type")
        and csl_type == "thesis"
        and re.search(r"master|m\.?sc|ma\b", genre, re.I)
    ):
        entry_type = "mastersthesis"
    if not ours.get("type") and csl_type == "chapter" and not item.get("editor"):
        entry_type = "inbook"
    key = plain(item.get("citation-key", "")) or plain(item.get("id", ""))
    if not _GOOD_KEY.match(key):
        key = ""
    fields: list[tuple[str, str]] = []
    raw: set[str] = set()

    def put(name: str, value: str, is_raw: bool = False, empty: bool = False) -> None:
        if (value or empty) and name not in dict(fields):
            fields.append((name, value))
            if is_raw:
                raw.add(name)

    for csl, bib in _NAMES_IN.items():
        put(bib, bibtex_names(item.get(csl)), True)
    put("title", first(item.get("title")))
    container = _container_field(entry_type)
    if container:
        put(container, first(item.get("container-title")))
    elif entry_type in ("book", "proceedings") and item.get("container-title"):
        put("series", first(item.get("container-title")))
    issued = _date_parts(item.get("issued"))
    if issued:
        put("year", str(issued[0]))
        if len(issued) > 1 and 1 <= issued[1] <= 12:
            put("month", _MONTHS[issued[1] - 1], True)
        if len(issued) > 2:
            put("date", f"{issued[0]:04d}-{issued[1]:02d}-{issued[2]:02d}")
    accessed = _date_parts(item.get("accessed"))
    if accessed:
        put("urldate", "-".join(f"{p:02d}" for p in accessed))
    num = plain(item.get(_number_field(entry_type), "")) or plain(
        item.get("issue", "") or item.get("number", "")
    )
    put("number", num)
    put("pages", pages_in(plain(item.get("page", ""))))
    put(_publisher_field(entry_type), plain(item.get("publisher", "")))
    taken: set[str] = set()
    for bib, csl in _SIMPLE.items():
        if csl in taken:
            continue  # address and location: the first takes it
        taken.add(csl)
        if bib == "type" and entry_type in ("phdthesis", "mastersthesis"):
            if genre.lower() in ("phd thesis", "master's thesis", "doctoral thesis"):
                continue  # what the type says already (and what we write for it)
        value = item.get(csl)
        if bib == "keywords" and isinstance(value, list):
            text = ", ".join(plain(v) for v in value if plain(v))
        else:
            text = plain(value) if value is not None else ""
        put(bib, text)
    extra = ours.get("fields")
    if isinstance(extra, dict):
        for name, value in extra.items():
            if isinstance(name, str) and isinstance(value, str):
                put(name.lower(), value, empty=True)  # an empty field, kept as it was
    return Entry(entry_type, key, fields, line, raw)


# -- BibTeX text of converted records, read as a .bib file would be ----------------------------


def raw_value(name: str, text: str, raw: bool) -> str:
    """A plain text as a BibTeX value: braced, LaTeX's special characters escaped."""
    if raw:
        return text if name == "month" else bibvalue.brace(text)
    if name in _VERBATIM:
        return bibvalue.brace(text)
    if name == "pages":
        return bibvalue.brace(escape_user_text(text))
    return bibvalue.brace(escape_user_text(text))


def parsed_file(
    name: str, entries: Sequence[Entry], failures: Iterable[Failure] = ()
) -> ParsedFile:
    """The BibTeX entries of records as a parsed file whose lines are the records' own."""
    from .bibwrite import format_entry

    texts: list[str] = []
    starts: list[tuple[int, int]] = []  # (line in the BibTeX text, line of the record)
    line = 1
    for e in entries:
        text = format_entry(
            e.entry_type, e.key, [(n, raw_value(n, v, n in e.raw)) for n, v in e.fields]
        )
        texts.append(text)
        starts.append((line, e.line))
        line += text.count("\n") + 2
    parsed = bibtex.parse_text("\n\n".join(texts) + ("\n" if texts else ""), name)
    if not texts:  # the records' own failures say why; "empty" would be about our text
        parsed.failures = [f for f in parsed.failures if f.code not in ("empty", "no-entries")]

    def source_line(n: int) -> int:
        found = 0
        for start, record in starts:
            if start > n:
                break
            found = record
        return found

    for entry in parsed.entries:
        entry.line = source_line(entry.line)
    for problem in (*parsed.failures, *parsed.warnings):
        problem.line = source_line(problem.line)
    parsed.failures[:0] = list(failures)
    return parsed


# -- reading a CSL-JSON file -------------------------------------------------------------------


def looks_like(text: str) -> bool:
    """Whether a file's text is JSON (an array or an object), as CSL-JSON is."""
    head = text.lstrip("\ufeff \t\r\n")
    return head[:1] in ("[", "{")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def items_with_lines(text: str, name: str) -> tuple[list[tuple[Item, int, int]], list[Failure]]:
    """The items of a CSL-JSON text, each with its line and its index; or the failure.

    Malformed JSON is one failure naming the line and column, and gives no items at all:
    nothing of a file that does not parse is imported.
    """
    text = text.lstrip("\ufeff")
    decoder = json.JSONDecoder()
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as exc:
        return [], [
            Failure(name, exc.lineno, f"not valid CSL-JSON: {exc.msg} (column {exc.colno})")
        ]
    if isinstance(data, dict):
        if isinstance(data.get("items"), list):  # {"items": [...]} (CSL-JSON "data" files)
            data = data["items"]
        else:
            return [(data, _line_of(text, len(text) - len(text.lstrip())), 1)], []
    if not isinstance(data, list):
        return [], [Failure(name, 1, "not CSL-JSON: the file holds neither an array nor an object")]
    # The line of each item: read the array again, item by item, to know where each starts.
    lines: list[int] = []
    pos = text.index("[") + 1
    ws = re.compile(r"[\s,]*")
    for _ in data:
        pos = ws.match(text, pos).end()  # type: ignore[union-attr]
        lines.append(_line_of(text, pos))
        try:
            _, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            break
    lines += [lines[-1] if lines else 1] * (len(data) - len(lines))
    return [(item, lines[i], i + 1) for i, item in enumerate(data)], []


def read_text(text: str, name: str) -> ParsedFile:
    """A CSL-JSON text as a parsed BibTeX file (see :func:`parsed_file`)."""
    items, failures = items_with_lines(text, name)
    entries: list[Entry] = []
    for item, line, index in items:
        if not isinstance(item, dict):
            failures.append(
                Failure(name, line, f"record {index} is not a CSL item (a JSON object)")
            )
            continue
        entry = entry_from_item(item, line)
        if not entry.fields:
            failures.append(Failure(name, line, f"record {index} has no field Citedesk knows"))
            continue
        entries.append(entry)
    if not items and not failures:
        failures.append(Failure(name, 0, "holds no CSL items", code="no-entries"))
    return parsed_file(name, entries, failures)


# -- out: one paper to one CSL item -------------------------------------------------------------


def csl_names(raw: str, macros: Mapping[str, str] | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for p in parse_names(bibvalue.evaluate(raw, macros)):
        out.append(csl_name(p))
    return out


def csl_name(p: Person) -> dict[str, str]:
    if p.is_others:
        return {"literal": "others"}
    family = p.family.strip()
    if (
        not p.given
        and not p.prefix
        and family.startswith("{")
        and bibvalue.braced_end(family) == len(family) - 1
    ):
        return {"literal": collapse_space(latex_to_unicode(family))}
    name: dict[str, str] = {"family": collapse_space(latex_to_unicode(family))}
    if p.given:
        name["given"] = collapse_space(latex_to_unicode(p.given))
    if p.prefix:
        name["non-dropping-particle"] = collapse_space(latex_to_unicode(p.prefix))
    if p.suffix:
        name["suffix"] = collapse_space(latex_to_unicode(p.suffix))
    return name


def _number(text: str) -> int | str:
    return int(text) if text.isdigit() and len(text) < 10 else text


def item_from_entry(
    key: str,
    entry_type: str,
    fields: Sequence[tuple[str, str]],
    macros: Mapping[str, str] | None = None,
) -> Item:
    """A paper as a CSL item; what CSL cannot say is kept in ``custom`` (module docstring)."""
    entry_type = entry_type.lower()
    values = field_map(fields)
    item: Item = {"id": key, "citation-key": key, "type": _CSL_OF_TYPE.get(entry_type, "document")}
    extra: dict[str, str] = {}
    used: set[str] = set()

    def text(name: str) -> str:
        used.add(name)
        raw = values.get(name)
        if raw is None:
            return ""
        if name in _VERBATIM:
            return collapse_space(bibvalue.evaluate(raw, macros))
        return text_of(raw, macros)

    for role in _NAME_ROLES:
        if role in values:
            used.add(role)
            people = csl_names(values[role], macros)
            if people:
                item[role] = people
    container = _container_field(entry_type)
    if container and values.get(container) is not None:
        item["container-title"] = text(container)
    publisher = _publisher_field(entry_type)
    if values.get(publisher) is not None:
        item["publisher"] = text(publisher)
    year, month, date = text("year"), text("month"), text("date")
    parts: list[int] = []
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?\Z", date)
    if m:
        parts = [int(g) for g in m.groups() if g]
        if year and year != m.group(1):
            extra["year"] = year
        if month and m.group(2) and month_number(month) != int(m.group(2)):
            extra["month"] = month
        if not year and date:
            extra["date"] = date  # a date without a year field: keep it exactly
    elif year.isdigit():
        parts = [int(year)]
        month_no = month_number(month) if month else None
        if month_no:
            parts.append(month_no)
        elif month:
            extra["month"] = month
        if date:
            extra["date"] = date
    else:
        for name, value in (("year", year), ("month", month), ("date", date)):
            if value:
                extra[name] = value
    if parts:
        item["issued"] = {"date-parts": [parts]}
    if values.get("urldate") is not None:
        urldate = text("urldate")
        m = re.match(r"(\d{4})-(\d{2})-(\d{2})\Z", urldate)
        if m:
            item["accessed"] = {"date-parts": [[int(g) for g in m.groups()]]}
        else:
            extra["urldate"] = urldate
    if values.get("number") is not None:
        item[_number_field(entry_type)] = _number(text("number"))
    if values.get("pages") is not None:
        item["page"] = re.sub("[–—]", "-", text("pages"))
    for bib, csl in _SIMPLE.items():
        if values.get(bib) is None or bib in used:
            continue
        if csl in item:
            extra[bib] = text(bib)
            continue
        value = text(bib)
        if bib == "volume" or bib == "edition":
            item[csl] = _number(value)
        else:
            item[csl] = value
    if entry_type in ("phdthesis", "mastersthesis") and "genre" not in item:
        item["genre"] = "PhD thesis" if entry_type == "phdthesis" else "Master's thesis"
    for name in values:
        if name not in used and name not in _SIMPLE and name not in ("ids",):
            extra[name] = text(name)
    ours: dict[str, Any] = {"type": entry_type}
    if extra:
        ours["fields"] = extra
    item["custom"] = {CUSTOM: ours}
    return item


def dumps(items: Sequence[Item]) -> str:
    """A CSL-JSON file's text: an array, one item per line group, UTF-8 as it is."""
    return json.dumps(list(items), ensure_ascii=False, indent=2) + "\n"
