"""JabRef's groups, read from the ``@comment{jabref-meta: grouping:...}`` block of its files.

JabRef keeps its groups in a comment at the end of a .bib file, one group a line, each a
level, a type and fields separated by ``\\;``::

    @Comment{jabref-meta: grouping:
    0 AllEntriesGroup:;
    1 StaticGroup:Covid\\;0\\;1\\;0xcc3333ff\\;\\;Test folder\\;;
    1 KeywordGroup:Skimmed\\;0\\;readstatus\\;skimmed\\;0\\;0\\;1\\;0xffff00ff\\;\\;\\;;
    }

A static group's members name it in their ``groups`` field (JabRef 3.8 and later); an
explicit group (JabRef 2, ``groupstree:``) lists its members' keys; a keyword group holds
the entries whose field has the keyword. These become tags. Search groups are queries in
JabRef's own search language and stay in the comment, which Citedesk keeps as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import bibvalue

_HEADER = re.compile(r"\s*jabref-meta:\s*(grouping|groupstree):", re.I)
_LINE = re.compile(r"\s*(\d+)\s+(\w+):(.*)$")
_SEPARATOR = re.compile(r"(?<!\\)\\;")
_COLOR = re.compile(r"0x([0-9a-fA-F]{6})[0-9a-fA-F]{2}")


@dataclass
class Group:
    """One group of a JabRef file that Citedesk can turn into a tag."""

    name: str
    kind: str  # "static", "explicit" or "keyword"
    color: str | None = None
    keys: set[str] = field(default_factory=set)  # explicit groups
    field: str = ""  # keyword groups
    keyword: str = ""
    case_sensitive: bool = False
    regex: bool = False


def _fields(text: str) -> list[str]:
    text = text.strip()
    if text.endswith(";"):
        text = text[:-1]
    return [part.replace("\\\\", "\\") for part in _SEPARATOR.split(text)]


def _color(text: str) -> str | None:
    m = _COLOR.fullmatch(text.strip())
    return f"#{m.group(1).lower()}" if m else None


def parse_groups(comment: str) -> list[Group]:
    """The groups a ``jabref-meta`` comment defines (none if it defines something else)."""
    header = _HEADER.match(comment)
    if header is None:
        return []
    groups: list[Group] = []
    for line in comment[header.end() :].splitlines():
        m = _LINE.match(line)
        if m is None:
            continue
        kind, parts = m.group(2), _fields(m.group(3))
        if not parts or not parts[0].strip():
            continue
        name = parts[0].strip()
        if kind == "StaticGroup":
            groups.append(Group(name, "static", _color(parts[3]) if len(parts) > 3 else None))
        elif kind == "ExplicitGroup":
            keys = {k.strip() for k in parts[2:] if k.strip()}
            groups.append(Group(name, "explicit", None, keys))
        elif kind == "KeywordGroup" and len(parts) >= 4 and parts[2].strip():
            groups.append(
                Group(
                    name,
                    "keyword",
                    _color(parts[7]) if len(parts) > 7 else None,
                    field=parts[2].strip().lower(),
                    keyword=parts[3],
                    case_sensitive=parts[4:5] == ["1"],
                    regex=parts[5:6] == ["1"],
                )
            )
    return groups


def _words(value: str) -> list[str]:
    return [w.strip() for w in re.split(r"[,;]", value) if w.strip()]


def _has_keyword(group: Group, value: str) -> bool:
    if group.regex:
        try:
            return re.search(group.keyword, value, 0 if group.case_sensitive else re.I) is not None
        except re.error:
            return False
    words = _words(value)
    if group.case_sensitive:
        return group.keyword in words
    return group.keyword.lower() in (w.lower() for w in words)


def members(
    groups: list[Group], papers: Iterable[tuple[int, str, str]]
) -> dict[str, tuple[str | None, set[int]]]:
    """Tag name -> (colour, ids) for ``papers`` given as (id, key, fields as JSON)."""
    out: dict[str, tuple[str | None, set[int]]] = {g.name: (g.color, set()) for g in groups}
    static = {g.name for g in groups if g.kind == "static"}
    for pid, key, fields_json in papers:
        fields: dict[str, str] = {}
        for name, raw in json.loads(fields_json):
            fields.setdefault(name.lower(), raw)
        if static and "groups" in fields:
            for name in _words(bibvalue.evaluate(fields["groups"])):
                if name in static:
                    out[name][1].add(pid)
        for g in groups:
            if g.kind == "explicit" and key in g.keys:
                out[g.name][1].add(pid)
            elif (
                g.kind == "keyword"
                and g.field in fields
                and _has_keyword(g, bibvalue.evaluate(fields[g.field]))
            ):
                out[g.name][1].add(pid)
    return out
