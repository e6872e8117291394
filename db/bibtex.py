"""Reading and writing BibTeX text: files in any common encoding, blocks, entry layout.

Entries are kept as bibtexparser gives them with an empty parse stack: every field value is
the raw text from the file (delimiters, ``#`` joins and macro names included), and the
entry's own text is kept for a byte-for-byte export while it is not edited.
"""

from __future__ import annotations

import codecs
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import bibtexparser
from bibtexparser import model

from . import bibvalue
from .errors import BibFileError
from .latex import collapse_space, latex_to_unicode
from .names import Person, parse_names

# Fields whose text is taken literally by LaTeX's url package and biber: never escaped.
VERBATIM_FIELDS = frozenset({"url", "doi", "eprint", "file", "pdf", "verba", "verbb", "verbc",
                             "code", "urlraw"})

# The layout of an edited entry: these first, in this order, then the rest as they came.
FIELD_ORDER = [
    "author", "editor", "title", "subtitle", "shorttitle", "booktitle", "journal",
    "journaltitle", "series", "volume", "number", "pages", "chapter", "edition", "publisher",
    "school", "institution", "organization", "address", "location", "howpublished", "year",
    "month", "date", "doi", "eprint", "eprinttype", "archiveprefix", "eprintclass",
    "primaryclass", "url", "urldate", "isbn", "issn", "crossref", "xdata", "ids", "keywords",
    "abstract", "note",
]
_ORDER_INDEX = {name: i for i, name in enumerate(FIELD_ORDER)}

_VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "maintitle", "howpublished",
                 "school", "institution", "publisher", "organization")
_ARXIV_IN_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s/?#]+?)(?:v\d+)?(?:\.pdf)?$", re.I)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)
_MONTHS = {name: i + 1 for i, name in enumerate(bibvalue.MONTH_MACROS)}
_MONTH_NAMES = {v.lower(): _MONTHS[k] for k, v in bibvalue.MONTH_MACROS.items()}


@dataclass
class ParsedEntry:
    """One entry as found in a file."""

    key: str
    entry_type: str
    fields: list[tuple[str, str]]
    source: str
    file: str
    line: int


@dataclass
class ParsedBlock:
    """A @string, @preamble or @comment block."""

    kind: str
    name: str | None
    value: str
    source: str


@dataclass
class Failure:
    """A part of a file that could not be read as BibTeX: where it is and why."""

    file: str
    line: int
    message: str
    key: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        if self.key:
            where += f" (entry {self.key})"
        return f"{where}: {self.message}"


