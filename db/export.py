"""Exports for LaTeX: dialects, profiles, .aux-driven subsets.

Plain export writes every untouched entry exactly as it came. A *profile* adapts entries to a
toolchain: the BibTeX dialect is pure ASCII (non-ASCII as LaTeX commands, biblatex-only types
and fields mapped to classic ones), the BibLaTeX dialect is UTF-8 for biber and carries key
aliases as ``ids``. An entry that a profile leaves unchanged is still written byte for byte.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import bibvalue
from .bibwrite import VERBATIM_FIELDS, format_entry
from .derive import field_map
from .latex import unicode_to_latex

#: pylatexenc is slow and auto-exports convert the same values again and again.
_to_latex = functools.lru_cache(maxsize=65536)(unicode_to_latex)

DIALECTS = ("bibtex", "biblatex")

#: Title-like fields whose capitals a profile may protect with braces.
TITLE_FIELDS = frozenset(
    {
        "title",
        "booktitle",
        "subtitle",
        "shorttitle",
        "maintitle",
        "origtitle",
        "eventtitle",
        "series",
        "titleaddon",
    }
)
#: Fields whose characters are literal for the url package or biber: left alone.
_LITERAL = VERBATIM_FIELDS | {
    "ids",
    "crossref",
    "xdata",
    "key",
    "keywords",
    "date",
    "urldate",
    "eprinttype",
    "eprintclass",
    "primaryclass",
    "archiveprefix",
}
_VERBATIM_COMMANDS = ("url", "href", "path", "nolinkurl", "verb", "doi")

# biblatex entry types and fields as classic BibTeX knows them.
_BIBTEX_TYPES = {
    "online": "misc",
    "electronic": "misc",
    "www": "misc",
    "software": "misc",
    "dataset": "misc",
    "report": "techreport",
    "mvbook": "book",
    "bookinbook": "inbook",
    "collection": "book",
    "mvcollection": "book",
    "reference": "book",
    "mvreference": "book",
    "periodical": "misc",
    "suppbook": "inbook",
    "suppcollection": "incollection",
    "suppperiodical": "article",
    "patent": "misc",
    "letter": "misc",
    "movie": "misc",
    "music": "misc",
    "video": "misc",
    "audio": "misc",
    "image": "misc",
    "artwork": "misc",
    "performance": "misc",
    "standard": "misc",
    "set": "misc",
    "xdata": "misc",
    "thesis": "phdthesis",
    "review": "article",
    "inreference": "incollection",
    "mvproceedings": "proceedings",
}
_BIBTEX_FIELDS = {"journaltitle": "journal", "location": "address", "institution": "institution"}
#: BibTeX's names of those fields -> their BibLaTeX names.
_BIBLATEX_NAMES = {v: k for k, v in _BIBTEX_FIELDS.items() if k != v}
_MONTH_MACROS = list(bibvalue.MONTH_MACROS)


@dataclass(frozen=True)
class ExportProfile:
    """How entries are adapted for one LaTeX toolchain."""

    name: str
    dialect: str = "biblatex"
    exclude: tuple[str, ...] = ("abstract", "file", "keywords")
    protect_capitals: bool = True
    page_dashes: bool = True
    #: Write each entry's attached files as a JabRef ``file`` field (absolute paths), for
    #: tools that open them (JabRef, Zotero's import); off, entries are left as they are.
    files: bool = False

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {self.dialect!r}; use bibtex or biblatex")

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        d["exclude"] = list(self.exclude)
        return d

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ExportProfile:
        exclude = data.get("exclude", ())
        return cls(
            name=str(data["name"]),
            dialect=str(data.get("dialect", "biblatex")),
            exclude=tuple(str(x).lower() for x in exclude)
            if isinstance(exclude, list | tuple)
            else (),
            protect_capitals=bool(data.get("protect_capitals", True)),
            page_dashes=bool(data.get("page_dashes", True)),
            files=bool(data.get("files", False)),
        )


BUILTIN_PROFILES = {
    "bibtex": ExportProfile("bibtex", "bibtex"),
    "biblatex": ExportProfile("biblatex", "biblatex"),
}


# -- transforming values --------------------------------------------------------------------


def _map_text_parts(raw: str, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to the text inside each delimited part of a raw value; macros untouched."""
    parts = bibvalue._split_parts(raw)
    if parts is None:
        return raw
    out = []
    for p in parts:
        if p.startswith("{"):
            out.append("{" + fn(p[1:-1]) + "}")
        elif p.startswith('"'):
            out.append('"' + fn(p[1:-1]) + '"')
        else:
            out.append(p)
    return " # ".join(out)


