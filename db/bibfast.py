"""The plain entries of a BibTeX text, read as :func:`db.bibtex.parse_text` reads them, fast.

bibtexparser 2's splitter steps in Python through every mark of the text: each brace, quote,
comma, equals sign and newline. A typical entry with an abstract has some 65 of them, and
that stepping was half of an import's CPU time. Most entries have a plain shape, though:
``@type{key,`` at the start of a line, ``name = value`` pairs, a closing brace. For those,
:func:`scan` finds the same key, fields and raw text as parse_text, which reads with
bibtexparser's splitter and checks what it gives against BibTeX's rules (see
:mod:`db.bibsplit`), by these rules:

- every brace counts, one right after a backslash too (BibTeX's rule: ``\\{`` opens);
- a quote or comma right after a backslash is not a mark (bibtexparser's leniency);
- inside braces only braces count; inside quotes braces and quotes, and a quote ends the
  value only outside braces;
- a value ends at the first comma or closing brace outside braces and quotes, and is the
  text from the ``=`` to there, stripped; a name is the text before its ``=``, stripped;
- a block start (``@type{`` or ``@type(``) at the start of a line ends whatever block is
  open, so each of them starts a block afresh whatever came before it.

That last rule is what makes the split safe: every entry :func:`scan` reads starts at such a
line and ends before the next one, so what lies between the entries it read can be handed
to bibtexparser on its own and gives the blocks bibtexparser would have found there in the
whole text. Whatever is not plain is left to bibtexparser that way: @string, @preamble and
@comment blocks, ``(`` delimiters, a field name not followed by ``=``, an entry that runs
into the next block start, an entry with a field given twice. :mod:`db.bibtex` makes the
same checks on what this returns as on bibtexparser's entries, and a test compares both
readers over the whole corpus of real-world files.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# A block start as bibtexparser's splitter sees one too: ``@type`` then ``{`` or ``(``.
from . import bibvalue
from .bibsplit import BLOCK_START

# The marks (less newlines, which only count lines, and ``=`` inside values, which the
# splitter passes over). The block-start alternative is kept where the splitter would
# stop at one: in a key or a field name.
_NAME_END = re.compile(r'[{}]|(?<!\\)[",=]|@\w*[ \t]*(?=[{(])')
_VALUE_MARK = re.compile(r'[{}]|(?<!\\)[",]')
_QUOTED_MARK = re.compile(r'[{}]|(?<!\\)"')
#: A braced group with no braces inside: the usual abstract, title or author list.
_FLAT_GROUP = re.compile(r"\{[^{}]*+\}")
# A braced group, with groups nested in it up to three deep (possessive, so a failed match
# gives up at once).
_GROUP = _FLAT_GROUP.pattern
for _ in range(3):
    _GROUP = r"\{[^{}]*+(?:" + _GROUP + r"[^{}]*+)*+\}"
# The same with no quote inside, for a quoted value: bibtexparser ends it at any quote.
_GROUP_NO_QUOTE = r'\{[^{}"]*+\}'
for _ in range(3):
    _GROUP_NO_QUOTE = r'\{[^{}"]*+(?:' + _GROUP_NO_QUOTE + r'[^{}"]*+)*+\}'
#: A whole field in its usual shape: a name, ``=``, then a braced group (see _GROUP), a
#: quoted string (its braces balanced with no quote inside them, no backslash before its
#: closing quote), or a bare number or macro name, then the comma or brace after it. No
#: quote or comma in it is escaped, and the value has no white space at either end, so it
#: is the splitter's value as it is.
_PLAIN_FIELD = re.compile(
    r'([^{}",=@\\]*+)=\s*+('
    + _GROUP
    + r'|"[^"{}\\]*+(?:(?:\\"?+|'
    + _GROUP_NO_QUOTE
    + r')[^"{}\\]*+)*+"'
    + r'|[^\s{}",=@\\#]++'
    + r")\s*+([,}])"
)
#: Entry types the splitter reads as other blocks (it compares the start of the type).
_OTHER_BLOCKS = ("comment", "preamble", "string")


class Plain(NamedTuple):
    """An entry read: ``text[start:end]`` is its raw text, from ``@`` to its closing brace."""

    start: int
    end: int
    entry_type: str  # lower case, as the splitter gives it
    key: str
    fields: list[tuple[str, str]]


def scan(text: str) -> list[Plain]:
    """The plain entries of ``text``, in order; everything else is for bibtexparser."""
    starts = []  # (offset of @, type, delimiter) of the block starts first on their line
    for m in BLOCK_START.finditer(text):
        at = i = m.start()
        while i and text[i - 1] in " \t":
            i -= 1
        if i and text[i - 1] != "\n":
            while i and text[i - 1] != "\n" and text[i - 1].isspace():
                i -= 1
            if i and text[i - 1] != "\n":
                continue  # not first on its line: inside a value or a comment
            # First on its line after white space other than blanks (a form feed, say):
            # bibsplit, which reads what bibtexparser rejects, would not take it for a
            # block start. Leave the whole text to bibtexparser.
            return []
        starts.append((at, m.group(1), m.group(2), m.end()))
    out: list[Plain] = []
    size = len(text)
    for n, (at, entry_type, delimiter, body) in enumerate(starts):
        entry_type = entry_type.lower()
        if (
            delimiter != "{"
            or not entry_type
            or entry_type.startswith(_OTHER_BLOCKS)
            or entry_type[0].isdigit()
        ):
            continue
        limit = starts[n + 1][0] if n + 1 < len(starts) else size
        read = _entry(text, body, limit)
        if read is not None:
            key, fields, end = read
            out.append(Plain(at, end, entry_type, key, fields))
    return out


def _entry(text: str, pos: int, limit: int) -> tuple[str, list[tuple[str, str]], int] | None:
    """Key, fields and end of the entry whose ``{`` ends just before ``pos``, if plain."""
    m = _NAME_END.search(text, pos, limit)
    if m is None or m.group() != ",":
        return None
    key = text[pos : m.start()].strip()
    fields: list[tuple[str, str]] = []
    names: set[str] = set()
    name_start = m.end()
    while True:
        f = _PLAIN_FIELD.match(text, name_start, limit)
        if f is not None:
            name = f.group(1).strip()
            if name in names:
                return None
            names.add(name)
            fields.append((name, f.group(2)))
            if f.group(3) == "}":
                return key, fields, f.end()
            name_start = f.end()
            continue
        m = _NAME_END.search(text, name_start, limit)
        if m is None:
            return None
        mark = m.group()
        if mark == "}":
            if text[name_start : m.start()].strip():
                return None  # a name with no value: bibtexparser's error to word
            return key, fields, m.end()
        if mark != "=":
            return None
        name = text[name_start : m.start()].strip()
        if name in names:
            return None  # bibtexparser wraps such an entry in another block type
        names.add(name)
        end = _value_end(text, m.end(), limit)
        if end < 0:
            return None
        fields.append((name, text[m.end() : end].strip()))
        if text[end] == "}":
            return key, fields, end + 1
        name_start = end + 1


def _value_end(text: str, pos: int, limit: int) -> int:
    """Offset of the comma or brace that ends the value starting at ``pos``, or -1."""
    while True:
        m = _VALUE_MARK.search(text, pos, limit)
        if m is None:
            return -1
        mark, at = m.group(), m.start()
        if mark == "{":
            flat = _FLAT_GROUP.match(text, at, limit)
            if flat is not None:
                pos = flat.end()
                continue
            end = bibvalue.braced_end(text, at, limit)
            if end < 0:
                return -1
            pos = end + 1
        elif mark == '"':
            pos = _quote_end(text, at + 1, limit)
            if pos < 0:
                return -1
        else:
            return at


def _quote_end(text: str, pos: int, limit: int) -> int:
    """Offset just past the quote that closes a quoted part opened before ``pos``, or -1.

    Braces count inside quotes: a quote inside them (``"a {"} b"``) does not close.
    """
    depth = 0
    for m in _QUOTED_MARK.finditer(text, pos, limit):
        mark = m.group()
        if mark == "{":
            depth += 1
        elif mark == "}":
            depth -= 1
            if depth < 0:
                return -1  # BibTeX: unbalanced braces
        elif depth == 0:
            return m.end()
    return -1
