"""What a PDF holds for a reference manager: its text per page, what it says of itself, and
the highlights and comments a reader made in it.

Only pypdfium2 reads PDFs here (PDFium: fast, BSD/Apache; PyMuPDF is AGPL). Full-text
indexing calls :func:`page_texts` once per attachment, so it closes every PDFium object as
soon as it is done with it instead of leaving them to the garbage collector, and it runs in a
process pool through :func:`extract`, which never raises.

A file that is not a readable PDF is the user's business, not a bug: :class:`PdfProblem`
says which kind of problem it is and, in words, what is wrong with it.

PDFium has no call for a document's XMP metadata, so :func:`pdf_info` finds the XMP packet
in the file's bytes, as the XMP specification's packet scanning intends (uncompressed
packets, and Flate-compressed ``/Type /Metadata`` streams).
"""

import ctypes
import difflib
import mmap
import os
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .identifiers import is_doi

#: The kinds of :class:`PdfProblem`.
PROBLEM_KINDS = ("empty", "not-pdf", "encrypted", "damaged", "no-text", "missing")


class PdfProblem(Exception):
    """A file that cannot be read as a PDF's text: kind and a message for people."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> tuple[type["PdfProblem"], tuple[str, str]]:
        return PdfProblem, (self.kind, str(self))  # Picklable, for a process pool.


# --- Opening -------------------------------------------------------------------------------

#: PDF readers accept the header anywhere in the first kilobyte (junk before it is common).
_HEADER_WINDOW = 1024


def _check_file(path: Path) -> None:
    """Raise the problem that makes ``path`` no PDF at all, before PDFium sees it."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEADER_WINDOW)
    except FileNotFoundError:
        raise PdfProblem("missing", "is missing: there is no such file") from None
    except IsADirectoryError:
        raise PdfProblem("missing", "is a folder, not a file") from None
    except OSError as exc:
        raise PdfProblem("missing", f"cannot be opened: {exc.strerror or exc}") from None
    if not head:
        raise PdfProblem("empty", "is empty (0 bytes)")
    if b"%PDF-" not in head:
        start = head[:8].decode("latin-1")
        raise PdfProblem("not-pdf", f"is not a PDF (it starts with {start!r})")


@contextmanager
def _opened(path: str | os.PathLike[str]) -> Iterator[pdfium.PdfDocument]:
    """The document, closed on leaving; PDFium's load errors as :class:`PdfProblem`."""
    file = Path(path)
    _check_file(file)
    try:
        doc = pdfium.PdfDocument(file)
    except pdfium.PdfiumError as exc:
        raise _load_problem(exc) from None
    try:
        yield doc
    finally:
        doc.close()


def _load_problem(exc: pdfium.PdfiumError) -> PdfProblem:
    code = exc.err_code
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return PdfProblem("encrypted", "is encrypted: it needs a password")
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return PdfProblem("encrypted", "is encrypted with a scheme that cannot be read")
    if code == pdfium_c.FPDF_ERR_FILE:
        return PdfProblem("missing", "cannot be opened (it is missing or not readable)")
    reason = str(exc).removeprefix("Failed to load document ").strip("() ")
    return PdfProblem("damaged", f"is damaged: {reason or 'PDFium cannot read it'}")


# --- Text ----------------------------------------------------------------------------------

#: Control characters go (but newline and tab), and PDFium's marks for a hyphen at a line end
#: (U+FFFE, sometimes U+0002) go too, which joins the hyphenated word again.
_DROP = {c: None for c in range(32) if c not in (9, 10)} | {0x7F: None, 0xFFFE: None, 0xFFFF: None}


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_DROP)


