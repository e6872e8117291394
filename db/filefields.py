"""Attachments named in the ``file`` fields other reference managers write.

Each tool has its own dialect of the same idea, a list of linked files in one field:

- JabRef: ``desc:path:type;desc:path:type``, with ``\\:``, ``\\;`` and ``\\\\`` escapes
  (``:C\\:\\\\papers\\\\a.pdf:PDF``). Older JabRef wrote Windows paths unescaped
  (``:C:\\papers\\a.pdf:PDF``).
- Zotero: the same triplets, ``Full Text PDF:/home/x/a.pdf:application/pdf``, escaping
  ``\\ : ; { } $`` with a backslash. Better BibTeX writes bare paths, ``path;path``, with the
  same escapes (in its JabRef mode it writes triplets).
- Mendeley: ``:path:pdf`` with no description, its backslashes written as LaTeX
  (``$\\backslash$``) and some characters braced (``{\\_}``).
- BibDesk: one field per file, ``bdsk-file-1``, ``bdsk-file-2``..., each a base64 binary
  property list holding a ``relativePath`` (see :func:`parse_bdsk_file`).

Reading reports, it does not throw: a malformed value gives the attachments that can be read
from it, and nothing for the rest. Paths are kept as written (after unescaping);
:func:`resolve` turns one into a path on this machine.
"""

from __future__ import annotations

import base64
import binascii
import plistlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from .bibvalue import evaluate

#: Who wrote a ``file`` field; "auto" tells them apart (see :func:`parse_file_field`).
Source = Literal["auto", "jabref", "zotero", "mendeley"]


@dataclass(frozen=True)
class FileRef:
    """One attachment: its path as written, and JabRef's description and file type."""

    path: str
    description: str = ""
    type: str = ""

    @property
    def is_url(self) -> bool:
        """True for a web address (``https://...``), which names no file on this machine.

        ``file:`` URIs are local files and are not URLs here.
        """
        scheme = _url_scheme(self.path)
        return scheme is not None and scheme != "file"


# --- The JabRef / Zotero / Better BibTeX syntax -------------------------------------------

#: A URL's scheme before ``://``; two letters at least, so a drive letter is not one.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+)://")
#: Mendeley's LaTeX in paths: ``$\backslash$``, ``{\_}``, ``{\~{}}`` and ``\&{}``-like marks.
_MENDELEY_MARK = re.compile(r"\$\\backslash\$|\$\\sim\$|\{\\[^A-Za-z0-9\s]\}|\{\\[~^]\{\}\}")
_MENDELEY_SUBS = [
    (re.compile(r"\$\\sim\$"), "~"),
    (re.compile(r"\{\\([~^])\{\}\}"), r"\1"),
    (re.compile(r"\{\\([^A-Za-z0-9\s])\}"), r"\1"),
    (re.compile(r"\\([~^&%#_$])\{\}"), r"\1"),
    # Last, so that the backslashes it makes are not read as LaTeX.
    (re.compile(r"\$\\backslash\$"), "\\\\"),
]


def _url_scheme(path: str) -> str | None:
    m = _SCHEME.match(path)
    return m.group(1).lower() if m else None


def _is_mendeley(value: str) -> bool:
    return _MENDELEY_MARK.search(value) is not None


def _unlatex_mendeley(value: str) -> str:
    """Mendeley's LaTeX marks back to the JabRef escapes they stand for.

    ``C$\\backslash$:/Users`` is ``C\\:/Users``: Mendeley wrote JabRef's escaped colon with its
    backslash in LaTeX. ``{\\_}`` is ``_``.
    """
    for pattern, repl in _MENDELEY_SUBS:
        value = pattern.sub(repl, value)
    return value


def _split_records(value: str) -> list[str]:
    """``value`` cut at each ``;`` that no backslash escapes; escapes are kept."""
    records: list[str] = []
    start = 0
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if ch == "\\":
            i += 2
            continue
        if ch == ";":
            records.append(value[start:i])
            start = i + 1
        i += 1
    records.append(value[start:])
    return records


