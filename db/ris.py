"""RIS in and out (EndNote, Zotero, Mendeley, publishers' "download citation").

Records are read with ``rispy``, one at a time so that a problem names the line of its
``TY`` tag, and go through CSL items (:mod:`db.csljson`): RIS -> CSL -> BibTeX in,
BibTeX -> CSL -> RIS out. RIS has no place for BibTeX's own fields (``crossref``,
``eprint``, a thesis's ``school`` apart from its publisher...), so what it carries is
what RIS says; CSL-JSON is the lossless one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import rispy

from . import csljson
from .bibitems import Failure, ParsedFile
from .csljson import Entry, Item

_TYPE_OF_RIS = {
    "JOUR": "article-journal",
    "EJOUR": "article-journal",
    "JFULL": "article-journal",
    "MGZN": "article-magazine",
    "NEWS": "article-newspaper",
    "BOOK": "book",
    "EBOOK": "book",
    "EDBOOK": "book",
    "CHAP": "chapter",
    "ECHAP": "chapter",
    "CONF": "paper-conference",
    "CPAPER": "paper-conference",
    "THES": "thesis",
    "RPRT": "report",
    "ELEC": "webpage",
    "BLOG": "post-weblog",
    "UNPB": "manuscript",
    "MANSCPT": "manuscript",
    "PAMP": "pamphlet",
    "PAT": "patent",
    "DATA": "dataset",
    "COMP": "software",
    "GEN": "document",
}
_RIS_OF_TYPE = {
    "article-journal": "JOUR",
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "book": "BOOK",
    "chapter": "CHAP",
    "paper-conference": "CPAPER",
    "thesis": "THES",
    "report": "RPRT",
    "webpage": "ELEC",
    "post-weblog": "BLOG",
    "manuscript": "UNPB",
    "pamphlet": "PAMP",
    "patent": "PAT",
    "dataset": "DATA",
    "software": "COMP",
}
_TY_LINE = re.compile(r"^[ \t]*TY  -", re.MULTILINE)
_ER_LINE = re.compile(r"^[ \t]*ER  -.*$", re.MULTILINE)


def looks_like(text: str) -> bool:
    """Whether a text is RIS: a ``TY  - `` line among its first lines."""
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    return bool(_TY_LINE.match(head)) or bool(_TY_LINE.search(head))


def _names(values: object) -> list[dict[str, str]]:
    """RIS names (``Family, Given, Suffix`` or a whole name) as CSL names."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        return []
    out: list[dict[str, str]] = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            continue
        parts = [p.strip() for p in v.split(",")]
        if len(parts) == 1:
            out.append({"literal": parts[0]})
            continue
        name = {"family": parts[0], "given": parts[-1] if len(parts) > 1 else ""}
        if len(parts) > 2:
            name["suffix"], name["given"] = parts[2], parts[1]
        out.append({k: x for k, x in name.items() if x})
    return out


def _date(text: str) -> dict[str, Any] | None:
    """``2020``, ``2020/05/17/``, ``2020/05//`` or ``2020-05-17`` as a CSL date."""
    m = re.match(r"\s*(\d{4})(?:[/-](\d{0,2}))?(?:[/-](\d{0,2}))?", text)
    if not m:
        return None
    parts = [int(m.group(1))]
    for g in (m.group(2), m.group(3)):
        if not g:
            break
        parts.append(int(g))
    return {"date-parts": [parts]}