def _page_text(doc: pdfium.PdfDocument, index: int) -> str:
    page = doc[index]
    try:
        textpage = page.get_textpage()
        try:
            return _clean(textpage.get_text_range())
        finally:
            textpage.close()
    finally:
        page.close()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def page_texts(path: str | os.PathLike[str]) -> list[str]:
    """The text of each page, in page order (index 0 is page 1).

    Raises:
        PdfProblem: the file is no readable PDF, or no page has any text ("no-text").
    """
    with _opened(path) as doc:
        try:
            texts = [_page_text(doc, i) for i in range(len(doc))]
        except pdfium.PdfiumError as exc:
            raise PdfProblem("damaged", f"is damaged: {exc}") from None
    if not any(t.strip() for t in texts):
        if not texts:
            raise PdfProblem("no-text", "has no pages")
        pages = _plural(len(texts), "page")
        raise PdfProblem("no-text", f"has no text layer (a scan?): {pages}, no text")
    return texts


def extract(path: str) -> tuple[str, list[str] | None, str | None, str | None]:
    """:func:`page_texts` for a process pool: ``(path, pages, None, None)`` or
    ``(path, None, kind, message)``. Never raises, so one bad file cannot stop a pool."""
    try:
        return path, page_texts(path), None, None
    except PdfProblem as problem:
        return path, None, problem.kind, str(problem)
    except Exception as exc:  # A bug, but a pool worker must report it, not die.
        return path, None, "damaged", f"could not be read (a bug, please report it): {exc!r}"


# --- Identifiers in text -------------------------------------------------------------------

#: A DOI in running text or a link; ``%2F`` for its slash in a URL-encoded link.
_DOI_IN_TEXT = re.compile(r"\b10\.\d{4,9}(?:/|%2[Ff])[^\s\"<>]+")
_DOI_TRAILING = ".,;:'\u2019\u201d!?"
_BRACKETS = {")": "(", "]": "[", "}": "{"}


def find_doi(text: str) -> str | None:
    """The first DOI in free text (``doi:10...``, ``https://doi.org/10...``), without the
    punctuation that ends the sentence around it; unbalanced closing brackets go too."""
    for m in _DOI_IN_TEXT.finditer(text):
        doi = m.group(0)
        while doi:
            last = doi[-1]
            if last in _DOI_TRAILING or (
                last in _BRACKETS and doi.count(last) > doi.count(_BRACKETS[last])
            ):
                doi = doi[:-1]
            else:
                break
        if re.search(r"%[0-9A-Fa-f]{2}", doi):
            doi = unquote(doi)
        if is_doi(doi):
            return doi
    return None


#: A new-style arXiv id (0704.0001 to 2101.00001), with its version if printed.
_ARXIV_NEW = r"(?:\d{2}(?:0[1-9]|1[0-2])\.\d{4,5})(?:v\d+)?"
#: An old-style id: archive (and subject class), slash, YYMMNNN.
_ARXIV_OLD = r"(?:[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{2}(?:0[1-9]|1[0-2])\d{3})(?:v\d+)?"
_ARXIV_ID = rf"(?:{_ARXIV_NEW}|{_ARXIV_OLD})"
#: arXiv's margin stamp: ``arXiv:1111.2011v2 [cond-mat.str-el] 2 Apr 2012``. No word
#: boundary before it: PDFium often glues the stamp to the last word of the page.
_ARXIV_STAMP = re.compile(
    rf"arXiv:({_ARXIV_ID})\s*\[[\w.-]+\]\s*(\d{{1,2}}\s+[A-Z][a-z]{{2}}\s+(\d{{4}}))?"
)
_ARXIV_URL = re.compile(rf"arxiv\.org/(?:abs|pdf)/({_ARXIV_ID})", re.IGNORECASE)
_ARXIV_LABEL = re.compile(rf"arXiv:\s*({_ARXIV_ID})(?![\d/])", re.IGNORECASE)
_ARXIV_BARE_OLD = re.compile(rf"(?<![\w./])({_ARXIV_OLD})(?![\d])")


