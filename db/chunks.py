"""Reading .bib files for an import: whole files cut into chunks that parse on their own.

A file is read as bytes and cut into chunks of about 1 MB, only before a line that starts
a block (``@type{`` or ``@type(``) and only where the braces counted since the chunk began
are balanced. bibtexparser itself starts a new block at every such line, so a cut never
splits an entry, a braced value or a comment, and memory stays bounded whatever the size of
the file. Cuts are found on bytes (block starts are ASCII, and so is every byte of them in
UTF-8 and cp1252), so decoding happens in the workers too (:mod:`db.workers`).
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import bibdecode, bibtex
from .bibitems import ParsedBlock

#: Text per parse task, at most; smaller files are cut into about four chunks per worker,
#: so that the workers start early and finish together.
CHUNK_BYTES = 1 << 20
MIN_CHUNK_BYTES = 64 << 10
#: A chunk whose braces never balance (a broken entry) is cut anyway at this size, at a
#: block start: bibtexparser would end the broken block there too.
MAX_CHUNK_BYTES = 16 << 20
#: Bytes read from a file at a time.
READ_BYTES = 1 << 20

# A block start: @word then { or (; a cut also needs it first on its line (see _line_start).
_BLOCK_AT = re.compile(rb"@[A-Za-z0-9_]*[ \t]*[{(]")
_STRING_AT = re.compile(rb"@[Ss][Tt][Rr][Ii][Nn][Gg][ \t]*[{(]")


def brace_depth(data: bytes, start: int, end: int) -> int:
    """Net ``{`` minus ``}`` in ``data[start:end]``; BibTeX counts ``\\{`` as a brace too."""
    return data.count(b"{", start, end) - data.count(b"}", start, end)


def _lines(data: bytes) -> int:
    """Lines ended in ``data``, counting CR-only and CRLF line ends as the reader does."""
    crs = data.count(b"\r")
    if not crs:
        return data.count(b"\n")
    return data.count(b"\n") + crs - data.count(b"\r\n")


def _line_start(data: bytes, at: int) -> int:
    """Where the line holding ``data[at]`` starts, if only blanks precede ``at`` on it; else -1.

    bibtexparser starts a new block at an ``@type{`` with only blanks before it on its line,
    even inside an unclosed entry.
    """
    j = at - 1
    while j >= 0 and data[j] in b" \t\f\v":
        j -= 1
    if j >= 0 and data[j] in b"\r\n":
        return j + 1
    return -1 if j >= 0 else 0


class ChunkSplitter:
    """Cuts a stream of .bib bytes into chunks that each begin at a top-level block start."""

    def __init__(self, target: int = CHUNK_BYTES, limit: int = MAX_CHUNK_BYTES) -> None:
        self.target = target
        self.limit = max(limit, target)
        self._buf = b""
        self._reset()

    def _reset(self) -> None:
        self._scan = 0  # where to look for the next block start
        self._depth = 0  # brace depth of the buffer up to _depth_pos
        self._depth_pos = 0
        self._first = -1  # the chunk's first block start (a chunk holds at least one)
        self._first_scan = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return the chunks now complete."""
        self._buf += data
        out: list[bytes] = []
        while True:
            cut = self._find_cut()
            if cut is None:
                return out
            out.append(self._buf[:cut])
            self._buf = self._buf[cut:]
            self._reset()

    def finish(self) -> list[bytes]:
        """The rest of the stream, as a last chunk."""
        rest, self._buf = self._buf, b""
        self._reset()
        return [rest] if rest else []

    def _find_cut(self) -> int | None:
        buf = self._buf
        if len(buf) < self.target:
            return None
        if self._first < 0:
            for m in _BLOCK_AT.finditer(buf, self._first_scan):
                if _line_start(buf, m.start()) >= 0:
                    self._first = m.start()
                    break
            else:
                self._first_scan = max(self._first_scan, len(buf) - 4096)
                return None  # no block yet: a long comment; never a chunk of its own
        for m in _BLOCK_AT.finditer(buf, max(self._scan, self.target, self._first + 1)):
            self._scan = m.end()
            cut = _line_start(buf, m.start())
            if cut <= self._first:
                continue  # an @ inside a line: a value or a comment, never a cut
            self._depth += brace_depth(buf, self._depth_pos, cut)
            self._depth_pos = cut
            if self._depth <= 0 or cut >= self.limit:
                return cut
        # A block start can be incomplete at the end of the buffer; look there again later.
        self._scan = max(self._scan, len(buf) - 4096)
        return None


def split_bytes(
    data: bytes, target: int = CHUNK_BYTES, limit: int = MAX_CHUNK_BYTES
) -> list[bytes]:
    """All chunks of ``data`` (for tests and small inputs)."""
    s = ChunkSplitter(target, limit)
    return s.feed(data) + s.finish()


# -- files ----------------------------------------------------------------------------------------


class Unreadable(Exception):
    """A file that cannot be imported at all; the message says why."""


@dataclass
class Source:
    """A file to import: where its text starts and how it is encoded."""

    path: str
    size: int
    bom: bool = False  # starts with a UTF-8 byte order mark (skipped)
    data: bytes | None = None  # the whole text re-encoded as UTF-8 (UTF-16 files)
    encoding: str = ""  # set for UTF-16 files; UTF-8 and Windows-1252 are told by reading
    newline: str = ""  # set for UTF-16 files; the others count line ends as they are read

    def chunks(self, target: int = CHUNK_BYTES) -> Iterator[tuple[bytes, int]]:
        """(chunk, lines before it) for the whole file, read a piece at a time."""
        splitter = ChunkSplitter(target)
        lines = 0
        if self.data is not None:
            # In pieces, as a file is read: the splitter looks for block starts in what it
            # holds, and one 160 MB piece cost it 8.6 s where 1 MB pieces cost 0.7 s.
            data = self.data
            pieces: Iterable[bytes] = (
                data[i : i + READ_BYTES] for i in range(0, len(data), READ_BYTES)
            )
            fh = None
        else:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below
            if self.bom:
                fh.seek(len(codecs.BOM_UTF8))
            pieces = iter(lambda: fh.read(READ_BYTES), b"")
        any_chunk = False
        try:
            for piece in pieces:
                for chunk in splitter.feed(piece):
                    yield chunk, lines
                    any_chunk = True
                    lines += _lines(chunk)
            for chunk in splitter.finish():
                yield chunk, lines
                any_chunk = True
            if not any_chunk:
                yield b"", 0  # an empty file: the parser says so
        finally:
            if fh is not None:
                fh.close()


def open_source(path: str | os.PathLike[str]) -> Source:
    """Check a file can be read and note its byte order mark; UTF-16 is decoded at once."""
    p = Path(path)
    if not p.exists():
        raise Unreadable("no such file")
    if p.is_dir():
        raise Unreadable("is a directory, not a .bib file")
    try:
        with p.open("rb") as fh:
            head = fh.read(4096)
        size = p.stat().st_size
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
    src = Source(str(path), size, bom=head.startswith(codecs.BOM_UTF8))
    if src.bom:
        return src
    utf16 = head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE)
    if not utf16 and len(head) >= 4:
        half = len(head) / 2
        even, odd = head[0::2].count(0), head[1::2].count(0)
        utf16 = (odd > 0.4 * half and even < 0.1 * half) or (even > 0.4 * half and odd < 0.1 * half)
    if utf16:
        # Rare, and not ASCII-compatible: decode it whole, then go on as with UTF-8.
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
        text, encoding = bibdecode.decode_bytes(data)
        if data.startswith(codecs.BOM_UTF16_LE):
            encoding = "utf-16-le+bom"
        elif data.startswith(codecs.BOM_UTF16_BE):
            encoding = "utf-16-be+bom"
        src.encoding = encoding
        src.newline = newline_of(*line_end_counts(text.encode("utf-8")))
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        src.data = text.encode("utf-8")
    return src


def line_end_counts(data: bytes) -> tuple[int, int, int]:
    """How many CRLF, CR-only and LF-only line ends ``data`` holds."""
    crlf = data.count(b"\r\n")
    return crlf, data.count(b"\r") - crlf, data.count(b"\n") - crlf


def newline_of(crlf: int, cr: int, lf: int) -> str:
    """A file's line end: the one it uses throughout; LF when it mixes them or has none."""
    if crlf and not cr and not lf:
        return "\r\n"
    if cr and not crlf and not lf:
        return "\r"
    return "\n"


def string_macros(data: bytes, name: str) -> list[ParsedBlock]:
    """The @string blocks of a chunk, read before it is sent so workers can expand them.

    A guess, however good: what the workers derived with is checked against the macros the
    library ends up with, and entries are derived again where they differ.
    """
    out: list[ParsedBlock] = []
    covered = 0
    for m in _STRING_AT.finditer(data):
        if m.start() < covered:
            continue
        end = len(data)
        for nxt in _BLOCK_AT.finditer(data, m.end()):
            if _line_start(data, nxt.start()) > 0:
                end = nxt.start()
                break
        text, _, _ = bibdecode.decode_lines(data[m.start() : end])
        out.extend(b for b in bibtex.parse_text(text, name).blocks if b.kind == "string")
        covered = end
    return out
