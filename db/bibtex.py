"""Reading and writing BibTeX text: files in any common encoding, blocks, entry layout.

Entries are kept as bibtexparser gives them with an empty parse stack: every field value is
the raw text from the file (delimiters, ``#`` joins and macro names included), and the
entry's own text is kept for a byte-for-byte export while it is not edited.
"""

from __future__ import annotations

import bisect
import codecs
import itertools
import logging
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bibtexparser import model
from bibtexparser.entrypoint import parse_string

from . import bibfast, bibsplit, bibvalue
from .bibsplit import BIBTEX_START, BLOCK_START
from .errors import BibFileError
from .latex import collapse_space, latex_to_unicode
from .names import Person, parse_names

# Fields whose text is taken literally by LaTeX's url package and biber: never escaped.
VERBATIM_FIELDS = frozenset(
    {"url", "doi", "eprint", "file", "pdf", "verba", "verbb", "verbc", "code", "urlraw"}
)

# The layout of an edited entry: these first, in this order, then the rest as they came.
FIELD_ORDER = [
    "author",
    "editor",
    "title",
    "subtitle",
    "shorttitle",
    "booktitle",
    "journal",
    "journaltitle",
    "series",
    "volume",
    "number",
    "pages",
    "chapter",
    "edition",
    "publisher",
    "school",
    "institution",
    "organization",
    "address",
    "location",
    "howpublished",
    "year",
    "month",
    "date",
    "doi",
    "eprint",
    "eprinttype",
    "archiveprefix",
    "eprintclass",
    "primaryclass",
    "url",
    "urldate",
    "isbn",
    "issn",
    "crossref",
    "xdata",
    "ids",
    "keywords",
    "abstract",
    "note",
]
_ORDER_INDEX = {name: i for i, name in enumerate(FIELD_ORDER)}

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
class ParsedEntry:
    """One entry as found in a file."""

    key: str
    entry_type: str
    fields: list[tuple[str, str]]
    source: str
    file: str
    line: int
    #: Where ``source`` starts in the text read (-1: not known), and the text between the
    #: item before it (or the start of the text) and it: see :attr:`ParsedFile.items`.
    start: int = -1
    lead: str = ""


@dataclass
class ParsedBlock:
    """A @string, @preamble or @comment block."""

    kind: str
    name: str | None
    value: str
    source: str
    start: int = -1
    lead: str = ""


@dataclass
class Failure:
    """A part of a file that could not be read as BibTeX: where it is and why."""

    file: str
    line: int
    message: str
    key: str | None = None
    #: What kind of problem, for programs: "binary", "empty", "no-entries" or None.
    code: str | None = None

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
    #: Things read but worth telling (a field given twice, lines not in the file's encoding).
    warnings: list[Failure] = field(default_factory=list)
    #: Entries and blocks in the order of the text. Each item's ``lead`` is the text before
    #: it since the item before (comments, blank lines, entries that failed or repeat a
    #: key), and ``tail`` the text after the last: leads, sources and tail joined are the
    #: text read, exactly (line ends as ``\n``), which is what a whole-file export writes.
    items: list[ParsedEntry | ParsedBlock] = field(default_factory=list)
    tail: str = ""
    #: The lines (first, last) of binary junk between entries, warned about as such.
    binary_lines: list[tuple[int, int]] = field(default_factory=list, repr=False, compare=False)

    def add_entry(self, entry: ParsedEntry) -> None:
        self.entries.append(entry)
        self.items.append(entry)

    def add_block(self, block: ParsedBlock) -> None:
        self.blocks.append(block)
        self.items.append(block)


# bibtexparser logs every block it gives up on to stderr; each one is reported as a Failure
# instead (with a clearer message), so only its errors (bugs) are let through.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Text and encoding name of a .bib file's bytes: BOMs, UTF-16 without BOM, UTF-8, Latin-1."""
    text, encoding, _ = decode_bytes_report(data)
    return text, encoding