def find_arxiv(text: str) -> str | None:
    """The first arXiv id in free text, as printed (with its version when there is one).

    arXiv's margin stamp wins, then an arxiv.org link, then any ``arXiv:`` label, then a bare
    old-style id (``hep-th/9901001``). A bare new-style number is not taken: ``1111.2011``
    alone may be anything.
    """
    for pattern in (_ARXIV_STAMP, _ARXIV_URL, _ARXIV_LABEL, _ARXIV_BARE_OLD):
        m = pattern.search(text)
        if m:
            return m.group(1)
    return None


_ISBN_LABELLED = re.compile(r"ISBN(?:-1[03])?:?\s*((?:\d[\s-]?){9}[\dXx](?:[\s-]?\d){0,3})")
_ISBN_BARE_13 = re.compile(r"(?<![\d-])(97[89](?:[\s-]?\d){10})(?![\d-])")


def _isbn_valid(digits: str) -> bool:
    if len(digits) == 10:
        total = sum((10 - i) * (10 if c in "Xx" else int(c)) for i, c in enumerate(digits))
        return digits[:9].isdigit() and total % 11 == 0
    if len(digits) == 13 and digits.isdigit():
        return sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(digits)) % 10 == 0
    return False


def find_isbn(text: str) -> str | None:
    """The first ISBN in free text (``ISBN 978-3-16-148410-0``, ``ISBN-10: 0-306-40615-2``,
    or a bare hyphenated 978/979 number) whose check digit is right, as digits only."""
    for pattern in (_ISBN_LABELLED, _ISBN_BARE_13):
        for m in pattern.finditer(text):
            digits = re.sub(r"[\s-]", "", m.group(1)).upper()
            # "ISBN 0-306-40615-2 123": the greedy tail may take digits that follow it.
            for candidate in (digits, digits[:13], digits[:10]):
                if _isbn_valid(candidate):
                    return candidate
    return None


# --- What the PDF says of itself -----------------------------------------------------------


@dataclass(frozen=True)
class PdfInfo:
    """A PDF's own metadata and the identifiers printed on its first pages."""

    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    doi: str | None = None
    #: Without its version, e.g. "1111.2011" or "hep-th/9901001"; the version apart.
    arxiv: str | None = None
    isbn: str | None = None
    subject: str = ""
    keywords: str = ""
    pages: int = 0
    arxiv_version: int | None = None


_JUNK_TITLE = re.compile(
    r"^(?:untitled\b.*|microsoft (?:word|powerpoint|excel) - .*|.*\.(?:docx?|odt|rtf|pdf|tex|"
    r"dvi|ps|indd|qxd|pages|txt|html?)|document\d*|title|\W*|[\d\W]+)$",
    re.IGNORECASE,
)
_JUNK_AUTHOR = {"administrator", "admin", "user", "owner", "unknown", "author", "anonymous"}


def _good_title(title: str, path: Path) -> str:
    title = " ".join(title.split())
    if _JUNK_TITLE.match(title) or title.casefold() in (path.name.casefold(), path.stem.casefold()):
        return ""
    return title


def _split_authors(text: str) -> tuple[str, ...]:
    """One person per item, when ``text`` clearly lists people; "Doe, Jane" is one."""
    text = " ".join(text.split())
    if not text:
        return ()
    if ";" in text:
        parts = text.split(";")
    else:
        parts = []
        for part in re.split(r",?\s+(?:and|&)\s+|\s*&\s*", text):
            pieces = [p.strip() for p in part.split(",")]
            if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces if p):
                parts += pieces
            else:
                parts.append(part)
    names = (p.strip(" ,") for p in parts)
    return tuple(n for n in names if n and n.casefold() not in _JUNK_AUTHOR)


def _year(date: str) -> int | None:
    """The year of a PDF date (``D:20120403...``) or an ISO date (``2012-04-03``)."""
    m = re.match(r"\s*(?:D:)?(\d{4})", date)
    if m and 1800 <= int(m.group(1)) <= 2200:
        return int(m.group(1))
    return None


