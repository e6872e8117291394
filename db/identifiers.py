"""Identifiers of works found in entries: which of them are worth matching papers on.

Besides :func:`is_doi`, this module reads DOIs, arXiv ids and ISBNs out of what people type,
paste or drop: one identifier alone (:func:`parse_identifier`) or every identifier in a longer
text such as a reference list, a ``.bib`` file, an email or a web page
(:func:`find_identifiers`). Free text is read more strictly than a lone identifier: a bare
``1605.08386`` or ``0262033844`` in a paragraph is more likely a number than an id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import itemgetter, mul
from urllib.parse import unquote

#: A DOI worth matching on: ``10.`` then a registrant code, a slash and a suffix with a
#: letter or digit in it. Placeholders (``????``, ``10.1000/-``, ``TODO``) are not.
_DOI = re.compile(r"10\.\d{4,9}/\S*[A-Za-z0-9]\S*")


def is_doi(text: str) -> bool:
    """True when ``text`` is a well-formed DOI (``10.1234/abc``), not a placeholder."""
    return _DOI.fullmatch(text.strip()) is not None


@dataclass(frozen=True)
class Identifier:
    """A DOI, arXiv id or ISBN in its normal form (see :func:`parse_identifier`)."""

    kind: str  # "doi" | "arxiv" | "isbn"
    value: str

    @property
    def key(self) -> str:
        """What two mentions of the same identifier share (DOIs ignore case)."""
        return f"{self.kind}:{self.value.lower()}"

    @property
    def work(self) -> str:
        """What two identifiers of the same work share: ``1605.08386`` and
        ``1605.08386v2`` are one paper (one lookup, one addition)."""
        if self.kind == "arxiv":
            return "arxiv:" + arxiv_base(self.value).lower()
        return self.key

    def __str__(self) -> str:
        return f"{_LABELS[self.kind]} {self.value}"


_LABELS = {"doi": "DOI", "arxiv": "arXiv", "isbn": "ISBN"}

# --- DOIs -------------------------------------------------------------------------------

# The suffix runs to whitespace, quotes, braces (BibTeX) or an angle bracket, except that a
# short ``<...>`` group that is not an HTML tag is kept: SICI DOIs carry them
# (``10.1002/(SICI)1097-4636(199706)35:4<541::AID-JBM12>3.0.CO;2-F``). Both branches
# start on different characters, so matching is linear.
# Typographic quotes and the em dash end a DOI: text set by a word processor puts them
# right after one ("see “10.1038/srep16696”", "10.1002/jor.1100150407—see").
_DOI_SUFFIX = r"""(?:[^\s"<>{}“”‘’«»—]++|<(?![A-Za-z]*>)[^\s"<>{}/“”‘’«»—]{1,40}+>)++"""
_DOI_BODY = rf"10\.\d{{4,9}}(?:\.\d+)*(?:/|%2[Ff]){_DOI_SUFFIX}"
_DOI_IN_TEXT = re.compile(_DOI_BODY)
_DOI_ALONE = re.compile(
    rf"(?:doi\s*:?\s*|(?:https?://)?(?:dx\.|www\.)?doi\.org/)?({_DOI_BODY})", re.IGNORECASE
)
_DOI_VALID = re.compile(r"10\.\d{4,9}(?:\.\d+)*/.*[A-Za-z0-9].*", re.DOTALL)

_TRAILING = frozenset(".,;:!?\"'’”")
_CLOSERS = {")": "(", "]": "[", ">": "<"}


def _strip_trailing(text: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from the end of ``text``."""
    if not text or (text[-1] not in _TRAILING and text[-1] not in _CLOSERS):
        return text
    counts = {c: text.count(c) for c in "()[]<>"}
    end = len(text)
    while end:
        last = text[end - 1]
        if last in _CLOSERS:
            if counts[last] <= counts[_CLOSERS[last]]:
                break
            counts[last] -= 1
        elif last not in _TRAILING:
            break
        end -= 1
    return text[:end]


def _normal_doi(raw: str, in_url: bool) -> str | None:
    """The DOI in ``raw`` (as matched), decoded and trimmed, or None for a placeholder."""
    if "%" in raw:
        in_url = True
        raw = unquote(raw)
    if in_url:
        # A query string or fragment belongs to the link, not to the DOI.
        raw = re.split(r"[?#&]", raw, maxsplit=1)[0]
    raw = raw.replace("\\_", "_")  # BibTeX escapes underscores
    value = _strip_trailing(raw)
    return value if _DOI_VALID.fullmatch(value) else None


# --- arXiv ------------------------------------------------------------------------------