def _split_parts(record: str) -> list[str]:
    """One record's parts, cut at the unescaped ``:`` and unescaped.

    A backslash escapes the character after it unless that is a letter or digit: JabRef
    escapes only ``\\ : ;`` (Zotero also ``{ } $``), so ``\\p`` is a backslash some other
    writer left in a Windows path, and it stays (as Zotero reads it). Two kinds of ``:``
    are not separators:

    - a drive letter's (one letter, then ``\\`` or ``/``: ``C:\\x``). After ``C:\\`` the path
      was written unescaped (older JabRef), so its backslashes are kept as they are, ``\\\\``
      read as one, up to the next ``:`` or the end;
    - a URL scheme's (``http://``), which older writers left unescaped too.
    """
    parts: list[str] = []
    current: list[str] = []
    literal = False  # inside an unescaped Windows path
    i = 0
    n = len(record)
    while i < n:
        ch = record[i]
        nxt = record[i + 1] if i + 1 < n else ""
        if ch == "\\":
            if literal:
                current.append("\\")
                i += 2 if nxt == "\\" else 1
            elif nxt and not nxt.isalnum():
                current.append(nxt)
                i += 2
            else:
                current.append("\\")
                i += 1
            continue
        if ch == ":":
            text = "".join(current)
            if len(text.strip()) == 1 and text.strip().isascii() and text.strip().isalpha():
                if nxt in ("\\", "/"):
                    current.append(":")
                    literal = nxt == "\\"
                    i += 1
                    continue
            if record.startswith("//", i + 1) and _SCHEME.fullmatch(text.strip() + "://"):
                current.append(":")
                i += 1
                continue
            parts.append(text)
            current = []
            literal = False
            i += 1
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _record_ref(parts: list[str], zotero: bool) -> FileRef | None:
    """The attachment one record's parts describe, or None when it names no path."""
    if len(parts) == 1:
        ref = FileRef(parts[0].strip())
    elif zotero and len(parts) != 3:
        # Zotero reads only paths and triplets; anything else is one path, colons and all.
        ref = FileRef(":".join(parts).strip())
    elif len(parts) == 2:
        ref = FileRef(parts[1].strip(), parts[0].strip())  # JabRef: description, path
    elif not any(p.strip() for p in parts[1:-1]):
        return None  # ":::" and the like
    else:
        # A colon left unescaped in the path (3+ parts): the first part describes, the
        # last is the type, the rest is the path.
        ref = FileRef(":".join(parts[1:-1]).strip(), parts[0].strip(), parts[-1].strip())
    return ref if ref.path else None


def parse_file_field(value: str, source: Source = "auto") -> list[FileRef]:
    """The attachments a ``file`` (or ``files``) field's text names, in order.

    ``value`` is the field's text, delimiters removed (see :func:`file_refs` for raw values).
    ``source`` says who wrote it; "auto" decides so:

    1. Mendeley, when the value has Mendeley's LaTeX marks (``$\\backslash$``, ``{\\_}``, and
       the like); they are turned back into the escapes they stand for, and the value is then
       read as JabRef's.
    2. Otherwise JabRef's reading, which also covers Zotero and Better BibTeX: records are cut
       at unescaped ``;`` and each record at unescaped ``:`` (drive letters ``C:\\`` and URL
       schemes ``http://`` do not count). One part is a bare path (Better BibTeX), two are
       ``description:path``, three ``description:path:type`` (JabRef, Zotero, Mendeley); with
       more, the middle ones are a path whose colons were not escaped.

    "jabref" skips step 1. "zotero" reads as Zotero's own importer: a record is a triplet or
    else one path, bare colons included. "mendeley" always applies step 1.

    Empty records and records without a path are skipped. Never raises.
    """
    mendeley = source == "mendeley" or (source == "auto" and _is_mendeley(value))
    if mendeley:
        value = _unlatex_mendeley(value)
    refs: list[FileRef] = []
    for record in _split_records(value):
        if not record.strip():
            continue
        ref = _record_ref(_split_parts(record), source == "zotero")
        if ref is not None:
            refs.append(ref)
    return refs


# --- BibDesk -----------------------------------------------------------------------------