def decode_lines(data: bytes) -> tuple[str, list[int], bool]:
    """Text of a piece of a UTF-8 file, lines that are not UTF-8 read as Windows-1252.

    Returns the text, the lines (1-based in the piece) read as Windows-1252, and whether a
    line with UTF-8 beyond ASCII was seen. The importer decodes each chunk of a file with it
    and decode_bytes_report a whole file, so both read a file the same way.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return text, [], not data.isascii()
    pieces: list[str] = []
    bad: list[int] = []
    utf8_seen = False
    pos = 0
    number = 1
    for m in (*_LINE_BREAK.finditer(data), None):
        end = m.start() if m is not None else len(data)
        line = data[pos:end]
        try:
            piece = line.decode("utf-8")
            utf8_seen |= not line.isascii()
        except UnicodeDecodeError:
            piece = line.decode("cp1252", errors=C1)
            bad.append(number)
        pieces.append(piece)
        if m is not None:
            pieces.append(m.group(0).decode("ascii"))
            pos = m.end()
            number += 1
    return "".join(pieces), bad, utf8_seen


def decode_bytes_report(data: bytes) -> tuple[str, str, list[int]]:
    """Like :func:`decode_bytes`, with the lines (1-based) that were not in the file's encoding.

    A UTF-8 file (with or without BOM) whose few lines are Latin-1 keeps its UTF-8 text and
    reads only those lines as Windows-1252, rather than garbling every accent in the file.
    """
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace"), "utf-16", []
    else:
        sample = data[:4096]
        if len(sample) >= 4:
            even_nuls = sample[0::2].count(0)
            odd_nuls = sample[1::2].count(0)
            half = len(sample) / 2
            if odd_nuls > 0.4 * half and even_nuls < 0.1 * half:
                return data.decode("utf-16-le", errors="replace"), "utf-16-le", []
            if even_nuls > 0.4 * half and odd_nuls < 0.1 * half:
                return data.decode("utf-16-be", errors="replace"), "utf-16-be", []
    text, bad, utf8_seen = decode_lines(data)
    if not bad:
        return text, "utf-8-sig" if bom else "utf-8", []
    if not utf8_seen and not bom:
        # No UTF-8 at all: a plain Windows-1252 / Latin-1 file, nothing to warn about.
        return data.decode("cp1252", errors=C1), "cp1252", []
    return text, "utf-8-sig+cp1252" if bom else "utf-8+cp1252", bad


#: The bytes Windows-1252 leaves undefined: decoding reads each as the C1 control character
#: of the same number (see :data:`C1`).
_UNDEFINED_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


def _c1_character(exc: UnicodeError) -> tuple[str, int]:
    """Read a byte Windows-1252 leaves undefined as the C1 control character of its number,
    as Latin-1 does, so nothing is lost (U+FFFD would lose which byte it was)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("latin-1"), exc.end


#: The error handler that decodes Windows-1252 without loss (see :func:`_c1_character`).
C1 = "citedesk-c1-decode"
codecs.register_error(C1, _c1_character)


def undefined_bytes(
    data: bytes, lines: Collection[int] | None = None
) -> list[tuple[int, int, int]]:
    """(line, column, byte) of each byte Windows-1252 does not define in ``data``.

    Only in ``lines`` (1-based), those :func:`decode_lines` read as Windows-1252, or in
    every line when None (a file read as Windows-1252 whole). Such a byte becomes the C1
    control character of its number (U+0081 for 0x81), which an export that keeps the
    file's encoding writes back as the byte:
    :func:`parse_text` (its ``undefined``) says where, with the byte, so nothing is lost
    without a word. The importer decodes a chunk with decode_lines, then passes
    ``undefined_bytes(chunk, bad_lines)`` on to parse_text.
    """
    if (lines is not None and not lines) or _UNDEFINED_CP1252.search(data) is None:
        return []
    wanted = None if lines is None else set(lines)
    out: list[tuple[int, int, int]] = []
    number, pos = 1, 0
    for m in itertools.chain(_LINE_BREAK.finditer(data), (None,)):
        end = len(data) if m is None else m.start()
        if wanted is None or number in wanted:
            out.extend(
                (number, u.start() - pos, data[u.start()])
                for u in _UNDEFINED_CP1252.finditer(data, pos, end)
            )
        if m is None:
            break
        pos = m.end()
        number += 1
    return out


def read_bib_file(path: str | os.PathLike[str]) -> tuple[str, str]:
    text, encoding, _, _ = _read_report(path)
    return text, encoding