#: A LaTeX command (``\\emph``) or control symbol (``\\&``), matched in place.
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
_SPECIALS = re.compile(r"[&%#_$]")


def escape_specials(text: str) -> str:
    """Escape bare ``& % # _`` outside math and outside ``\\url{}``-like arguments.

    An unpaired ``$`` would swallow the rest of the bibliography, so it becomes ``\\$``.
    """
    if not _SPECIALS.search(text):
        return text  # the common case, and the loop below is slow in Python
    dollars = [m.start() for m in _UNESCAPED_DOLLAR.finditer(text)]
    if len(dollars) % 2:
        last = dollars[-1]
        text = text[:last] + "\\" + text[last:]
    out: list[str] = []
    i, n = 0, len(text)
    in_math = False
    verbatim_depth = 0  # brace depth at which a verbatim argument started, 0 = none
    depth = 0
    while i < n:
        c = text[i]
        if c == "\\":
            m = _COMMAND.match(text, i)
            token = m.group(0) if m else c
            out.append(token)
            i += len(token)
            if m and m.group(1) in _VERBATIM_COMMANDS and i < n and text[i] == "{":
                verbatim_depth = depth + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if verbatim_depth and depth == verbatim_depth:
                verbatim_depth = 0
            depth -= 1
        elif c == "$" and not verbatim_depth:
            in_math = not in_math
        elif c in "&%#_" and not in_math and not verbatim_depth:
            out.append("\\" + c)
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-']*")
#: A capital inside a word (what :func:`protect_capitals` braces); none means no change.
_INNER_CAPITAL = re.compile(r"[A-Za-z0-9\-'][A-Z]")


def protect_capitals(text: str) -> str:
    """Brace words with capitals past their first letter (``LLM``, ``ImageNet``, ``Q-YOLO``).

    Text already inside braces or math, and LaTeX commands, are left as they are, so braces
    are never doubled.
    """
    if not _INNER_CAPITAL.search(text):
        return text  # no word has a capital past its first letter: nothing to brace
    out: list[str] = []
    i, n = 0, len(text)
    depth = 0
    in_math = False
    while i < n:
        c = text[i]
        if c == "\\":
            m = _COMMAND.match(text, i)
            token = m.group(0) if m else c
            out.append(token)
            i += len(token)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "$":
            in_math = not in_math
        elif depth == 0 and not in_math and (c.isalnum()):
            m = _WORD.match(text, i)
            if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "\\")):
                word = m.group(0)
                if any(ch.isupper() for ch in word[1:]):
                    out.append("{" + word + "}")
                else:
                    out.append(word)
                i = m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def _page_dashes(text: str) -> str:
    return (
        re.sub(r"(?<=[0-9A-Za-z])\s*[-\u2013\u2014]\s*(?=[0-9A-Za-z])", "--", text)
        if "--" not in text
        else text
    )