_NS_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_NS_DC = "{http://purl.org/dc/elements/1.1/}"
_NS_XMP = "{http://ns.adobe.com/xap/1.0/}"
_NS_PDF = "{http://ns.adobe.com/pdf/1.3/}"
_PACKET = re.compile(rb"<x:xmpmeta\b.*?</x:xmpmeta>|<rdf:RDF\b.*?</rdf:RDF>", re.DOTALL)
#: Where a metadata stream's dictionary says what it is; its start and stream follow.
_METADATA_TYPE = re.compile(rb"/Type\s*/Metadata\b")
#: Larger PDFs are mapped, not read; XMP packets past this point are not looked for.
_XMP_SCAN_LIMIT = 512 * 1024 * 1024


def _xmp_packets(path: Path) -> list[bytes]:
    """Each XMP packet in the file's bytes, in file order (an update's packet comes last)."""
    try:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found = [(m.start(), m.group(0)) for m in _PACKET.finditer(data, 0, _XMP_SCAN_LIMIT)]
            for m in _METADATA_TYPE.finditer(data, 0, _XMP_SCAN_LIMIT):
                raw = _inflated_stream(data, m.start(), m.end())
                found += [(m.start(), p.group(0)) for p in _PACKET.finditer(raw)]
    except (OSError, ValueError):
        return []
    return [packet for _, packet in sorted(found)]


def _inflated_stream(data: mmap.mmap, start: int, end: int) -> bytes:
    """The Flate-compressed stream whose dictionary holds ``data[start:end]``, inflated;
    b"" when it is not one (uncompressed packets are found as they are)."""
    keyword = data.find(b"stream", end, end + 500)
    if keyword < 0 or b"/FlateDecode" not in data[max(0, start - 300) : keyword]:
        return b""
    body = keyword + len(b"stream")
    body += 2 if data[body : body + 2] == b"\r\n" else 1
    try:
        return zlib.decompressobj().decompress(data[body : body + 8_000_000], 16_000_000)
    except zlib.error:
        return b""


def _xmp_values(packet: bytes) -> dict[str, list[str]]:
    """The properties of an XMP packet, by Clark name (``{ns}local``), each a list of values
    (the items of an ``rdf:Seq``/``Bag``/``Alt``, or the one simple value)."""
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        return {}  # No entity expansion from a file's bytes.
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return {}
    values: dict[str, list[str]] = {}
    for desc in root.iter(f"{_NS_RDF}Description"):
        for name, value in desc.attrib.items():
            if not name.startswith(_NS_RDF):
                values.setdefault(name, []).append(value)
        for prop in desc:
            items = [li.text or "" for li in prop.iter(f"{_NS_RDF}li")]
            texts = items if items else [prop.text or ""]
            values.setdefault(prop.tag, []).extend(t.strip() for t in texts if t.strip())
    return values


def _xmp_get(values: dict[str, list[str]], key: str) -> list[str]:
    """Values of ``key`` given as ``{ns}local`` or, for PRISM's versioned namespaces, as a
    bare local name matched in any namespace whose URI mentions ``prism``."""
    if key.startswith("{"):
        return values.get(key, [])
    return [v for k, vs in values.items() if "prism" in k and k.endswith("}" + key) for v in vs]


_BOILERPLATE = re.compile(
    r"arXiv:|\bjournal\b|\bvol(?:\.|ume)\s*\d|\bpp\.|\bdoi\b|©|\(c\)|copyright|\bissn\b|"
    r"proceedings|https?://|www\.|received\b|accepted\b|published\b|preprint|submitted to|"
    r"\bpage \d|^\s*\d+\s*$|\bdated?:|licen[cs]e",
    re.IGNORECASE,
)


