"""Reading a .bib file's bytes as text: BOMs, UTF-16, UTF-8 with stray Latin-1 lines.

Kept apart from the parser because the importer decodes chunks of a file on its own
(:func:`decode_lines`, :func:`undefined_bytes`) before handing the text to
:func:`db.bibtex.parse_text`; both must read a file the same way.
"""

from __future__ import annotations

import codecs
import itertools
import os
import re
from collections.abc import Collection
from pathlib import Path

from .errors import BibFileError

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
    :func:`db.bibtex.parse_text` (its ``undefined``) says where, with the byte, so nothing is lost
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