def transform_entry(
    entry_type: str,
    fields: Sequence[tuple[str, str]],
    profile: ExportProfile,
    aliases: Sequence[str] = (),
) -> tuple[str, list[tuple[str, str]]]:
    """An entry's type and fields as ``profile`` writes them."""
    excluded = {x.lower() for x in profile.exclude} - ({"file"} if profile.files else set())
    out: list[tuple[str, str]] = []
    present = {name.lower() for name, _ in fields}
    for name, raw in fields:
        lname = name.lower()
        if lname in excluded:
            continue
        if profile.dialect == "bibtex":
            if lname in _BIBLATEX_NAMES and _BIBLATEX_NAMES[lname] in present:
                continue  # biber reads the BibLaTeX name when both are given: so do we
            target = _BIBTEX_FIELDS.get(lname)
            if target and target != lname:
                name, lname = target, target
            if lname == "ids":
                continue
        value = raw
        if lname not in _LITERAL:
            # The searches skip splitting values that the functions would leave as they are.
            if _SPECIALS.search(value):
                value = _map_text_parts(value, escape_specials)
            if profile.protect_capitals and lname in TITLE_FIELDS and _INNER_CAPITAL.search(value):
                value = _map_text_parts(value, protect_capitals)
            if profile.page_dashes and lname == "pages":
                value = _map_text_parts(value, _page_dashes)
        if profile.dialect == "bibtex" and not value.isascii() and lname not in VERBATIM_FIELDS:
            value = _map_text_parts(value, _to_latex)
        out.append((name, value))
    if profile.dialect == "bibtex":
        names = {n.lower() for n, _ in out}
        f = field_map(fields)
        if "date" in f:
            date = bibvalue.evaluate(f["date"])
            m = re.match(r"^(\d{4})(?:-(\d{2}))?", date)
            if m and "year" in names:
                # biber takes the year from the date when both are given: BibTeX must too.
                if bibvalue.evaluate(f.get("year", "")).strip() != m.group(1):
                    year = "{" + m.group(1) + "}"
                    out = [(n, year) if n.lower() == "year" else (n, v) for n, v in out]
            elif m:
                out.append(("year", "{" + m.group(1) + "}"))
                if m.group(2) and "month" not in names and 1 <= int(m.group(2)) <= 12:
                    out.append(("month", _MONTH_MACROS[int(m.group(2)) - 1]))
        if entry_type in ("thesis",) and "type" in f:
            kind = bibvalue.evaluate(f["type"]).lower()
            entry_type = "mastersthesis" if kind.startswith(("mathesis", "master")) else "phdthesis"
        else:
            entry_type = _BIBTEX_TYPES.get(entry_type, entry_type)
        if (
            entry_type in ("phdthesis", "mastersthesis")
            and "school" not in names
            and "institution" in names
        ):
            out = [("school", v) if n.lower() == "institution" else (n, v) for n, v in out]
    else:
        all_aliases = [a for a in aliases]
        if "ids" in present:
            existing = [x.strip() for x in bibvalue.evaluate(field_map(fields)["ids"]).split(",")]
            all_aliases = [a for a in all_aliases if a not in existing]
            if all_aliases:
                out = [
                    (n, "{" + ", ".join(existing + all_aliases) + "}")
                    if n.lower() == "ids"
                    else (n, v)
                    for n, v in out
                ]
        elif all_aliases:
            out.append(("ids", "{" + ", ".join(all_aliases) + "}"))
    return entry_type, out


#: Entries as profiles write them, by a digest of their fields (see :func:`render_entry`).
_rendered: dict[tuple[object, ...], str | None] = {}
RENDER_CACHE_SIZE = 100_000


def render_entry(
    entry_type: str, key: str, fields_json: str, profile: ExportProfile, aliases: Sequence[str] = ()
) -> str | None:
    """An entry (fields as stored, JSON) as ``profile`` writes it; None if it changes nothing.

    Results are remembered for the life of the process, keyed by a digest of the fields
    rather than the fields themselves: auto-exports write the same entries after every
    change, and transforming 10,000 entries again each time takes about a second.
    """
    digest = hashlib.blake2b(fields_json.encode("utf-8"), digest_size=16).digest()
    cache_key = (profile, entry_type, key, digest, tuple(aliases))
    try:
        return _rendered[cache_key]
    except KeyError:
        pass
    fields = [(str(n), str(v)) for n, v in json.loads(fields_json)]
    new_type, new_fields = transform_entry(entry_type, fields, profile, aliases)
    text = (
        None
        if new_type == entry_type and new_fields == fields
        else format_entry(new_type, key, new_fields)
    )
    if len(_rendered) >= RENDER_CACHE_SIZE:
        _rendered.clear()
    _rendered[cache_key] = text
    return text


def transform_string(raw: str, profile: ExportProfile) -> str:
    value = _map_text_parts(raw, escape_specials)
    if profile.dialect == "bibtex" and not value.isascii():
        value = _map_text_parts(value, _to_latex)
    return value


# -- .aux files ------------------------------------------------------------------------------

_AUX_CITATION = re.compile(r"\\citation\{([^}]*)\}")
_AUX_BIBLATEX = re.compile(r"\\abx@aux@cite\{([^}]*)\}(?:\{([^}]*)\})?")
_AUX_INPUT = re.compile(r"\\@input\{([^}]*)\}")
_AUX_BIBDATA = re.compile(r"\\bibdata\{([^}]*)\}")
_AUX_BIBSTYLE = re.compile(r"\\bibstyle\{([^}]*)\}")
#: The .bib files biber reads, from the .bcf biblatex writes beside the .aux.
_BCF_DATASOURCE = re.compile(r"<bcf:datasource\b[^>]*\btype=\"file\"[^>]*>([^<]*)</bcf:datasource>")
#: What biblatex (with BibTeX as its backend) cites and reads for itself, not the document.
_BIBLATEX_CONTROL_KEY = "biblatex-control"