def _title_lines(doc: pdfium.PdfDocument) -> list[tuple[str, float]]:
    """Page 1's lines, each with its characters' most common font size."""
    page = doc[0]
    try:
        textpage = page.get_textpage()
        try:
            raw = textpage.raw
            lines: list[tuple[str, float]] = []
            chars: list[str] = []
            sizes: dict[float, int] = {}
            for i in range(min(pdfium_c.FPDFText_CountChars(raw), 20_000)):
                code = pdfium_c.FPDFText_GetUnicode(raw, i)
                if code in (10, 13):
                    if chars:
                        size = max(sizes, key=lambda s: sizes[s]) if sizes else 0.0
                        lines.append((_clean("".join(chars)).strip(), size))
                    chars, sizes = [], {}
                    continue
                chars.append(chr(code))
                if code > 32:
                    size = round(pdfium_c.FPDFText_GetFontSize(raw, i), 1)
                    sizes[size] = sizes.get(size, 0) + 1
            if chars:
                lines.append((_clean("".join(chars)).strip(), max(sizes, default=0.0)))
            return lines
        finally:
            textpage.close()
    finally:
        page.close()


def _substantial(line: str) -> bool:
    letters = sum(c.isalpha() for c in line)
    return (
        letters >= 8
        and len(line.split()) >= 2
        and not _BOILERPLATE.search(line)
        and not (line.isupper() and letters > 0)
    )


def guess_title(lines: Sequence[tuple[str, float]]) -> str:
    """A title from page 1's lines and their font sizes: the largest type among the first
    substantial lines, with the lines right after it in the same type (a title of two lines).
    Without sizes, the first substantial line."""
    candidates = [(i, size) for i, (text, size) in enumerate(lines[:40]) if _substantial(text)]
    if not candidates:
        return ""
    biggest = max(size for _, size in candidates)
    first = next(i for i, size in candidates if size >= biggest - 0.25)
    taken = [lines[first][0]]
    for text, size in lines[first + 1 : first + 4]:
        if biggest <= 0 or abs(size - biggest) > 0.25 or _BOILERPLATE.search(text):
            break
        taken.append(text)
    title = " ".join(" ".join(taken).split())
    return title if len(title) <= 300 else ""


def pdf_info(path: str | os.PathLike[str], text_pages: int = 2) -> PdfInfo:
    """What the PDF says of itself, then what its first ``text_pages`` pages print.

    Metadata first: XMP (``dc:title``, ``dc:creator``, ``prism:doi``, ``dc:identifier``,
    ``dc:date``, ``xmp:CreateDate``), then the document information dictionary (Title,
    Author, Subject, Keywords, CreationDate). Junk titles ("Microsoft Word - draft3.docx",
    "untitled", the file's name) count as none; without a title, one is guessed from page
    1's largest type. Identifiers (DOI, arXiv id, ISBN) come from the metadata, then from the
    text, page 1 first; the year from metadata dates, else from arXiv's stamp.

    Raises:
        PdfProblem: the file is no readable PDF (an encrypted one included: PDFium reads no
            metadata without the password).
    """
    file = Path(path)
    with _opened(file) as doc:
        meta = doc.get_metadata_dict(skip_empty=True)
        pages = len(doc)
        texts: list[str] = []
        lines: list[tuple[str, float]] = []
        try:
            texts = [_page_text(doc, i) for i in range(min(pages, max(text_pages, 0)))]
            lines = _title_lines(doc) if pages else []
        except pdfium.PdfiumError:
            pass  # A damaged page: the metadata still counts.
        extra_doi = _meta_text(doc, "doi")
    xmp: dict[str, list[str]] = {}
    for packet in _xmp_packets(file):
        for key, vals in _xmp_values(packet).items():
            xmp[key] = vals  # A later packet (an incremental update) wins.

    def first(*candidates: list[str] | str | None) -> str:
        for c in candidates:
            values = [c] if isinstance(c, str) or c is None else c
            for v in values:
                if v and v.strip():
                    return v.strip()
        return ""

    title = _good_title(first(xmp.get(f"{_NS_DC}title"), meta.get("Title")), file)
    if not title and lines:
        title = guess_title(lines)
    creators = xmp.get(f"{_NS_DC}creator", [])
    if len(creators) > 1:
        authors = tuple(a for c in creators for a in _split_authors(c))
    else:
        authors = _split_authors(first(creators, meta.get("Author")))

    identifiers = " ".join(xmp.get(f"{_NS_DC}identifier", []))
    doi_given = first(_xmp_get(xmp, "doi"), extra_doi)
    doi = (
        find_doi(doi_given)
        or find_doi(identifiers)
        or next(filter(None, map(find_doi, texts)), None)
    )
    arxiv_printed = next(filter(None, map(find_arxiv, [identifiers, *texts])), None)
    isbn = find_isbn(identifiers) or next(filter(None, map(find_isbn, texts)), None)
    arxiv, version = None, None
    if arxiv_printed:
        arxiv, _, v = arxiv_printed.partition("v")
        version = int(v) if v.isdigit() else None

    year = next(
        filter(
            None,
            map(
                _year,
                [
                    *xmp.get(f"{_NS_DC}date", []),
                    meta.get("CreationDate", ""),
                    *xmp.get(f"{_NS_XMP}CreateDate", []),
                ],
            ),
        ),
        None,
    )
    if year is None:
        stamp = next(filter(None, (_ARXIV_STAMP.search(t) for t in texts)), None)
        year = int(stamp.group(3)) if stamp and stamp.group(3) else None
    return PdfInfo(
        title=title,
        authors=authors,
        year=year,
        doi=doi,
        arxiv=arxiv,
        isbn=isbn,
        subject=first(xmp.get(f"{_NS_DC}description"), meta.get("Subject")),
        keywords=first(xmp.get(f"{_NS_PDF}Keywords"), meta.get("Keywords")),
        pages=pages,
        arxiv_version=version,
    )


