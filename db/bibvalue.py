"""The text of BibTeX field values: delimiters, ``#`` joins and @string macros.

Citedesk stores every field as written in the file (``{A {B} c}``, ``"x" # jan``, ``2020``)
so that export is faithful; this module turns such raw values into the text they stand for.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The month macros every BibTeX style predefines.
MONTH_MACROS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May",
    "jun": "June", "jul": "July", "aug": "August", "sep": "September", "oct": "October",
    "nov": "November", "dec": "December",
}


def _split_parts(raw: str) -> list[str] | None:
    """Split a raw value at top-level ``#``; None when the value is not well formed."""
    parts: list[str] = []
    i, n = 0, len(raw)
    while True:
        while i < n and raw[i].isspace():
            i += 1
        if i >= n:
            return parts if parts else None
        c = raw[i]
        if c == "{":
            depth, j = 0, i
            while j < n:
                if raw[j] == "\\":
                    j += 2
                    continue
                if raw[j] == "{":
                    depth += 1
                elif raw[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                return None
            parts.append(raw[i : j + 1])
            i = j + 1
        elif c == '"':
            depth, j = 0, i + 1
            while j < n:
                ch = raw[j]
                if ch == "\\":
                    j += 2
                    continue
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                elif ch == '"' and depth == 0:
                    break
                j += 1
            if j >= n:
                return None
            parts.append(raw[i : j + 1])
            i = j + 1
        else:
            j = i
            while j < n and raw[j] != "#" and not raw[j].isspace():
                j += 1
            parts.append(raw[i:j])
            i = j
        while i < n and raw[i].isspace():
            i += 1
        if i >= n:
            return parts
        if raw[i] != "#":
            return None
        i += 1


def is_well_formed(raw: str) -> bool:
    return _split_parts(raw) is not None


def macro_names(raw: str) -> list[str]:
    """The @string macros a raw value refers to."""
    parts = _split_parts(raw) or []
    return [p for p in parts if p and p[0] not in '{"' and not p.isdigit()]


def evaluate(raw: str, macros: Mapping[str, str] | None = None) -> str:
    """The text a raw value stands for, LaTeX markup kept, macros expanded.

    ``macros`` maps lower-case macro names to their *evaluated* text. An unknown macro
    evaluates to its own name, as BibTeX prints a warning and goes on.
    """
    parts = _split_parts(raw)
    if parts is None:
        return raw
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


def brace(text: str) -> str:
    """The raw value for a text typed by a person: braces, balanced so it cannot escape."""
    depth = 0
    for c in text:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                break
    if depth != 0:
        text = text.replace("{", r"\{").replace("}", r"\}")
    # A trailing backslash would escape the closing brace.
    if text.endswith("\\") and not text.endswith("\\\\"):
        text = text[:-1] + r"\textbackslash{}"
    return "{" + text + "}"
