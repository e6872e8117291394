"""The text of BibTeX field values: delimiters, ``#`` joins and @string macros.

Citedesk stores every field as written in the file (``{A {B} c}``, ``"x" # jan``, ``2020``)
so that export is faithful; this module turns such raw values into the text they stand for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: The month macros every BibTeX style predefines.
MONTH_MACROS = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "may": "May",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}


# The characters that matter inside a delimited value; everything else is skipped at C speed.
# As in BibTeX, every brace counts, with a backslash before it too (``\\{`` opens a group).
# A quote right after a backslash does not end a quoted value: there Citedesk stays as
# lenient as bibtexparser (BibTeX would end the value and reject the rest).
_QUOTED_MARK = re.compile(r'[{}]|(?<!\\)"')
_SPACE = re.compile(r"\s*")
#: A number or macro name: BibTeX's identifier characters (bibtexparser takes any text).
_BARE = re.compile(r"[^\s\"#%'(),={}]*")


def _group_end(raw: str, i: int) -> int:
    """Where the group opening at ``raw[i]`` (``{`` or ``"``) closes, or -1 if it never does.

    A braced group closes at the brace that balances it; a quoted one at the next ``"``
    outside braces that no backslash precedes.
    """
    if raw[i] == "{":
        return braced_end(raw, i)
    depth = 0
    for m in _QUOTED_MARK.finditer(raw, i + 1):
        ch = m.group()
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return -1  # BibTeX: unbalanced braces in a quoted value
        elif depth == 0:
            return m.start()  # the closing quote
    return -1


def braced_end(raw: str, i: int = 0, stop: int | None = None) -> int:
    """Where the braced group opening at ``raw[i]`` closes (before ``stop``), or -1 if it
    does not.

    BibTeX counts every brace, escaped or not (``{a \\{ b}`` is not closed). Found with
    ``str.find``: two memchr scans and a step per brace, where a regular expression steps
    through every character (several times slower over an abstract with a few marks in it).
    """
    n = len(raw) if stop is None else stop
    depth = 1
    o = raw.find("{", i + 1, n)
    c = raw.find("}", i + 1, n)
    o = n if o < 0 else o
    while c >= 0:
        if o < c:
            depth += 1
            o = raw.find("{", o + 1, n)
            o = n if o < 0 else o
        else:
            depth -= 1
            if depth == 0:
                return c
            c = raw.find("}", c + 1, n)
    return -1


def _is_one_group(raw: str) -> bool:
    """True when ``raw`` is one delimited group and nothing else: ``{...}`` or ``"..."``.

    The usual value, checked with string methods (memchr scans): this runs for every field
    of every import, and abstracts are long. False means "not sure": the caller then reads
    the value with :func:`_split_general`, which decides.
    """
    n = len(raw)
    if n < 2:
        return False
    first = raw[0]
    if first == "{":
        if raw[-1] != "}":
            return False
        body = raw[1:-1]
        if not ("{" in body or "}" in body):
            return True  # no group inside to look at
        return braced_end(raw) == n - 1
    if first == '"':
        if raw[-1] != '"':
            return False
        body = raw[1:-1]
        return not ('"' in body or "\\" in body or "{" in body or "}" in body)
    return False


def _split_parts(raw: str) -> list[str] | None:
    """Split a raw value at top-level ``#``; None when the value is not well formed.

    Marks are found with str.find and regular expressions, not a character loop: abstracts
    are long and this runs for every field of every import.
    """
    if _is_one_group(raw) or raw.isalnum():
        return [raw]  # the usual value: one group, a number or a macro name
    return _split_general(raw)


def _split_general(raw: str) -> list[str] | None:
    """:func:`_split_parts` for any value, group by group."""
    n = len(raw)
    parts: list[str] = []
    i = _SPACE.match(raw).end()  # type: ignore[union-attr]
    while True:
        if i >= n:
            return parts if parts else None
        c = raw[i]
        if c == "{" or c == '"':
            end = braced_end(raw, i) if c == "{" else _group_end(raw, i)
            if end < 0:
                return None
            parts.append(raw[i : end + 1])
            i = end + 1
        else:
            j = _BARE.match(raw, i).end()  # type: ignore[union-attr]
            if j == i:
                return None  # nothing BibTeX reads as a value
            parts.append(raw[i:j])
            i = j
        i = _SPACE.match(raw, i).end()  # type: ignore[union-attr]
        if i >= n:
            return parts
        if raw[i] != "#":
            return None
        i = _SPACE.match(raw, i + 1).end()  # type: ignore[union-attr]


def is_well_formed(raw: str) -> bool:
    # The usual value (one braced group) is tested here first to save the calls below;
    # ``in`` is a plain memchr, where str.find(x, i, j) parses its arguments at some cost.
    n = len(raw)
    if n > 1 and raw[0] == "{" and raw[-1] == "}":
        body = raw[1:-1]
        if not ("{" in body or "}" in body) or braced_end(raw) == n - 1:
            return True
    elif _is_one_group(raw) or raw.isalnum():
        return True
    return _split_general(raw) is not None


def evaluate(raw: str, macros: Mapping[str, str] | None = None) -> str:
    """The text a raw value stands for, LaTeX markup kept, macros expanded.

    ``macros`` maps lower-case macro names to their *evaluated* text. An unknown macro
    evaluates to its own name, as BibTeX prints a warning and goes on.
    """
    n = len(raw)
    parts: list[str] | None
    if n > 1 and raw[0] == "{" and raw[-1] == "}":
        body = raw[1:-1]
        if not ("{" in body or "}" in body) or braced_end(raw) == n - 1:
            return body  # the usual value, as in is_well_formed
        parts = _split_general(raw)
    elif raw.isalnum():
        if raw.isdigit():
            return raw  # a number
        parts = [raw]  # a macro name
    elif _is_one_group(raw):
        return raw[1:-1]
    else:
        parts = _split_general(raw)
    return raw if parts is None else join_parts(parts, macros)


def join_parts(parts: list[str], macros: Mapping[str, str] | None = None) -> str:
    """The text of a value's parts (groups, numbers, macro names), as :func:`evaluate`."""
    out = []
    for p in parts:
        if p.startswith("{") or p.startswith('"'):
            out.append(p[1:-1])
        elif p.isdigit():
            out.append(p)
        else:
            name = p.lower()
            if macros is not None and name in macros:
                out.append(macros[name])
            elif name in MONTH_MACROS:
                out.append(MONTH_MACROS[name])
            else:
                out.append(p)
    return "".join(out)


_BRACE_MARK = re.compile(r"\\*[{}]")
_LINE_START_AT = re.compile(r"(\n[^\S\n]*)@")


def _balanced_for_every_reader(text: str) -> bool:
    """True when BibTeX (and so Citedesk) and bibtexparser both see balanced braces.

    BibTeX counts every brace; bibtexparser skips a brace right after a backslash (even
    after two). A value is safe to write only when both find its braces balanced
    (``\\{x\\}`` is: neither sees it open).
    """
    raw = look = 0
    for m in _BRACE_MARK.finditer(text):
        step = 1 if m.group(0)[-1] == "{" else -1
        raw += step
        if len(m.group(0)) == 1:
            look += step
        if raw < 0 or look < 0:
            return False
    return raw == look == 0


def _brace_word(m: re.Match[str]) -> str:
    run = m.group(0)[:-1]
    # An odd run of backslashes escapes the brace (``\{``): the brace becomes the command.
    keep = run[: len(run) - len(run) % 2]
    return keep + ("\\textbraceleft{}" if m.group(0)[-1] == "{" else "\\textbraceright{}")


def brace(text: str) -> str:
    """The raw value for a text typed by a person: braces, balanced so it cannot escape.

    Whatever the text, the value ends at its own closing brace for BibTeX, biber and
    bibtexparser alike: braces that do not balance become ``\\textbraceleft{}`` and
    ``\\textbraceright{}``, a trailing backslash cannot escape the closing brace, and a
    line starting with ``@`` cannot be taken for the start of a new entry.
    """
    if not _balanced_for_every_reader(text):
        text = _BRACE_MARK.sub(_brace_word, text)
    if "@" in text and "\n" in text:
        text = _LINE_START_AT.sub(r"\1{@}", text)
    # A trailing backslash would escape the closing brace.
    if text.endswith("\\"):
        run = len(text) - len(text.rstrip("\\"))
        text = text[:-1] + "\\textbackslash{}" if run % 2 else text + " "
    return "{" + text + "}"