def _meta_text(doc: pdfium.PdfDocument, key: str) -> str:
    """An entry of the document information dictionary pypdfium2 does not list by name."""
    size = pdfium_c.FPDF_GetMetaText(doc.raw, key.encode("ascii"), None, 0)
    if size <= 2:
        return ""
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDF_GetMetaText(doc.raw, key.encode("ascii"), buffer, size)
    return buffer.raw[: size - 2].decode("utf-16-le", errors="replace")


# --- Annotations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Annotation:
    """A mark or a comment a reader made on a page."""

    page: int  # 1-based
    kind: str
    text: str  # The marked text ("" when none)
    comment: str  # /Contents
    author: str = ""  # /T
    color: str | None = None  # "#rrggbb"


_KINDS = {
    pdfium_c.FPDF_ANNOT_TEXT: "note",
    pdfium_c.FPDF_ANNOT_HIGHLIGHT: "highlight",
    pdfium_c.FPDF_ANNOT_UNDERLINE: "underline",
    pdfium_c.FPDF_ANNOT_STRIKEOUT: "strikeout",
    pdfium_c.FPDF_ANNOT_SQUIGGLY: "squiggly",
    pdfium_c.FPDF_ANNOT_FREETEXT: "freetext",
    pdfium_c.FPDF_ANNOT_INK: "ink",
    pdfium_c.FPDF_ANNOT_LINE: "line",
    pdfium_c.FPDF_ANNOT_SQUARE: "square",
    pdfium_c.FPDF_ANNOT_CIRCLE: "circle",
    pdfium_c.FPDF_ANNOT_POLYGON: "polygon",
    pdfium_c.FPDF_ANNOT_POLYLINE: "polyline",
    pdfium_c.FPDF_ANNOT_STAMP: "stamp",
    pdfium_c.FPDF_ANNOT_CARET: "caret",
    pdfium_c.FPDF_ANNOT_REDACT: "redact",
}
#: Kinds whose text is the page's text under their quad points.
_MARKUP = {"highlight", "underline", "strikeout", "squiggly"}