def _first(rec: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = rec.get(name)
        if isinstance(value, list):
            value = value[0] if value else ""
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def item_from_ris(rec: Mapping[str, Any]) -> Item:
    """One RIS record (as rispy reads it) as a CSL item."""
    ty = _first(rec, "type_of_reference").upper()
    csl_type = _TYPE_OF_RIS.get(ty, "document")
    item: Item = {"type": csl_type}
    key = _first(rec, "id")
    if key:
        item["id"] = key
    authors = _names(rec.get("authors") or rec.get("first_authors"))
    if authors:
        item["author"] = authors
    editors = _names(
        rec.get("secondary_authors")
        if ty in ("CHAP", "ECHAP", "CONF", "CPAPER", "EDBOOK", "BOOK")
        else None
    )
    if ty == "EDBOOK" and not editors:
        editors = _names(rec.get("authors"))
        item.pop("author", None)
    if editors:
        item["editor"] = editors
    title = _first(rec, "title", "primary_title")
    if title:
        item["title"] = title
    container = _first(
        rec,
        "secondary_title",
        "journal_name",
        "alternate_title3",
        "alternate_title1",
        "alternate_title2",
    )
    if container and csl_type not in ("book",):
        item["container-title"] = container
    series = _first(rec, "tertiary_title")
    if csl_type == "book" and container and not series:
        series = container
    if series:
        item["collection-title"] = series
    date = _date(_first(rec, "date")) or _date(_first(rec, "year", "publication_year"))
    if date:
        item["issued"] = date
    accessed = _date(_first(rec, "access_date"))
    if accessed:
        item["accessed"] = accessed
    start, end = _first(rec, "start_page"), _first(rec, "end_page")
    if start:
        item["page"] = f"{start}-{end}" if end and end != start else start
    for key_, csl in (
        ("volume", "volume"),
        (
            "number",
            "issue"
            if csl_type.startswith("article") or csl_type in ("paper-conference", "chapter")
            else "number",
        ),
        ("publisher", "publisher"),
        ("place_published", "publisher-place"),
        ("edition", "edition"),
        ("doi", "DOI"),
        ("abstract", "abstract"),
        ("language", "language"),
        ("type_of_work", "genre"),
        ("short_title", "title-short"),
        ("section", "chapter-number"),
    ):
        value = _first(rec, key_)
        if value:
            item[csl] = value
    if "abstract" not in item:
        abstract = _first(rec, "notes_abstract")
        if abstract:
            item["abstract"] = abstract
    if isinstance(item.get("DOI"), str):
        item["DOI"] = re.sub(
            r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", item["DOI"], flags=re.I
        )
    urls = rec.get("urls") or []
    if isinstance(urls, list) and urls:
        item["URL"] = str(urls[0]).strip()
    sn = _first(rec, "issn")
    if sn:
        digits = re.sub(r"[^0-9Xx]", "", sn.split()[0] if sn.split() else sn)
        is_issn = len(digits) == 8 and csl_type.startswith("article")
        item[
            "ISSN"
            if is_issn or (len(digits) == 8 and csl_type not in ("book", "chapter"))
            else "ISBN"
        ] = sn
    keywords = rec.get("keywords") or []
    if isinstance(keywords, list) and keywords:
        item["keyword"] = ", ".join(str(k).strip() for k in keywords if str(k).strip())
    notes = [str(n).strip() for n in rec.get("notes") or [] if str(n).strip()]
    if notes:
        item["note"] = "\n\n".join(notes)
    return item


def _records(text: str) -> list[tuple[str, int]]:
    """The text of each record (``TY`` to ``ER``) and the line its ``TY`` is on."""
    out: list[tuple[str, int]] = []
    starts = [m.start() for m in _TY_LINE.finditer(text)]
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(text)
        out.append((text[start:stop], text.count("\n", 0, start) + 1))
    return out


def read_text(text: str, name: str) -> ParsedFile:
    """A RIS text as a parsed BibTeX file: entries and failures with the lines of their
    records' ``TY`` tags (see :func:`db.csljson.parsed_file`)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    failures: list[Failure] = []
    entries: list[Entry] = []
    records = _records(text)
    if not records:
        failures.append(
            Failure(name, 0, "holds no RIS record (no 'TY  - ' line)", code="no-entries")
        )
    for chunk, line in records:
        where = f"the record starting on line {line}"
        if not _ER_LINE.search(chunk):
            failures.append(Failure(name, line, f"{where} has no 'ER  - ' line: it is cut off"))
            continue
        bad = _bad_line(chunk)
        if bad is not None:
            failures.append(
                Failure(name, line + bad[0], f"not a RIS line ('XY  - value'): {bad[1][:60]!r}")
            )
            continue
        try:
            found = rispy.loads(chunk)
        except Exception as exc:  # rispy raises IOError/ValueError for what it cannot read
            failures.append(Failure(name, line, f"{where} cannot be read as RIS: {exc}"))
            continue
        for rec in found:
            entry = csljson.entry_from_item(item_from_ris(rec), line)
            if not entry.fields:
                failures.append(Failure(name, line, f"{where} has no field Citedesk knows"))
                continue
            entries.append(entry)
    return csljson.parsed_file(name, entries, failures)


_TAG_LINE = re.compile(r"^[A-Z][A-Z0-9]  -( |$)")


def _bad_line(chunk: str) -> tuple[int, str] | None:
    """The first line of a record that is neither a tag line nor a continuation, if any.

    A continuation (a long abstract wrapped) is any line not starting with a tag; only a
    tag-like line that is garbled (``AU - x``, ``TI-x``) is an error.
    """
    for n, line in enumerate(chunk.split("\n")):
        if re.match(r"^[A-Z][A-Z0-9]\s*-", line) and not _TAG_LINE.match(line):
            return n, line
    return None


# -- out ------------------------------------------------------------------------------------------


def _ris_name(name: Mapping[str, str]) -> str:
    if "literal" in name:
        return name["literal"]
    family = " ".join(
        x for x in (name.get("non-dropping-particle", ""), name.get("family", "")) if x
    )
    parts = [family, name.get("given", "")]
    if name.get("suffix"):
        parts.append(name["suffix"])
    return ", ".join(parts)


def _ris_date(value: object) -> str:
    if not isinstance(value, dict):
        return ""
    parts = (value.get("date-parts") or [[]])[0]
    if not parts:
        return ""
    padded = [f"{int(parts[0]):04d}"] + [f"{int(p):02d}" for p in parts[1:3]]
    padded += [""] * (3 - len(padded))
    return "/".join(padded) + "/"


def ris_from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A CSL item as a rispy record."""
    rec: dict[str, Any] = {"type_of_reference": _RIS_OF_TYPE.get(str(item.get("type")), "GEN")}
    if item.get("id"):
        rec["id"] = str(item["id"])
    if item.get("author"):
        rec["authors"] = [_ris_name(n) for n in item["author"]]
    if item.get("editor"):
        rec["secondary_authors"] = [_ris_name(n) for n in item["editor"]]
    for csl, key in (
        ("title", "title"),
        ("container-title", "secondary_title"),
        ("collection-title", "tertiary_title"),
        ("volume", "volume"),
        ("issue", "number"),
        ("number", "number"),
        ("publisher", "publisher"),
        ("publisher-place", "place_published"),
        ("edition", "edition"),
        ("DOI", "doi"),
        ("abstract", "abstract"),
        ("language", "language"),
        ("genre", "type_of_work"),
        ("title-short", "short_title"),
        ("chapter-number", "section"),
        ("ISBN", "issn"),
        ("ISSN", "issn"),
    ):
        value = item.get(csl)
        if value not in (None, "") and key not in rec:
            rec[key] = str(value)
    if item.get("type") == "book" and "collection-title" in item:
        rec.pop("tertiary_title", None)
        rec["secondary_title"] = str(item["collection-title"])
    issued = _ris_date(item.get("issued"))
    if issued:
        rec["year"] = issued[:4]
        rec["date"] = issued
    accessed = _ris_date(item.get("accessed"))
    if accessed:
        rec["access_date"] = accessed
    page = str(item.get("page") or "")
    if page:
        start, _, end = page.partition("-")
        rec["start_page"] = start.strip()
        if end.strip():
            rec["end_page"] = end.strip()
    if item.get("URL"):
        rec["urls"] = [str(item["URL"])]
    if item.get("keyword"):
        rec["keywords"] = [k.strip() for k in str(item["keyword"]).split(",") if k.strip()]
    if item.get("note"):
        rec["notes"] = [str(item["note"])]
    return rec


class _Writer(rispy.RisWriter):  # type: ignore[misc]  # rispy has no type hints
    """rispy's writer without its "1." line before each record, which EndNote reads as junk."""

    def set_header(self, count: int) -> str:
        return ""


def dumps(items: Sequence[Item]) -> str:
    """RIS text for CSL items (one record each, a blank line apart)."""
    if not items:
        return ""
    text: str = rispy.dumps([ris_from_item(i) for i in items], implementation=_Writer)
    return text