@dataclass
class AuxCitations:
    """The keys a LaTeX document cites, in first-cited order; ``everything`` for \\nocite{*}.

    ``bib_files`` are the .bib files it reads (``\\bibdata``, or biber's .bcf), as paths
    from the .aux's folder; ``dialect`` is 'biblatex' when biblatex wrote the .aux,
    'bibtex' for BibTeX's own, None when neither says.
    """

    keys: list[str] = field(default_factory=list)
    everything: bool = False
    files: list[str] = field(default_factory=list)
    bib_files: list[str] = field(default_factory=list)
    dialect: str | None = None

    def output_file(self) -> str | None:
        """The .bib file an export for this document writes by default: the last it names.

        Abbreviation files (``\\bibliography{IEEEabrv,refs}``) come first, as their
        @strings must be read before the entries that use them, and usually live in the
        TeX tree; writing the entries over one would lose its macros.
        """
        return self.bib_files[-1] if self.bib_files else None


def read_aux(path: str | os.PathLike[str], _seen: set[Path] | None = None) -> AuxCitations:
    """Citations of a BibTeX (``\\citation``) or biblatex (``\\abx@aux@cite``) .aux file.

    Follows ``\\@input{chapter.aux}`` as LaTeX writes it for ``\\include``.
    """
    p = Path(path)
    seen = _seen if _seen is not None else set()
    result = AuxCitations()
    if p.resolve() in seen:
        return result
    seen.add(p.resolve())
    from .errors import LibraryError

    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise LibraryError(f"{p}: no such .aux file (run LaTeX on the document first)") from None
    except IsADirectoryError:
        raise LibraryError(f"{p}: is a folder, not a .aux file") from None
    except OSError as exc:
        raise LibraryError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    result.files.append(str(p))
    ordered: dict[str, None] = {}

    def add(key: str) -> None:
        key = key.strip()
        if key == "*":
            result.everything = True
        elif key:
            ordered.setdefault(key, None)

    def add_bib(name: str) -> None:
        name = name.strip()
        if name and not name.endswith("-blx"):  # biblatex's control file, not the document's
            path = str(p.parent / (name if name.lower().endswith(".bib") else name + ".bib"))
            if path not in result.bib_files:
                result.bib_files.append(path)

    if "\\abx@aux@" in text:
        result.dialect = "biblatex"
    for line in text.splitlines():
        for m in _AUX_CITATION.finditer(line):
            result.dialect = result.dialect or "bibtex"
            for key in m.group(1).split(","):
                if key.strip() != _BIBLATEX_CONTROL_KEY:
                    add(key)
        for m in _AUX_BIBLATEX.finditer(line):
            add(m.group(2) if m.group(2) is not None else m.group(1))
        for m in _AUX_BIBSTYLE.finditer(line):
            result.dialect = "biblatex" if m.group(1).strip() == "biblatex" else result.dialect
            result.dialect = result.dialect or "bibtex"
        for m in _AUX_BIBDATA.finditer(line):
            result.dialect = result.dialect or "bibtex"
            for name in m.group(1).split(","):
                add_bib(name)
        for m in _AUX_INPUT.finditer(line):
            child = (
                read_aux(p.parent / m.group(1), seen)
                if (p.parent / m.group(1)).exists()
                else AuxCitations()
            )
            for key in child.keys:
                ordered.setdefault(key, None)
            result.everything |= child.everything
            result.files.extend(child.files)
            result.bib_files += [b for b in child.bib_files if b not in result.bib_files]
            if child.dialect is not None and result.dialect != "biblatex":
                result.dialect = child.dialect
    result.keys = list(ordered)
    bcf = p.with_suffix(".bcf")
    if _seen is None and not result.bib_files and bcf.is_file():
        try:
            sources = _BCF_DATASOURCE.findall(bcf.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            sources = []
        for name in sources:
            add_bib(html.unescape(name))
    return result


def profile_names(stored: dict[str, dict[str, object]]) -> list[str]:
    return sorted(set(BUILTIN_PROFILES) | set(stored))


def parse_exclude(text: str | Iterable[str]) -> tuple[str, ...]:
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(x.strip().lower() for x in items if x.strip())