def _annot_string(annot: pdfium_c.FPDF_ANNOTATION, key: bytes) -> str:
    size = pdfium_c.FPDFAnnot_GetStringValue(annot, key, None, 0)
    if size <= 2:
        return ""
    buffer = (pdfium_c.FPDF_WCHAR * (size // 2))()
    pdfium_c.FPDFAnnot_GetStringValue(annot, key, buffer, size)
    raw = ctypes.string_at(buffer, size - 2)
    return raw.decode("utf-16-le", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _annot_color(annot: pdfium_c.FPDF_ANNOTATION) -> str | None:
    if not pdfium_c.FPDFAnnot_HasKey(annot, b"C"):
        return None  # PDFium would say black.
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    ok = pdfium_c.FPDFAnnot_GetColor(
        annot,
        pdfium_c.FPDFANNOT_COLORTYPE_Color,
        ctypes.byref(r),
        ctypes.byref(g),
        ctypes.byref(b),
        ctypes.byref(a),
    )
    return f"#{r.value:02x}{g.value:02x}{b.value:02x}" if ok else None


def _marked_text(annot: pdfium_c.FPDF_ANNOTATION, textpage: pdfium.PdfTextPage) -> str:
    """The page's text under each quad point box, joined with spaces."""
    parts = []
    quad = pdfium_c.FS_QUADPOINTSF()
    for i in range(pdfium_c.FPDFAnnot_CountAttachmentPoints(annot)):
        if not pdfium_c.FPDFAnnot_GetAttachmentPoints(annot, i, ctypes.byref(quad)):
            continue
        xs = (quad.x1, quad.x2, quad.x3, quad.x4)
        ys = (quad.y1, quad.y2, quad.y3, quad.y4)
        text = textpage.get_text_bounded(min(xs), min(ys), max(xs), max(ys))
        parts.append(" ".join(_clean(text).split()))
    return " ".join(p for p in parts if p)


def _annot_top(annot: pdfium_c.FPDF_ANNOTATION) -> float:
    rect = pdfium_c.FS_RECTF()
    if not pdfium_c.FPDFAnnot_GetRect(annot, ctypes.byref(rect)):
        return 0.0
    return float(max(rect.top, rect.bottom))


def _page_annotations(doc: pdfium.PdfDocument, index: int) -> list[Annotation]:
    page = doc[index]
    found: list[tuple[float, int, Annotation]] = []
    try:
        count = pdfium_c.FPDFPage_GetAnnotCount(page.raw)
        if count <= 0:
            return []
        textpage = page.get_textpage()
        try:
            for i in range(count):
                annot = pdfium_c.FPDFPage_GetAnnot(page.raw, i)
                if not annot:
                    continue
                try:
                    kind = _KINDS.get(pdfium_c.FPDFAnnot_GetSubtype(annot))
                    if kind is None:
                        continue  # Links, form fields, popups, attachments and the like.
                    mark = Annotation(
                        page=index + 1,
                        kind=kind,
                        text=_marked_text(annot, textpage) if kind in _MARKUP else "",
                        comment=_annot_string(annot, b"Contents").strip(),
                        author=_annot_string(annot, b"T").strip(),
                        color=_annot_color(annot),
                    )
                    found.append((-_annot_top(annot), i, mark))
                finally:
                    pdfium_c.FPDFPage_CloseAnnot(annot)
        finally:
            textpage.close()
    finally:
        page.close()
    return [mark for *_, mark in sorted(found, key=lambda f: f[:2])]


def annotations(path: str | os.PathLike[str]) -> list[Annotation]:
    """Highlights and comments, in page order, then top to bottom on a page.

    Links, form fields, popups (the window of another annotation) and file attachments are
    not marks a reader made, and are left out.

    Raises:
        PdfProblem: the file is no readable PDF.
    """
    with _opened(path) as doc:
        try:
            return [a for i in range(len(doc)) for a in _page_annotations(doc, i)]
        except pdfium.PdfiumError as exc:
            raise PdfProblem("damaged", f"is damaged: {exc}") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def annotations_markdown(file_name: str, annots: Sequence[Annotation]) -> str:
    """A Markdown note of the annotations, one list item each, in the order given:


    ## Annotations from paper.pdf

    - p. 3: “the highlighted text” — the reader's comment
    - p. 5: a sticky note's comment
    - p. 6 (ink): its comment

    One line per annotation (more only for a comment of several lines, indented), so that
    :func:`merge_annotation_note` can follow each; the quotation marks and the dash read as
    such both as text and in the rendered note (a ``>`` inside a list item would not).
    """
    out = [f"## Annotations from {file_name}", ""]
    for a in annots:
        comment = [line.strip() for line in a.comment.splitlines() if line.strip()]
        if a.text:
            said = f" — {comment[0]}" if comment else ""
            out.append(f"- p. {a.page}: “{_one_line(a.text)}”{said}")
            out += [f"  {line}" for line in comment[1:]]
            continue
        label = f"- p. {a.page}" if a.kind in ("note", "freetext") else f"- p. {a.page} ({a.kind})"
        if comment:
            out.append(f"{label}: {comment[0]}")
            out += [f"  {line}" for line in comment[1:]]
        else:
            out.append(label)
    return "\n".join(out) + "\n"


def merge_annotation_note(previous_generated: str, current_body: str, new_generated: str) -> str:
    """The note made from annotations, updated without losing what the user wrote in it.

    ``previous_generated`` is what Citedesk wrote last time, ``current_body`` the note now,
    ``new_generated`` the fresh rendering. An untouched note is simply replaced. Otherwise
    the lines of ``current_body`` are the skeleton, and of them:

    - a line the user added or changed is always kept, where it is;
    - a generated line the user left alone stays while the new rendering still has it, and
      goes when it does not (its annotation was deleted or changed);
    - a line new in ``new_generated`` goes before the next generated line (in the new
      rendering's order) that the note still has; with none after it, after the one before
      it and that line's indented continuation lines; with neither, after the note's last
      generated line (or at the end).

    So a changed annotation the user had edited in the note appears twice (their version and
    the new one) rather than losing either. Lines are compared whole (difflib).
    """
    if current_body == previous_generated:
        return new_generated
    base = previous_generated.splitlines()
    current = current_body.splitlines()
    new = new_generated.splitlines()

    def matches(a: list[str], b: list[str]) -> dict[int, int]:
        blocks = difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
        return {blk.a + k: blk.b + k for blk in blocks for k in range(blk.size)}

    base_to_current = matches(base, current)
    base_to_new = matches(base, new)
    current_to_base = {c: b for b, c in base_to_current.items()}
    new_to_current = {n: base_to_current[b] for b, n in base_to_new.items() if b in base_to_current}

    keep = [
        j not in current_to_base or current_to_base[j] in base_to_new for j in range(len(current))
    ]
    generated_kept = [j for j in range(len(current)) if j in current_to_base and keep[j]]
    # Lines to insert before current line j (j == len(current): at the end).
    before: dict[int, list[str]] = {}
    for k, line in enumerate(new):
        if k in base_to_new.values():
            continue
        after_next = [new_to_current[n] for n in range(k + 1, len(new)) if n in new_to_current]
        after_prev = [new_to_current[n] for n in range(k - 1, -1, -1) if n in new_to_current]
        if after_next:
            at = after_next[0]
        elif after_prev:
            at = after_prev[0] + 1
            while at < len(current) and current[at][:1].isspace() and at not in current_to_base:
                at += 1
        elif generated_kept:
            at = generated_kept[-1] + 1
        else:
            at = len(current)
        before.setdefault(at, []).append(line)
    merged: list[str] = []
    for j, line in enumerate(current):
        merged += before.get(j, [])
        if keep[j]:
            merged.append(line)
    merged += before.get(len(current), [])
    ends = current_body.endswith("\n") or (not current_body and new_generated.endswith("\n"))
    return "\n".join(merged) + ("\n" if ends and merged else "")


__all__ = [
    "PROBLEM_KINDS",
    "Annotation",
    "PdfInfo",
    "PdfProblem",
    "annotations",
    "annotations_markdown",
    "extract",
    "find_arxiv",
    "find_doi",
    "find_isbn",
    "guess_title",
    "merge_annotation_note",
    "page_texts",
    "pdf_info",
]
