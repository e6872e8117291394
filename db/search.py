"""From what a person types in the search box to SQL over the FTS5 index.

Syntax: words (prefix-matched as you type), ``"exact phrase"``, ``-word`` to exclude,
``author:wang``, ``title:sgd``, ``venue:icml``, ``tag:theory``, ``year:2023``,
``year:2022..2024`` (either end may be left open). User text reaches FTS5 only as quoted
strings, so no input can make a query fail; what cannot be understood becomes a hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FIELD_COLUMNS = {
    "author": "authors",
    "authors": "authors",
    "title": "title",
    "abstract": "abstract",
    "venue": "venue",
    "journal": "venue",
    "keyword": "keywords",
    "keywords": "keywords",
    "note": "notes",
    "notes": "notes",
}
_TOKEN = re.compile(r'(-?)(?:([A-Za-z]+):)?(?:"([^"]*)"?|(\S+))')
_WORD = re.compile(r"\w", re.UNICODE)
_YEAR = re.compile(r"^(\d{4})?(?:(\.\.)(\d{4})?)?$")
MAX_QUERY_CHARS = 1000
MAX_TERMS = 32


@dataclass
class ParsedQuery:
    """A query as SQL: a WHERE fragment over ``papers p`` and its parameters."""

    where: str = "1"
    params: list[object] = field(default_factory=list)
    hint: str | None = None
    empty: bool = True
    fts: str | None = None


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def parse_query(text: str) -> ParsedQuery:
    """Turn typed text into SQL. Never raises; questionable parts yield a hint."""
    hints: list[str] = []
    # SQLite reads a query string only up to a NUL; control characters mean nothing here.
    text = "".join(" " if ord(c) < 32 or c == "\x7f" else c for c in text)
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        hints.append(f"only the first {MAX_QUERY_CHARS} characters are searched")
    positive: list[str] = []
    negative: list[str] = []
    where: list[str] = []
    params: list[object] = []
    terms = 0
    for m in _TOKEN.finditer(text):
        neg, prefix, quoted, bare = m.group(1) == "-", m.group(2), m.group(3), m.group(4)
        value = quoted if quoted is not None else bare
        if value is None:
            continue
        terms += 1
        if terms > MAX_TERMS:
            hints.append(f"only the first {MAX_TERMS} terms are used")
            break
        key = prefix.lower() if prefix else None
        if key == "year":
            ym = _YEAR.match(value)
            if not ym or not (ym.group(1) or ym.group(3)):
                hints.append(f"year:{value} is not a year or range like 2022..2024")
                continue
            lo, rng, hi = ym.group(1), ym.group(2), ym.group(3)
            if not rng:
                cond, args = "p.year = ?", [int(lo)]
            else:
                parts, args = [], []
                if lo:
                    parts.append("p.year >= ?")
                    args.append(int(lo))
                if hi:
                    parts.append("p.year <= ?")
                    args.append(int(hi))
                cond = " AND ".join(parts)
            where.append(f"NOT ({cond})" if neg else f"({cond})")
            params.extend(args)
            continue
        if key == "tag":
            # The tag's papers from its index, not a lookup per paper (100 ms at 100,000).
            cond = (
                "p.id IN (SELECT pt.paper_id FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
                "WHERE t.name = ? COLLATE NOCASE)"
            )
            where.append(f"NOT ({cond})" if neg else cond)
            params.append(value)
            continue
        if key == "key":
            cond = "p.key LIKE ? ESCAPE '\\'"
            esc = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(f"NOT ({cond})" if neg else f"({cond})")
            params.append(esc + "%")
            continue
        column = None
        if key is not None:
            column = _FIELD_COLUMNS.get(key)
            if column is None:
                # "re:" or a URL: search the whole text rather than refuse it.
                value = m.group(0).lstrip("-")
                if quoted is not None:
                    value = value.replace('"', "")
        if not _WORD.search(value):
            if value.strip():
                hints.append(f"'{value}' has no letters or digits to search for")
            continue
        phrase = _fts_string(value)
        if quoted is None:
            phrase += "*"
        expr = f"{column} : {phrase}" if column else phrase
        (negative if neg else positive).append(expr)
    if positive:
        fts = " AND ".join(positive)
        if negative:
            fts += " NOT (" + " OR ".join(negative) + ")"
        where.append("p.id IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)")
        params.append(fts)
    elif negative:
        fts = " OR ".join(negative)
        where.append("p.id NOT IN (SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?)")
        params.append(fts)
    else:
        fts = None
    return ParsedQuery(
        where=" AND ".join(where) if where else "1",
        params=params,
        hint="; ".join(hints) or None,
        empty=not where,
        fts=fts,
    )