#: Archives of old-style ids (``hep-th/9901001``), including those arXiv has since merged.
_ARCHIVES = (
    "acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg "
    "comp-gas cond-mat cs dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph "
    "mtrl-th nlin nucl-ex nucl-th patt-sol physics plasm-ph q-alg q-bio q-fin quant-ph "
    "solv-int stat supr-con"
).split()
# Longest first so that ``math-ph`` is not read as ``math``.
_ARCHIVE = "|".join(sorted(map(re.escape, _ARCHIVES), key=len, reverse=True))
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = rf"(?:{_ARCHIVE})(?:\.[A-Za-z-]{{2,}})?/\d{{7}}"
_ARXIV_ID = rf"(?:{_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?(?!\d)"
_ARXIV_URL = r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/"
# In free text a new-style id needs its label, an arxiv.org link or an ``eprint`` field:
# without one, ``2019.12345`` is more likely a number. These patterns are tried only where
# the cheap scan in :func:`find_identifiers` has found ``arxiv`` or ``eprint``.
_ARXIV_LABELLED = re.compile(
    rf"(?:(?<![\w.])arXiv\s*:?\s*|arxiv\.org/(?:abs|pdf)/)(?P<id>{_ARXIV_ID})", re.IGNORECASE
)
_ARXIV_EPRINT = re.compile(
    rf"(?<!\w)eprint\s*=\s*[{{\"]?\s*(?:arXiv\s*:\s*)?(?P<id>{_ARXIV_ID})", re.IGNORECASE
)
# An old-style id is found by its ``/`` and seven digits, then its archive is looked for
# just before them: scanning for 38 archive names at every letter would be slow.
_ARXIV_OLD_NUMBER = re.compile(r"/\d{7}(?:[vV]\d+)?(?!\d)")
_ARXIV_OLD_ARCHIVE = re.compile(rf"(?:{_ARCHIVE})(?:\.[A-Za-z-]{{2,}})?", re.IGNORECASE)
_ARCHIVE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-")
_ARXIV_ALONE = re.compile(
    rf"(?:arXiv\s*:?\s*|{_ARXIV_URL})?(?P<id>{_ARXIV_ID})(?:\.pdf)?/?", re.IGNORECASE
)


def _arxiv_dated(arxiv_id: str) -> bool:
    """Months are 01-12; new-style numbers have 4 digits from 0704 to 1412, then 5."""
    if "/" in arxiv_id:
        return 1 <= int(arxiv_id.split("/")[1][2:4]) <= 12
    yymm, number = arxiv_id.lower().partition("v")[0].split(".")
    month_ok = 1 <= int(yymm[2:]) <= 12 and yymm >= "0704"
    return month_ok and (len(number) == 5) == (yymm >= "1501")


_ARXIV_VERSION = re.compile(r"[vV]\d+$")


def arxiv_base(value: str) -> str:
    """The arXiv id without its version: ``2104.12255v1`` -> ``2104.12255``."""
    return _ARXIV_VERSION.sub("", value)


# --- ISBNs ------------------------------------------------------------------------------

_ISBN_BODY = r"(?:97[89][-\s]?)?\d(?:[-\s]?\d){8}[-\s]?[\dXx](?!\w)"
_ISBN_IN_TEXT = re.compile(  # tried where the scan found "isbn" (also eISBN, pISBN)
    rf"ISBN(?:[-\s]?1[03])?\s*[:=]?\s*[{{\"]?\s*(?P<isbn>{_ISBN_BODY})", re.IGNORECASE
)
_ISBN_ALONE = re.compile(rf"(?:ISBN(?:[-\s]?1[03])?\s*:?\s*)?(?P<isbn>{_ISBN_BODY})", re.IGNORECASE)


def isbn13(digits: str) -> str | None:
    """The ISBN-13 of an ISBN-10 or -13 whose checksum holds (hyphens and spaces allowed)."""
    isbn = "".join(digits.split()).replace("-", "").upper()
    if _ISBN10.fullmatch(isbn):
        check = 10 if isbn[9] == "X" else int(isbn[9])
        if (sum(map(mul, range(10, 1, -1), map(int, isbn[:9]))) + check) % 11:
            return None
        isbn = "978" + isbn[:9]
        return isbn + str(-_ean_sum(isbn) % 10)
    # 13 digits: only the book prefixes, so other EAN barcodes are not taken for ISBNs.
    if _ISBN13.fullmatch(isbn) and _ean_sum(isbn) % 10 == 0:
        return isbn
    return None


_ISBN10 = re.compile(r"\d{9}[\dX]")
_ISBN13 = re.compile(r"97[89]\d{10}")


def _ean_sum(digits: str) -> int:
    """The EAN-13 weighted sum (weights 1, 3, 1, 3, ...) of ``digits``."""
    return sum(map(int, digits[::2])) + 3 * sum(map(int, digits[1::2]))


