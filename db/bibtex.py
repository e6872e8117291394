"""Reading BibTeX text: its entries, blocks and failures, with the lines they are on.

:func:`parse_text` reads plain entries with :mod:`db.bibfast` and the rest with
bibtexparser, whose blocks :mod:`db.bibblocks` checks and mends; :func:`parse_file` first
reads the file's bytes as text (:mod:`db.bibdecode`). What they give is in
:mod:`db.bibitems`. Display values are derived in :mod:`db.derive` and edited entries
written by :mod:`db.bibwrite`; each is its own module so that no one file holds it all.

Entries are kept as bibtexparser gives them with an empty parse stack: every field value is
the raw text from the file (delimiters, ``#`` joins and macro names included), and the
entry's own text is kept for a byte-for-byte export while it is not edited.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import os
import re
from collections.abc import Callable, Iterable

from bibtexparser.entrypoint import parse_string

from . import bibfast, bibvalue
from .bibblocks import (
    _CONTROL,
    _ENTRY_TYPE,
    _KEY,
    _add_entry,
    _control_count,
    _field_names_ok,
    _Lines,
    _TextReader,
)
from .bibdecode import (
    _read_report,
    decode_bytes,
    decode_lines,
    read_bib_file,
    undefined_bytes,
)
from .bibitems import Failure, ParsedEntry, ParsedFile
from .bibsplit import BIBTEX_START, BLOCK_START
from .derive import Derived, derive, field_map, text_of
from .errors import BibFileError

# Names of the modules split off from this one that tests still use from here.
__all__ = [
    "FAST_ENTRIES",
    "BibFileError",
    "Derived",
    "Failure",
    "ParsedFile",
    "decode_bytes",
    "decode_lines",
    "derive",
    "field_map",
    "parse_file",
    "parse_text",
    "read_bib_file",
    "text_of",
    "undefined_bytes",
]

# bibtexparser logs every block it gives up on to stderr; each one is reported as a Failure
# instead (with a clearer message), so only its errors (bugs) are let through.
logging.getLogger("bibtexparser.splitter").setLevel(logging.ERROR)

#: A line that starts a block: a text with one is read, however many control characters.
_LINE_START_BLOCK = re.compile(r"(?:^|\n)[ \t]*@[A-Za-z]{2,}[ \t]*[{(]")

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