def _read_report(
    path: str | os.PathLike[str],
) -> tuple[str, str, list[int], list[tuple[int, int, int]]]:
    """A file's text, its encoding, the lines read as Windows-1252 in a UTF-8 file and the
    bytes Windows-1252 does not define (see :func:`undefined_bytes`)."""
    p = Path(path)
    if not p.exists():
        raise BibFileError(f"{p}: no such file")
    if p.is_dir():
        raise BibFileError(f"{p}: is a directory, not a .bib file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise BibFileError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    except MemoryError:
        raise BibFileError(f"{p}: is too large to read ({p.stat().st_size} bytes)") from None
    text, encoding, bad_lines = decode_bytes_report(data)
    undefined: list[tuple[int, int, int]] = []
    if encoding == "cp1252":
        undefined = undefined_bytes(data)
    elif encoding.endswith("+cp1252"):
        bom = encoding.startswith("utf-8-sig")
        undefined = undefined_bytes(data[len(codecs.BOM_UTF8) :] if bom else data, bad_lines)
    # Line ends: CR-only files (old Mac) would otherwise count as one line.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding, bad_lines, undefined


#: Characters that never occur in a text file; a share of them marks binary data.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
#: Field names, entry types and keys bibtexparser accepted but BibTeX would not read that
#: way: a name holding spaces or ``%`` comes from a comment line it did not recognise.
_FIELD_NAME = re.compile(r"[^\s\"#%'(),={}]+")
_ENTRY_TYPE = re.compile(r"(?!\d)\w+")  # (BibTeX's types start with no digit)
_KEY = re.compile(r"[^\s,{}\"=]*")
_LINE_START_BLOCK = re.compile(r"(?:^|\n)[ \t]*@[A-Za-z]{2,}[ \t]*[{(]")
#: The ``@type`` of a block start (bibtexparser's), as a failed block's text may end in it.
_HEAD = re.compile(r"@\w*[ \t]*")


def _explain(error: object, followed: bool = False) -> str:
    """bibtexparser's reason for giving up on a block, in words a person can act on.

    ``followed``: the text read goes on with a block start (see bibsplit.read_block), so
    its end is where the next entry starts, worded as when the whole text is read.
    """
    reason = collapse_space(str(getattr(error, "abort_reason", "") or error or ""))
    reason = reason.replace("`", "'")
    if not reason:
        return "not valid BibTeX"
    if reason.startswith("Unexpectedly reached end of file"):
        if followed:
            return "the entry is not closed before the next entry starts"
        return "the file ends before this entry is closed (a '}' is missing)"
    rules = [
        (
            r"Unexpected block start: '@\w*[ \t]*'\. Was still looking for .*",
            "the entry is not closed before the next entry starts",
        ),
        (
            r"Expected a '=' after entry key '(.*)', but found the end of the entry.*",
            "field {0} has no '=' and no value",
        ),
        (
            r"Expected a '=' after entry key,? but found '(.*)'\.?",
            "expected '=' after a field name, found '{0}'",
        ),
        (
            r"Expected comma after entry key, but found (.*)",
            "a comma is missing after the citation key (found '{0}')",
        ),
        (
            r"Expected equals sign after field key, but found (.*)",
            "@string: expected '=' after the macro name, found '{0}'",
        ),
        (
            r"Expected either a ',' or '(.)' after a closed entry field value, but found a (.*) "
            r"before\.",
            "a comma is missing after a field value (found '{1}')",
        ),
    ]
    for pattern, message in rules:
        m = re.fullmatch(pattern, reason)
        if m:
            return message.format(*(g.strip()[:40] for g in m.groups()))
    return reason[:300]


#: Field names _FIELD_NAME has accepted (a file uses a few dozen): short ones, and so many.
_KNOWN_FIELD_NAMES: set[str] = set()


def _field_names_ok(names: list[str]) -> bool:
    """Every name matches _FIELD_NAME; names seen before are looked up, not matched again."""
    if _KNOWN_FIELD_NAMES.issuperset(names):
        return True
    if not all(_FIELD_NAME.fullmatch(name) for name in names):
        return False
    if len(_KNOWN_FIELD_NAMES) < 4096:
        _KNOWN_FIELD_NAMES.update(name for name in names if len(name) <= 64)
    return True


#: The bytes of _CONTROL's characters but U+FFFD in UTF-8 (all below 0x80): the others go.
_NOT_CONTROL_BYTES = bytes(
    b for b in range(256) if not (b <= 8 or b == 0x0B or 0x0E <= b <= 0x1F or b == 0x7F)
)


def _control_count(text: str) -> int:
    """``len(_CONTROL.findall(text))``, with bytes methods that run 10x faster than it."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _NOT_CONTROL_BYTES)) + data.count("\ufffd".encode())


class _Lines:
    """Offsets of line starts, found on demand and in order (only failures need them)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line = 0
        self.pos = 0

    def offset(self, line: int) -> int:
        if line < self.line:
            self.line, self.pos = 0, 0
        while self.line < line:
            j = self.text.find("\n", self.pos)
            if j < 0:
                break
            self.pos = j + 1
            self.line += 1
        return self.pos


def _add_entry(
    result: ParsedFile,
    seen: dict[str, int],
    key: str,
    entry_type: str,
    fields: list[tuple[str, str]],
    source: str,
    line: int,
    start: int = -1,
) -> None:
    """Add an entry read, unless an entry taken before has its key (as written)."""
    first = seen.get(key)
    if first is not None:
        result.failures.append(
            Failure(
                result.path,
                line,
                f"duplicate key {key!r}: the entry on line {first} already "
                "has it; this one was not imported",
                key,
            )
        )
        return
    seen[key] = line
    result.add_entry(ParsedEntry(key, entry_type.lower(), fields, source, result.path, line, start))
    if len({k.lower() for k, _ in fields}) != len(fields):
        names = [k.lower() for k, _ in fields]
        twice = sorted({n for n in names if names.count(n) > 1})
        what = f"fields {', '.join(twice)} are" if len(twice) > 1 else f"field {twice[0]} is"
        result.warnings.append(
            Failure(result.path, line, f"{what} given more than once; BibTeX uses the first", key)
        )


class _TextReader:
    """parse_text's state: bibtexparser's blocks, with bibsplit for those it gets wrong."""

    def __init__(
        self,
        text: str,
        result: ParsedFile,
        first_line: int,
        followed: bool = False,
        seen: dict[str, int] | None = None,
        base: int = 0,
    ) -> None:
        self.text = text
        self.base = base  # offset of ``text`` in the whole text parse_text reads
        self.seen = {} if seen is None else seen  # key -> line of the entry taken with it
        self.followed = followed  # see bibsplit.read_block
        self.result = result
        self.name = result.path
        self.first_line = first_line
        self.lines = _Lines(text)
        self.last_offset = 0
        self.last_end = 0  # where the last block located ends
        self.here: int | None = None  # offset of the block being read
        #: After bibsplit read a block, bibtexparser's blocks before this offset are fragments.
        self.resume: int | None = None
        self.resume_line = 0
        #: How far our reader went in blocks it found invalid: blocks that start inside that
        #: span get bibtexparser's word only, so hostile input cannot make the work quadratic.
        self.failed_to = 0
        #: Where the text between blocks (a comment to BibTeX) now runs from: the end of the
        #: last block, entry or failed block read. Binary junk in it gets a warning.
        self.comment_from = 0
        self.counted = 0  # self.text up to here has self.counted_lines line ends
        self.counted_lines = 0

    def took(self, start: int, end: int) -> None:
        """A block, entry or failed block is at ``text[start:end]`` (offsets in the whole
        text); the text since the one before it is a comment."""
        start -= self.base
        if start < 0:
            return  # not located
        if start > self.comment_from:
            self.binary_check(self.comment_from, start)
        self.comment_from = max(self.comment_from, end - self.base)

    def finish(self) -> None:
        self.took(self.base + len(self.text), self.base + len(self.text))

    def locate(self, block: model.Block) -> int | None:
        """Offset of a bibtexparser block in the text (it gives only a line)."""
        raw = block.raw or ""
        if not raw:
            return None
        line_start = self.lines.offset(block.start_line or 0)
        # Blocks come in order: look past the last one first (its raw text may repeat in
        # it), then from its start (a block can begin on the mark that ended the last).
        at = self.text.find(raw, max(line_start, self.last_end))
        if at < 0:
            at = self.text.find(raw, max(line_start, self.last_offset))
        if at < 0:
            at = self.text.find(raw, line_start)
        if at >= 0:
            end = at + len(raw)
            if type(block) is model.ParsingFailedBlock:
                # Its text may end in the head of the block start that ended it: that block
                # starts there, not after it.
                k = raw.rfind("@")
                if k > 0 and _HEAD.fullmatch(raw, k):
                    end = at + k
            self.last_offset, self.last_end = at, end
        return at if at >= 0 else None

    def read(self, blocks: list[model.Block]) -> None:
        for block in blocks:
            line = (block.start_line or 0) + self.first_line
            # Every block is located, so that the next is looked for past it (see locate).
            self.here = at = self.locate(block)
            if self.resume is not None:
                if at is None:
                    at = self.resume
                while self.resume is not None and self.resume <= at:
                    # Text between the end of what bibsplit read and bibtexparser's next block:
                    # a piece of an aborted block may have hidden real blocks there.
                    start, start_line = self.resume, self.resume_line
                    self.region(start, at, start_line)
                if self.resume is not None:
                    continue  # a piece of a block bibsplit has read whole
            self.block(block, line)
        if self.resume is not None:
            self.region(self.resume, len(self.text), self.resume_line)
        self.finish()

    def block(self, block: model.Block, line: int) -> None:
        raw = block.raw or ""
        if (
            "\\" in raw
            and ("\\{" in raw or "\\}" in raw)
            and not isinstance(block, model.ImplicitComment)
        ):
            # bibtexparser takes a brace after a backslash as escaped; BibTeX counts it.
            self.fallback(block, line)
            return
        # (Most blocks are entries: the type test spares them an ABC isinstance check.)
        if (
            type(block) is not model.Entry
            and isinstance(block, model.DuplicateFieldKeyBlock)
            and block.ignore_error_block
        ):
            block = block.ignore_error_block  # BibTeX reads it, using the first of each field
        if isinstance(block, model.Entry):
            keys = [f.key for f in block.fields]
            values = [f.value for f in block.fields]
            if (
                _ENTRY_TYPE.fullmatch(block.entry_type)
                and _KEY.fullmatch(block.key)
                and _field_names_ok(keys)
                and all(map(bibvalue.is_well_formed, values))
            ):
                self.entry(
                    block.key,
                    block.entry_type,
                    list(zip(keys, values, strict=True)),
                    *self.located(block.raw),
                    line,
                )
            else:
                self.fallback(block, line)
        elif isinstance(block, model.String):
            if _FIELD_NAME.fullmatch(block.key) and bibvalue.is_well_formed(block.value):
                self.add_block(
                    ParsedBlock("string", block.key, block.value, *self.located(block.raw))
                )
            else:
                self.fallback(block, line)
        elif isinstance(block, model.Preamble):
            if bibvalue.is_well_formed(block.value.strip()):
                self.add_block(ParsedBlock("preamble", None, block.value, *self.located(block.raw)))
            else:
                self.fallback(block, line)
        elif isinstance(block, model.ExplicitComment):
            self.add_block(ParsedBlock("comment", None, block.comment, *self.located(block.raw)))
        elif isinstance(block, model.ImplicitComment):
            self.comment(raw, line)
        elif isinstance(block, model.DuplicateBlockKeyBlock):
            # A macro defined again: the importer compares the two. An entry: entry() says
            # whether an entry it took has the key (bibtexparser also counts entries that
            # were rejected, such as one in a commented-out copy).
            if block.ignore_error_block is not None:
                self.block(block.ignore_error_block, line)
        elif isinstance(block, model.ParsingFailedBlock):
            self.fallback(block, line)

    def located(self, raw: str | None) -> tuple[str, int]:
        """A block's text stripped, and where it starts in the whole text (-1: unknown)."""
        raw = raw or ""
        source = raw.strip()
        if self.here is None:
            return source, -1
        return source, self.base + self.here + len(raw) - len(raw.lstrip())

    def entry(
        self,
        key: str,
        entry_type: str,
        fields: list[tuple[str, str]],
        source: str,
        start: int,
        line: int,
    ) -> None:
        _add_entry(self.result, self.seen, key, entry_type, fields, source, line, start)
        self.took(start, start + len(source))

    def add_block(self, block: ParsedBlock) -> None:
        self.result.add_block(block)
        self.took(block.start, block.start + len(block.source))

    def fallback(self, block: model.Block, line: int) -> None:
        """A block bibtexparser rejected or misread: read it by BibTeX's own rules."""
        at = self.here
        if at is None or at < self.failed_to:
            key = getattr(block, "key", None)
            if key is None:
                m = re.match(r"@\w+\s*[{(]\s*([^,\s]{1,80})\s*,", block.raw or "")
                key = m.group(1) if m else None
            self.result.failures.append(
                Failure(
                    self.name, line, _explain(getattr(block, "error", None), self.followed), key
                )
            )
            return
        item = bibsplit.read_block(self.text, at, line, followed=self.followed)
        self.add(item)
        if isinstance(item, bibsplit.Block):
            self.resume = item.end
            self.resume_line = line + self.text.count("\n", at, item.end)

    def region(self, start: int, end: int, line: int) -> None:
        """Blocks bibtexparser lost inside pieces of a block bibsplit read whole."""
        self.resume = None
        gap_end = max(start, end)
        for item in bibsplit.split(self.text, start, gap_end, line, followed=self.followed):
            self.add(item)
            if item.end > gap_end and isinstance(item, bibsplit.Block):
                self.resume = item.end
                self.resume_line = item.line + self.text.count("\n", item.start, item.end)

    def add(self, item: bibsplit.Block | bibsplit.Problem) -> None:
        result, name = self.result, self.name
        if isinstance(item, bibsplit.Problem):
            self.failed_to = max(self.failed_to, item.end)
            self.took(self.base + item.start, self.base + item.end)
            message = item.message
            if _CONTROL.search(self.text, item.start, min(item.end + 1, len(self.text))):
                message = "binary data (not text) inside this block: " + message
            key = item.key if item.key is None or len(item.key) <= 80 else item.key[:80] + "…"
            result.failures.append(Failure(name, item.line, message, key))
            return
        raw = self.text[item.start : item.end]
        source = raw.strip()
        start = self.base + item.start + len(raw) - len(raw.lstrip())
        if item.kind == "entry":
            self.entry(item.key or "", item.entry_type, item.fields, source, start, item.line)
        else:
            self.add_block(ParsedBlock(item.kind, item.key, item.value, source, start))
        if item.had_comments:
            result.warnings.append(
                Failure(
                    name,
                    item.line,
                    "has '%' comment lines inside; they were left out of the "
                    "fields (BibTeX itself would reject them; biber skips them)",
                    item.key if item.kind == "entry" else None,
                )
            )

    def comment(self, raw: str, line: int) -> None:
        """Text bibtexparser found no block in: blocks BibTeX starts there are read.

        bibtexparser sees a block start only in ``@type{`` with blanks at most between;
        BibTeX also in ``@ type{``, ``@type`` and ``{`` on the next line, and in types with
        characters other than letters and digits (``@www-inproceedings{``).
        """
        at = self.here
        if at is not None and "@" in raw:
            start = max(at, self.failed_to)
            m = bibsplit.find_start(self.text, start, at + len(raw))
            if m is not None:
                self.region(m.start(), at + len(raw), line + self.text.count("\n", at, m.start()))

    def binary_check(self, start: int, end: int) -> None:
        """Text between blocks is a comment; binary junk there is worth a word."""
        marks = [m.start() for m in _CONTROL.finditer(self.text, start, end)]
        if len(marks) >= 4:
            self.counted_lines += self.text.count("\n", self.counted, marks[0])
            self.counted = marks[0]
            first = self.first_line + self.counted_lines
            last = first + self.text.count("\n", marks[0], marks[-1])
            where = f"lines {first}-{last} hold" if last > first else f"line {first} holds"
            self.result.binary_lines.append((first, last))
            self.result.warnings.append(
                Failure(
                    self.name,
                    first,
                    f"{where} binary data (not text) between entries; it was skipped",
                )
            )


#: Read plain entries with :mod:`db.bibfast` and only the rest with bibtexparser (tests
#: turn it off to compare the two readers).
FAST_ENTRIES = True


def _read_with_bibtexparser(
    text: str,
    result: ParsedFile,
    first_line: int,
    followed: bool = False,
    seen: dict[str, int] | None = None,
    base: int = 0,
) -> None:
    reader = _TextReader(text, result, first_line, followed, seen, base)
    try:
        blocks = parse_string(text, parse_stack=[]).blocks
    except Exception as exc:  # a bug in bibtexparser: read the text with our own reader
        result.warnings.append(
            Failure(
                result.path,
                0,
                f"bibtexparser could not read this file ({type(exc).__name__}); "
                "Citedesk's own BibTeX reader was used",
            )
        )
        reader.region(0, len(text), first_line)
        reader.finish()
        return
    reader.read(blocks)


def _read_plain_first(text: str, result: ParsedFile, first_line: int) -> None:
    """Plain entries by :func:`db.bibfast.scan`, the text between them by bibtexparser.

    The entries bibfast reads pass the same checks as bibtexparser's (else they are left to
    it), and all of them share one record of the keys taken, so duplicates are found across
    the pieces too.
    """
    seen: dict[str, int] = {}
    line, counted, pos = first_line, 0, 0

    def line_at(offset: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, offset)
        counted = offset
        return line

    def others(start: int, end: int) -> None:
        gap = text[start:end]
        if not gap.isspace() or _CONTROL.search(gap):  # (\x1c-\x1f are white space)
            _read_with_bibtexparser(
                text[start:end], result, line_at(start), end < len(text), seen, start
            )

    for plain in bibfast.scan(text):
        if not (
            _ENTRY_TYPE.fullmatch(plain.entry_type)
            and _KEY.fullmatch(plain.key)
            and _field_names_ok([n for n, _ in plain.fields])
            and all(bibvalue.is_well_formed(v) for _, v in plain.fields)
        ):
            continue  # bibtexparser's, with the text around it
        if plain.start > pos:
            others(pos, plain.start)
        _add_entry(
            result,
            seen,
            plain.key,
            plain.entry_type,
            plain.fields,
            text[plain.start : plain.end],
            line_at(plain.start),
            plain.start,
        )
        pos = plain.end
    if pos < len(text):
        others(pos, len(text))


def parse_text(
    text: str,
    name: str = "<text>",
    encoding: str = "utf-8",
    *,
    first_line: int = 1,
    undefined: Iterable[tuple[int, int, int]] = (),
) -> ParsedFile:
    """Split BibTeX text into entries, blocks and failures (with 1-based line numbers).

    Never raises on bad input: whatever cannot be read is a :class:`Failure` saying what and
    on which line. bibtexparser reads the text; the blocks it rejects or misreads (valid
    BibTeX it does not know, see :mod:`db.bibsplit`) are read again by BibTeX's own rules.
    ``first_line`` is the line number of the text's first line (for chunks of a file).
    The checks of a whole file (empty, binary, no entries) are made only on its first chunk.
    NUL characters are left out (a library cannot hold them), with a warning for each line
    that had them; so are the bytes decoding found undefined, ``undefined`` as
    :func:`undefined_bytes` gives them (lines counted from the text's first).
    """
    result = ParsedFile(path=name, encoding=encoding)
    nuls: list[int] = []
    if "\x00" in text:
        text, nuls = _without_nuls(text)
    elif "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    whole = first_line == 1
    if not text or text.isspace():
        if whole:
            result.failures.append(
                Failure(name, 0, "is empty: there is nothing to import", code="empty")
            )
        return result
    sample = text[:65536]
    if (
        whole
        and _control_count(sample) > 0.05 * len(sample)
        and not _LINE_START_BLOCK.search(sample)
    ):
        # Many control characters and no line starting an entry: not a .bib file at all.
        # (Binary junk amid entries is skipped between them, with a warning.)
        result.failures.append(
            Failure(
                name,
                0,
                "holds binary data, not BibTeX text (is it the right file?); nothing was read",
                code="binary",
            )
        )
        return result
    if FAST_ENTRIES:
        _read_plain_first(text, result, first_line)
    else:
        _read_with_bibtexparser(text, result, first_line)
    if (
        whole
        and not (result.entries or result.blocks or result.failures)
        and not BLOCK_START.search(text)
        and not BIBTEX_START.search(text)
    ):
        result.failures.append(
            Failure(
                name,
                0,
                "holds no BibTeX entries: no '@type{' anywhere (is it a .bib file?)",
                code="no-entries",
            )
        )
    _lay_out(result, text)
    if (nuls or undefined) and not any(f.code == "binary" for f in result.failures):
        result.warnings[:0] = _decoding_warnings(result, text, first_line, nuls, undefined)
    return result


def _without_nuls(text: str) -> tuple[str, list[int]]:
    """The text without its NUL characters, line ends made ``\n``, and where each NUL was."""
    pieces = text.split("\x00")
    text = "".join(pieces)
    at = list(itertools.accumulate(len(piece) for piece in pieces[:-1]))
    if "\r" in text:
        crlf = [m.start() for m in re.finditer("\r\n", text)]
        at = [k - bisect.bisect_left(crlf, k - 1) for k in at]
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, at


#: Lines a decoding warning is given for, of each kind; one more tells how many others.
_DECODING_WARNINGS = 10


# The marks of one line: (offset in the text, byte value; 0 for a NUL).
_Marks = list[tuple[int, int]]


def _decoding_warnings(
    result: ParsedFile,
    text: str,
    first_line: int,
    nuls: list[int],
    undefined: Iterable[tuple[int, int, int]],
) -> list[Failure]:
    """Warnings for the NULs left out and the undefined bytes read as C1 characters, per
    line."""
    starts = [i.start for i in result.items]
    lines = _Lines(text)

    def key_at(offset: int) -> str | None:
        n = bisect.bisect_right(starts, offset) - 1
        item = result.items[n] if n >= 0 else None
        if isinstance(item, ParsedEntry) and offset < item.start + len(item.source):
            return item.key
        return None

    junk = sorted(result.binary_lines)

    def in_junk(line: int, offset: int) -> bool:
        """Within binary junk between entries, which a warning says was skipped."""
        n = bisect.bisect_right(junk, line, key=lambda span: span[0]) - 1
        return n >= 0 and line <= junk[n][1] and key_at(offset) is None

    def warn(found: dict[int, _Marks], what: str, message: Callable[[_Marks], str]) -> None:
        for n, (line, marks) in enumerate(sorted(found.items())):
            if n == _DECODING_WARNINGS:
                rest = len(found) - n
                out.append(
                    Failure(
                        result.path,
                        line,
                        f"and {rest} more line{'s' if rest > 1 else ''} with {what}",
                    )
                )
                break
            out.append(Failure(result.path, line, message(marks), key_at(marks[0][0])))

    out: list[Failure] = []
    by_line: dict[int, _Marks] = {}
    if nuls:
        counted, line = 0, first_line
        for k in nuls:
            line += text.count("\n", counted, k)
            counted = k
            if not in_junk(line, k):
                by_line.setdefault(line, []).append((k, 0))
        warn(
            by_line,
            "NUL bytes left out",
            lambda marks: (
                "holds a NUL byte (0x00), which was left out"
                if len(marks) == 1
                else f"holds {len(marks)} NUL bytes (0x00), which were left out"
            ),
        )
    by_line = {}
    for line, column, byte in undefined:
        offset = min(lines.offset(line - 1) + column, len(text))
        if not in_junk(first_line + line - 1, offset):
            by_line.setdefault(first_line + line - 1, []).append((offset, byte))
    if by_line:

        def undefined_message(marks: _Marks) -> str:
            shown = ", ".join(dict.fromkeys(f"0x{b:02X}" for _, b in marks))
            one = len(marks) == 1
            chars = ", ".join(dict.fromkeys(f"U+{b:04X}" for _, b in marks))
            return (
                f"byte{'' if one else 's'} {shown} {'is' if one else 'are'} not "
                f"defined in Windows-1252, which this line was read as; kept as "
                f"{'the control character' if one else 'control characters'} {chars}, "
                f"written back as {'that byte' if one else 'those bytes'} when the "
                "file's encoding is kept"
            )

        warn(by_line, "bytes not defined in Windows-1252", undefined_message)
    out.sort(key=lambda f: f.line)
    return out


def _lay_out(result: ParsedFile, text: str) -> None:
    """Give each item its lead and the file its tail (see :attr:`ParsedFile.items`).

    Items know where they start; one that does not (a reader that lost its place) is looked
    for after the item before it.
    """
    pos = 0
    for item in result.items:
        start = item.start
        if start < pos or not text.startswith(item.source, start):
            start = text.find(item.source, pos)
            if start < 0:  # never seen; its text stays in the lead of what follows
                item.start, item.lead = -1, ""
                continue
            item.start = start
        item.lead = text[pos:start]
        pos = start + len(item.source)
    result.tail = text[pos:]


def parse_file(path: str | os.PathLike[str]) -> ParsedFile:
    text, encoding, bad_lines, undefined = _read_report(path)
    parsed = parse_text(text, str(path), encoding, undefined=undefined)
    if bad_lines and not any(f.code == "binary" for f in parsed.failures):
        shown = ", ".join(str(n) for n in bad_lines[:10])
        more = f" and {len(bad_lines) - 10} more" if len(bad_lines) > 10 else ""
        parsed.warnings.insert(
            0,
            Failure(
                str(path),
                bad_lines[0],
                f"line{'s' if len(bad_lines) > 1 else ''} {shown}{more} "
                "not in UTF-8 like the rest of the file; read as Windows-1252 (Latin-1)",
            ),
        )
    return parsed


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


def text_of(raw: str | None, macros: Mapping[str, str] | None) -> str:
    if raw is None:
        return ""
    n = len(raw)
    if n > 1 and raw[0] == "{" and raw[-1] == "}":
        # The usual value, one braced group: its text is what is inside (what evaluate
        # would find, without its second look). (A search for one character is a memchr;
        # for two it is some 20 times slower.)
        body = raw[1:-1]
        if not ("\\" in body or "{" in body or "}" in body):
            if not ("~" in body or ("-" in body and "--" in body)):
                return collapse_space(body)  # nothing to decode either
            return collapse_space(latex_to_unicode(body))
        if bibvalue.braced_end(raw) == n - 1:
            return collapse_space(latex_to_unicode(body))
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
    title = text_of(get("title"), macros)
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
        abstract=text_of(get("abstract"), macros),
        keywords=text_of(get("keywords"), macros),
        category=category,
    )


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


def atomic_write(path: str | os.PathLike[str], text: str | bytes, encoding: str = "utf-8") -> None:
    """Write a file so that readers see the old content or the new, never a part.

    ``text`` may be already encoded, so a caller that compared bytes need not encode twice.
    """
    with atomic_writer(path, encoding) as fh:
        if isinstance(text, bytes):
            fh.buffer.write(text)
        else:
            fh.write(text)


@contextmanager
def atomic_writer(path: str | os.PathLike[str], encoding: str = "utf-8") -> Iterator[TextIO]:
    """A file to write a piece at a time (a large export), replacing ``path`` only when done.

    Readers see the old content or the new, never a part: the text goes to a temporary file
    beside the target, is flushed to disk, then renamed over it. If the ``with`` block
    raises, the target is left as it was.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
            yield fh
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