def _archived_relative_path(archive: dict[str, object]) -> str | None:
    """The ``relativePath`` string in an NSKeyedArchiver archive, or None.

    Objects refer to each other by ``UID`` indexes into ``$objects``. The path sits in a
    dictionary archived either as an object (a ``relativePath`` key whose value is a UID) or,
    as BibDesk writes it, as an ``NSDictionary`` (``NS.keys`` and ``NS.objects``, two lists of
    UIDs in step).
    """
    objects = archive.get("$objects")
    if not isinstance(objects, list):
        return None

    def deref(item: object) -> object:
        if isinstance(item, plistlib.UID) and 0 <= item.data < len(objects):
            return objects[item.data]
        return item

    for obj in objects:
        if not isinstance(obj, dict):
            continue
        if "relativePath" in obj:
            found = deref(obj["relativePath"])
            if isinstance(found, str):
                return found
        keys, values = obj.get("NS.keys"), obj.get("NS.objects")
        if isinstance(keys, list) and isinstance(values, list):
            for key, item in zip(keys, values, strict=False):
                if deref(key) == "relativePath":
                    found = deref(item)
                    if isinstance(found, str):
                        return found
    return None


def parse_bdsk_file(value: str) -> FileRef | None:
    """The attachment a BibDesk ``bdsk-file-N`` field names, or None if it cannot be read.

    The value is a base64 binary property list: a keyed archive of a dictionary (BibDesk's
    usual form) or a plain dictionary, with the file's path relative to the .bib file's folder
    under ``relativePath`` (the alias or bookmark data beside it is macOS-only and ignored).
    Bad base64, a bad property list or one without a ``relativePath`` string give None.
    """
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        plist = plistlib.loads(data)
    except Exception:  # plistlib's reader fails on corrupt data in many different ways
        return None
    if not isinstance(plist, dict):
        return None
    path: object = plist.get("relativePath")
    if not isinstance(path, str):
        path = _archived_relative_path(plist) if "$objects" in plist else None
    if not isinstance(path, str) or not path:
        return None
    return FileRef(path)


# --- An entry's fields -------------------------------------------------------------------

_BDSK_FILE = re.compile(r"bdsk-file-\d+", re.I)


def file_refs(fields: Iterable[tuple[str, str]]) -> list[FileRef]:
    """Every attachment an entry's fields name: ``file``, ``files`` and ``bdsk-file-N``.

    ``fields`` are (name, raw value) pairs, values as written in the file with their
    delimiters (``{...}`` or ``"..."``). Field names are compared ignoring case. Attachments
    come in field order; one named twice is kept once.
    """
    refs: list[FileRef] = []
    for name, raw in fields:
        key = name.strip().lower()
        if key in ("file", "files"):
            found = parse_file_field(evaluate(raw.strip()))
        elif _BDSK_FILE.fullmatch(key):
            ref = parse_bdsk_file(evaluate(raw.strip()))
            found = [] if ref is None else [ref]
        else:
            continue
        refs.extend(r for r in found if r not in refs)
    return refs


# --- Paths -------------------------------------------------------------------------------

_WINDOWS_ABSOLUTE = re.compile(r"[A-Za-z]:[\\/]|\\\\")


def resolve(ref: FileRef, bib_dir: Path) -> Path:
    """Where ``ref``'s file is: a relative path is taken from the .bib file's folder.

    Absolute paths are returned as they are (a Windows one, ``C:\\x.pdf``, too, even where
    it names nothing); ``file:`` URIs become the local path they name. In a relative path a
    backslash is a folder separator (it came from Windows). The result is not normalised and
    the file system is not touched: the file may be missing.

    Raises:
        ValueError: for a web address (see :attr:`FileRef.is_url`), which has no local path.
    """
    path = ref.path
    scheme = _url_scheme(path)
    if scheme == "file" or path.lower().startswith("file:/"):
        parts = urlsplit(path)
        local = unquote(parts.path)
        if re.match(r"/[A-Za-z]:[\\/]", local):
            local = local[1:]  # file:///C:/x.pdf
        elif parts.netloc and parts.netloc.lower() != "localhost":
            local = f"//{parts.netloc}{local}"  # a UNC share
        return Path(local)
    if scheme is not None:
        raise ValueError(f"{path!r} is a web address, not a file on this computer")
    if path.startswith("/") or _WINDOWS_ABSOLUTE.match(path):
        return Path(path)
    return bib_dir / path.replace("\\", "/")


def _escape_jabref(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:").replace(";", "\\;")


def format_file_field(refs: Iterable[FileRef]) -> str:
    """A JabRef ``file`` field's value (``desc:path:type;...``, escaped as JabRef reads it)
    for these files; Zotero and Better BibTeX read it too."""
    return ";".join(
        ":".join(_escape_jabref(part) for part in (r.description, r.path, r.type)) for r in refs
    )