# --- Reading ----------------------------------------------------------------------------


_PAIRS = {"(": ")", "[": "]", "<": ">", '"': '"', "'": "'"}


def parse_identifier(text: str) -> Identifier | None:
    """One identifier typed or pasted alone, in any common form, or None."""
    text = text.strip()
    while len(text) > 1 and _PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()  # (doi:10.1234/abc), <https://...>, "..."
    if match := _DOI_ALONE.fullmatch(text):
        doi = _normal_doi(match[1], in_url=text[: match.start(1)].endswith("/"))
        return Identifier("doi", doi) if doi else None
    text = text.rstrip(".,;")
    if (match := _ARXIV_ALONE.fullmatch(text)) and _arxiv_dated(match["id"]):
        return Identifier("arxiv", match["id"])
    if (match := _ISBN_ALONE.fullmatch(text)) and (isbn := isbn13(match["isbn"])):
        return Identifier("isbn", isbn)
    return None


def _where(text: str, lowered: str, word: str) -> list[int]:
    """Where ``word`` (lowercase ASCII) occurs in ``text`` in any case.

    ``str.find`` on the lowercased text is many times faster than a case-insensitive regex;
    its offsets are the text's unless lowercasing changed the length (as it does for "İ").
    """
    if len(lowered) != len(text):
        return [m.start() for m in re.finditer(re.escape(word), text, re.IGNORECASE)]
    starts: list[int] = []
    start = lowered.find(word)
    while start >= 0:
        starts.append(start)
        start = lowered.find(word, start + 1)
    return starts


def find_identifiers(text: str) -> list[Identifier]:
    """Every identifier in a text, in order of first appearance, each once (by ``key``).

    A bare new-style arXiv id or digit run is only taken with its label (``arXiv:``,
    ``ISBN``), in an arxiv.org link or in a BibTeX ``eprint``/``isbn`` field; old-style
    arXiv ids (``hep-th/9901001``) are distinctive enough to be taken bare.
    """
    found: list[tuple[int, int, Identifier]] = []
    for doi_match in _DOI_IN_TEXT.finditer(text):
        start = doi_match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] in "._"):
            continue  # inside a longer number such as 210.1234/...
        in_url = start > 0 and text[start - 1] in "/="  # doi.org/10..., ?doi=10...
        if doi := _normal_doi(doi_match[0], in_url):
            found.append((start, doi_match.end(), Identifier("doi", doi)))

    lowered = text.lower()
    for pattern, word in ((_ARXIV_LABELLED, "arxiv"), (_ARXIV_EPRINT, "eprint")):
        for start in _where(text, lowered, word):
            if (match := pattern.match(text, start)) and _arxiv_dated(match["id"]):
                found.append((*match.span("id"), Identifier("arxiv", match["id"])))
    for number in _ARXIV_OLD_NUMBER.finditer(text):
        start = slash = number.start()
        while start > 0 and slash - start < 30 and text[start - 1] in _ARCHIVE_CHARS:
            start -= 1
        if start and (text[start - 1].isalnum() or text[start - 1] in "_/"):
            continue  # part of a longer word or path: .../cs/0101001
        if _ARXIV_OLD_ARCHIVE.fullmatch(text, start, slash):
            old = text[start : number.end()]
            if _arxiv_dated(old):
                found.append((start, number.end(), Identifier("arxiv", old)))
    for start in _where(text, lowered, "isbn"):
        if (match := _ISBN_IN_TEXT.match(text, start)) and (isbn := isbn13(match["isbn"])):
            found.append((*match.span("isbn"), Identifier("isbn", isbn)))

    found.sort(key=itemgetter(0))
    result: list[Identifier] = []
    seen: set[str] = set()
    covered = 0  # end of the last identifier taken: nothing inside it counts again
    for start, end, identifier in found:
        if start < covered or identifier.key in seen:
            continue
        seen.add(identifier.key)
        result.append(identifier)
        covered = end
    return result


def identifiers_in(text: str) -> list[Identifier]:
    """Every identifier in what a person typed or pasted, each once: those
    :func:`find_identifiers` sees in running text, then lines that are one identifier alone
    (a bare ``1605.08386`` or ISBN, which running text does not count)."""
    found: dict[str, Identifier] = {}
    for ident in find_identifiers(text):
        found.setdefault(ident.key, ident)
    for line in text.splitlines():
        line = line.strip()
        if line and len(line) < 200 and not any(c.isspace() for c in line):
            alone = parse_identifier(line)
            if alone is not None:
                found.setdefault(alone.key, alone)
    return list(found.values())
