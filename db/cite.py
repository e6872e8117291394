"""Cite as you write: the text an editor inserts for picked papers, format by format.

The formats and their output are Better BibTeX's ``/better-bibtex/cayw`` ones (its
``format``, ``command`` and ``brackets`` parameters), so that editor plugins written for
Zotero (the LaTeX Workshop, Zotero Citation Picker, pandoc and Typst helpers) work with
Citedesk unchanged. An empty pick gives "" (BBT answers an empty body when the pop-up is
cancelled).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import csl, csljson
from .errors import LibraryError

#: The formats, by Better BibTeX's names.
FORMATS: tuple[str, ...] = (
    "latex",
    "cite",
    "natbib",
    "citep",
    "citet",
    "biblatex",
    "pandoc",
    "mmd",
    "typst",
    "json",
    "translate",
    "formatted-citation",
    "formatted-bibliography",
)

#: The formats that need the papers' CSL items, not only their keys.
NEEDS_ITEMS = frozenset({"json", "formatted-citation", "formatted-bibliography"})

#: The LaTeX command each LaTeX format uses unless ``command`` says otherwise. As in
#: Better BibTeX's formatter (content/cayw/formatter.ts), ``natbib`` without a command is
#: plain ``\cite`` (natbib reads it as \citet); ``citep``/``citet`` name theirs.
_LATEX_COMMANDS = {
    "latex": "cite",
    "cite": "cite",
    "natbib": "cite",
    "citep": "citep",
    "citet": "citet",
    "biblatex": "autocite",
}

#: A key Typst's ``@key`` reference syntax takes whole (a trailing "." or ":" would be read
#: as punctuation after the reference, so it is not part of the name).
_TYPST_LABEL = re.compile(r"[\w-]+(?:[.:][\w-]+)*\Z")


class CiteFormatError(LibraryError):
    """A cite-as-you-write request Citedesk cannot answer (unknown format, no items)."""


def cite(
    keys: Sequence[str],
    fmt: str = "latex",
    *,
    command: str = "",
    brackets: bool = False,
    items: Sequence[Mapping[str, Any]] | None = None,
    style: str = "apa",
    locale: str = "en-US",
    output: str = "text",
    translate: Callable[[Sequence[str]], str] | None = None,
) -> str:
    """The text to insert for the papers ``keys``, in format ``fmt``.

    ``command`` replaces a LaTeX format's command (``citep``, ``textcite``); ``brackets``
    wraps pandoc's citation in ``[...]``. ``json`` and the ``formatted-*`` formats need the
    papers' CSL ``items`` (``Library.csl_items``); ``translate`` needs a function that writes
    the papers of the given keys in the export format (BibTeX).
    """
    if fmt not in FORMATS:
        raise CiteFormatError(f"unknown cite format {fmt!r}; Citedesk knows {', '.join(FORMATS)}")
    if not keys:
        return ""
    if fmt in _LATEX_COMMANDS:
        name = command.strip().lstrip("\\") or _LATEX_COMMANDS[fmt]
        if not re.fullmatch(r"[A-Za-z]+\*?", name):
            raise CiteFormatError(f"{command!r} is not a LaTeX command name")
        return f"\\{name}{{{','.join(keys)}}}"
    if fmt == "pandoc":
        text = "; ".join(f"@{key}" for key in keys)
        return f"[{text}]" if brackets else text
    if fmt == "mmd":
        return "".join(f"[#{key}][]" for key in keys)
    if fmt == "typst":
        return " ".join(_typst(key) for key in keys)
    if fmt == "translate":
        if translate is None:
            raise CiteFormatError("the translate format needs an export of the papers")
        return translate(list(keys))
    picked = _items_of(keys, items, fmt)
    if fmt == "json":
        return csljson.dumps(picked)
    if fmt == "formatted-citation":
        return csl.citation(picked, style, locale, output)
    return "\n".join(csl.bibliography(picked, style, locale, output))


def _typst(key: str) -> str:
    """Typst's own citation syntax, ``@key``; ``#cite(label("key"))`` for a key ``@``
    cannot carry (a space, a slash, a trailing dot)."""
    if _TYPST_LABEL.match(key):
        return f"@{key}"
    return '#cite(label("' + key.replace("\\", "\\\\").replace('"', '\\"') + '"))'


def _items_of(
    keys: Sequence[str], items: Sequence[Mapping[str, Any]] | None, fmt: str
) -> list[dict[str, Any]]:
    """The CSL items of ``keys``, in the keys' order."""
    if items is None:
        raise CiteFormatError(f"the {fmt} format needs the papers' CSL items")
    by_key: dict[str, Mapping[str, Any]] = {}
    for item in items:
        for name in ("citation-key", "id"):
            value = item.get(name)
            if isinstance(value, str) and value:
                by_key.setdefault(value, item)
    missing = [key for key in keys if key not in by_key]
    if missing:
        raise CiteFormatError(f"no CSL item for {', '.join(missing)}")
    return [dict(by_key[key]) for key in dict.fromkeys(keys)]