@dataclass
class ParsedFile:
    path: str
    encoding: str
    entries: list[ParsedEntry] = field(default_factory=list)
    blocks: list[ParsedBlock] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Text and encoding name of a .bib file's bytes: BOMs, UTF-16 without BOM, UTF-8, Latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8):]
        try:
            return body.decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return body.decode("cp1252", errors="replace"), "utf-8-sig+cp1252"
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace"), "utf-16"
    sample = data[:4096]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) / 2
        if odd_nuls > 0.4 * half and even_nuls < 0.1 * half:
            return data.decode("utf-16-le", errors="replace"), "utf-16-le"
        if even_nuls > 0.4 * half and odd_nuls < 0.1 * half:
            return data.decode("utf-16-be", errors="replace"), "utf-16-be"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def read_bib_file(path: str | os.PathLike[str]) -> tuple[str, str]:
    p = Path(path)
    if not p.exists():
        raise BibFileError(f"{p}: no such file")
    if p.is_dir():
        raise BibFileError(f"{p}: is a directory, not a .bib file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise BibFileError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    text, encoding = decode_bytes(data)
    # Line ends: CR-only files (old Mac) would otherwise count as one line.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding


def parse_text(text: str, name: str = "<text>", encoding: str = "utf-8") -> ParsedFile:
    """Split BibTeX text into entries, blocks and failures (with 1-based line numbers)."""
    result = ParsedFile(path=name, encoding=encoding)
    text = text.replace("\x00", "")
    lib = bibtexparser.parse_string(text, parse_stack=[])
    for block in lib.blocks:
        line = (block.start_line or 0) + 1
        if isinstance(block, model.Entry):
            fields = [(f.key, f.value) for f in block.fields]
            bad = [f.key for f in block.fields if not bibvalue.is_well_formed(f.value)]
            if bad:
                result.failures.append(
                    Failure(name, line, f"field {bad[0]} has an unbalanced value", block.key)
                )
                continue
            result.entries.append(
                ParsedEntry(block.key, block.entry_type.lower(), fields, block.raw.strip(),
                            name, line)
            )
        elif isinstance(block, model.String):
            result.blocks.append(ParsedBlock("string", block.key, block.value, block.raw.strip()))
        elif isinstance(block, model.Preamble):
            result.blocks.append(ParsedBlock("preamble", None, block.value, block.raw.strip()))
        elif isinstance(block, model.ExplicitComment):
            result.blocks.append(ParsedBlock("comment", None, block.comment, block.raw.strip()))
        elif isinstance(block, model.DuplicateBlockKeyBlock):
            result.failures.append(
                Failure(name, line, f"duplicate key {block.key!r} in the same file", block.key)
            )
        elif isinstance(block, model.ParsingFailedBlock):
            message = collapse_space(str(block.error)) if block.error else "not valid BibTeX"
            message = re.sub(r"^Parsing of `?(@\w+)`? block \(line \d+\) aborted on line \d+ "
                             r"due to syntactical error in bibtex:\s*", r"\1: ", message)
            key = None
            m = re.match(r"@\w+\s*[{(]\s*([^,\s]+)\s*,", block.raw or "")
            if m:
                key = m.group(1)
            result.failures.append(Failure(name, line, message[:300], key))
    return result


def parse_file(path: str | os.PathLike[str]) -> ParsedFile:
    text, encoding = read_bib_file(path)
    return parse_text(text, str(path), encoding)


# -- derived values -------------------------------------------------------------------------

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
    out: dict[str, str] = {}
    for name, raw in fields:
        out.setdefault(name.lower(), raw)
    return out


def text_of(raw: str | None, macros: Mapping[str, str] | None) -> str:
    if raw is None:
        return ""
    return collapse_space(latex_to_unicode(bibvalue.evaluate(raw, macros)))


def _month_number(text: str) -> int | None:
    t = text.strip().lower().rstrip(".")
    if t.isdigit() and 1 <= int(t) <= 12:
        return int(t)
    if t in _MONTHS:
        return _MONTHS[t]
    if t in _MONTH_NAMES:
        return _MONTH_NAMES[t]
    return None


def derive(fields: Iterable[tuple[str, str]], macros: Mapping[str, str] | None = None,
           parent: Mapping[str, str] | None = None) -> Derived:
    """Decode an entry's display values. ``parent`` holds a crossref parent's raw fields."""
    f = field_map(fields)
    if parent:
        # biber's inheritance: the parent's title is the child's booktitle.
        if "title" in parent and "booktitle" not in f:
            f["booktitle"] = parent["title"]
        for name, raw in parent.items():
            if name not in f and name not in ("ids", "crossref", "key"):
                f[name] = raw
    d = Derived()
    d.title = text_of(f.get("title"), macros)
    if "author" in f:
        d.authors = parse_names(collapse_space(bibvalue.evaluate(f["author"], macros)))
    if "editor" in f:
        d.editors = parse_names(collapse_space(bibvalue.evaluate(f["editor"], macros)))
    date = text_of(f.get("date"), macros) or None
    d.date = date
    year = text_of(f.get("year"), macros)
    m = re.search(r"\d{4}", year) or (re.search(r"\d{4}", date) if date else None)
    d.year = int(m.group(0)) if m else None
    if "month" in f:
        d.month = _month_number(text_of(f["month"], macros))
    if d.month is None and date:
        dm = re.match(r"^\d{4}-(\d{2})", date)
        if dm and 1 <= int(dm.group(1)) <= 12:
            d.month = int(dm.group(1))
    for name in _VENUE_FIELDS:
        if name in f:
            d.venue = text_of(f[name], macros)
            if d.venue:
                break
    for name in ("volume", "number", "pages"):
        if name in f:
            setattr(d, name, text_of(f[name], macros) or None)
    d.doi = bibvalue.evaluate(f["doi"], macros).strip() or None if "doi" in f else None
    d.url = bibvalue.evaluate(f["url"], macros).strip() or None if "url" in f else None
    eprint_type = text_of(f.get("eprinttype") or f.get("archiveprefix"), macros).lower()
    if "eprint" in f and (eprint_type == "arxiv" or not eprint_type):
        d.arxiv = bibvalue.evaluate(f["eprint"], macros).strip() or None
    if d.arxiv is None and d.url:
        am = _ARXIV_IN_URL.search(d.url)
        if am:
            d.arxiv = am.group(1)
    if d.arxiv is None and d.doi:
        dm2 = _ARXIV_DOI.match(d.doi)
        if dm2:
            d.arxiv = dm2.group(1)
    d.category = text_of(f.get("eprintclass") or f.get("primaryclass"), macros) or None
    if not d.venue and (d.arxiv or eprint_type == "arxiv"):
        d.venue = "arXiv" + (f" {d.category}" if d.category else "")
    d.abstract = text_of(f.get("abstract"), macros)
    d.keywords = text_of(f.get("keywords"), macros)
    return d


# -- writing --------------------------------------------------------------------------------

def format_entry(entry_type: str, key: str, fields: Iterable[tuple[str, str]]) -> str:
    """An entry in the one layout Citedesk writes: fixed field order, one field per line."""
    items = list(fields)
    order = sorted(
        range(len(items)),
        key=lambda i: (_ORDER_INDEX.get(items[i][0].lower(), len(FIELD_ORDER)), i),
    )
    width = max((len(items[i][0]) for i in order), default=0)
    lines = [f"@{entry_type}{{{key},"]
    lowered = [name.lower() for name, _ in items]
    for i in order:
        name, raw = items[i]
        # Names in lower case, unless a field repeats (BibTeX keeps the first; the rest are
        # kept as they were written so nothing is lost and nothing new collides).
        shown = name.lower() if lowered.count(name.lower()) == 1 else name
        lines.append(f"  {shown.ljust(width)} = {raw},")
    lines.append("}")
    return "\n".join(lines)


def format_string(name: str, raw: str) -> str:
    return f"@string{{{name} = {raw}}}"


def atomic_write(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
