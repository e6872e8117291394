"""Papers that arrive from a lookup: previews, the papers they may already be, refreshes.

A looked-up record (:class:`db.sources.Found`) is shown before it is added: the entry as
it will be stored, with the key it will get, and the papers of the library that are
probably the same work (same DOI, same arXiv id, or same title and year). Adding goes
through the ordinary import (one transaction, one undo, the same report).

A refresh compares a paper with a newer record field by field (:class:`FieldDiff`) and
writes only the differences the person accepted, in one write; the key never changes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import bibvalue, csljson, keys
from .bibwrite import format_entry
from .citekeys import CiteKeys
from .derive import derive, field_map
from .identifiers import Identifier, arxiv_base, isbn13, parse_identifier
from .latex import ascii_fold, latex_to_unicode
from .names import parse_names
from .papers import Papers
from .store import Store
from .values import Changes, Paper

if TYPE_CHECKING:  # the lookup modules bring httpx: imported when a lookup is made
    from .http import CachedAnswer
    from .sources import Found

#: Search results under this score are not offered as "the" match.
GOOD_MATCH = 0.8


@dataclass
class SearchFor:
    """What a paper is searched by when it has no identifier."""

    title: str
    author: str = ""
    year: str = ""
    identifiers: list[Identifier] = field(default_factory=list)


#: Cached answers older than this are dropped when new ones are kept.
CACHE_DAYS = 90

#: Fields a refresh never proposes to change: the library's own, or the person's.
_KEEP = {"keywords", "file", "groups", "note", "annote", "comment", "code", "affiliation"}


@dataclass(frozen=True)
class SamePaper:
    """A paper of the library that is probably the one found, and why we think so."""

    paper_id: int
    key: str
    title: str
    why: str


@dataclass
class Preview:
    """A found record as it would be added: its key, its BibTeX, the papers it may be."""

    found: Found
    key: str
    text: str
    same: list[SamePaper]


@dataclass(frozen=True)
class FieldDiff:
    """One field a refresh would change: ``old`` and ``new`` as a reader sees them (plain
    text), ``raw`` the new BibTeX value. ``name`` ``"@type"`` is the entry type."""

    name: str
    old: str
    new: str
    raw: str

    @property
    def added(self) -> bool:
        return not self.old


def _normal_title(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ascii_fold(latex_to_unicode(text)).lower())


class Arrivals:
    def __init__(self, store: Store, papers: Papers, citekeys: CiteKeys) -> None:
        self.store = store
        self.conn = store.conn
        self.papers = papers
        self.keys = citekeys

    # -- before adding --------------------------------------------------------------------------

    def same_papers(self, found: Found) -> list[SamePaper]:
        """Papers that are probably ``found``: same DOI, arXiv id, or title and year."""
        out: dict[int, SamePaper] = {}

        def add(rows: Sequence[tuple[int, str, str]], why: str) -> None:
            for pid, key, title in rows:
                out.setdefault(pid, SamePaper(pid, key, title or "", why))

        records = [found] + ([found.published] if found.published else [])
        for rec in records:
            doi = rec.get("doi").strip()
            if doi:
                add(
                    self.conn.execute(
                        "SELECT id, key, title FROM papers WHERE doi = ? COLLATE NOCASE", [doi]
                    ).fetchall(),
                    "same DOI",
                )
            eprint = rec.get("eprint").strip()
            if eprint and rec.get("eprinttype").lower() in ("arxiv", ""):
                base = arxiv_base(eprint)
                # The id with or without a version: a range on the index, not a LIKE scan.
                add(
                    self.conn.execute(
                        "SELECT id, key, title FROM papers WHERE arxiv = ? "
                        "OR (arxiv > ? AND arxiv < ?)",
                        [base, base + "v", base + "w"],
                    ).fetchall(),
                    "same arXiv id",
                )
            year = rec.get("year").strip()
            title = _normal_title(rec.title)
            if len(title) >= 10 and year.isdigit():
                # Titles starting alike (the sort index), then compared whole.
                start = ascii_fold(latex_to_unicode(rec.title)).lower().lstrip("\"'({[ ")[:8]
                rows = self.conn.execute(
                    "SELECT id, key, title FROM papers INDEXED BY papers_title_sort "
                    "WHERE title_sort >= ? AND title_sort < ? AND year = ?",
                    [start, start + "\U0010ffff", int(year)],
                ).fetchall()
                add([r for r in rows if _normal_title(r[2] or "") == title], "same title and year")
        return list(out.values())

    def preview(self, founds: Sequence[Found], taken: set[str] | None = None) -> list[Preview]:
        """Each record with the key it will get (unique in the library and among these).

        ``taken``: keys (lower case) already promised to records previewed before, when a
        long list is previewed a part at a time; the keys given here are added to it.
        """
        out = []
        taken = set() if taken is None else taken
        macros = self.keys.macros.current()
        for found in founds:
            raw = found.raw_fields()
            d = derive(raw, macros)
            base = keys.format_key(
                self.keys.key_pattern, d.authors or d.editors, str(d.year or ""), d.title
            )
            key = keys.unique_key(base, lambda k: k.lower() in taken or self.keys.key_taken(k))
            taken.add(key.lower())
            found.entry.key = key
            text = format_entry(found.entry.entry_type, key, raw)
            out.append(Preview(found, key, text, self.same_papers(found)))
        return out

    # -- refreshing ----------------------------------------------------------------------------

    def search_for(self, paper: Paper) -> SearchFor:
        """What a paper is looked up by: its identifiers, else its title, first author, year."""
        ids: list[Identifier] = []
        for stored, kind in ((paper.doi, "doi"), (paper.arxiv, "arxiv")):
            # As stored may be "https://doi.org/10...", "doi:10...", "arXiv:1605.08386".
            ident = parse_identifier(stored or "")
            if ident is not None and ident.kind == kind:
                ids.append(ident)
        isbn = isbn13(re.sub(r"[^0-9Xx]", "", paper.text("isbn")))
        if isbn:
            ids.append(Identifier("isbn", isbn))
        first = paper.authors[0] if paper.authors else None
        author = ""
        if first is not None and not first.is_others:
            author = latex_to_unicode(first.family)
        return SearchFor(
            latex_to_unicode(paper.title), author, str(paper.year or ""), identifiers=ids
        )

    def diff(self, paper: Paper, found: Found) -> list[FieldDiff]:
        """The fields ``found`` would add or change in ``paper`` (never removes one, never
        touches the key or the person's own fields), in the record's order."""
        have = field_map(paper.fields)
        out: list[FieldDiff] = []
        if found.entry.entry_type and found.entry.entry_type != paper.entry_type:
            out.append(FieldDiff("@type", paper.entry_type, found.entry.entry_type, ""))
        for name, raw in found.raw_fields():
            if name in _KEEP or not raw.strip('{}" '):
                continue
            new = _shown(raw)
            old_raw = have.get(name)
            old = _shown(old_raw) if old_raw is not None else ""
            if old_raw is not None and _same(old, new, name):
                continue
            out.append(FieldDiff(name, old, new, raw))
        return out

    def apply(self, paper_id: int, accepted: Sequence[FieldDiff]) -> Changes:
        """Write the accepted differences into the paper: one write, one undo."""
        if not accepted:
            return Changes()
        with self.store.write() as w:
            paper = self.papers.paper(paper_id)
            fields = list(paper.fields)
            index = {n.lower(): i for i, (n, _) in enumerate(fields)}
            new_type = None
            for d in accepted:
                if d.name == "@type":
                    new_type = d.new
                    continue
                if not bibvalue.is_well_formed(d.raw):
                    continue
                if d.name in index:
                    fields[index[d.name]] = (fields[index[d.name]][0], d.raw)
                else:
                    index[d.name] = len(fields)
                    fields.append((d.name, d.raw))
            self.papers.replace_fields(paper_id, fields, None)
            changes = Changes(papers={paper_id}, fields=True)
            if new_type:
                changes = changes.merge(self.papers.set_entry_types([paper_id], new_type))
        return w.result(changes)

    # -- the response cache ---------------------------------------------------------------------

    def save_cache(self, answers: Sequence[CachedAnswer]) -> None:
        """Keep answers fetched by a lookup (from the thread that owns the library)."""
        if not answers:
            return
        now = time.time()
        with self.store.write():
            self.conn.executemany(
                "INSERT INTO lookup_cache(url, accept, status, content_type, body, fetched) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(url, accept) DO UPDATE SET "
                "status = excluded.status, content_type = excluded.content_type, "
                "body = excluded.body, fetched = excluded.fetched",
                [(a.url, a.accept, a.status, a.content_type, a.body, now) for a in answers],
            )
            self.conn.execute(
                "DELETE FROM lookup_cache WHERE fetched < ?", [now - CACHE_DAYS * 86400]
            )


def _shown(raw: str) -> str:
    """A raw value as a reader sees it: delimiters gone, LaTeX turned into Unicode."""
    if raw.isalpha() and len(raw) == 3:
        return raw  # a month macro
    return " ".join(latex_to_unicode(bibvalue.evaluate(raw)).split())


def _same(old: str, new: str, name: str) -> bool:
    """Equal for a reader: case and spacing of titles, ``--`` against ``-`` in pages,
    ``https://doi.org/`` prefixes of DOIs, month names against numbers."""
    if name == "doi":
        strip = re.compile(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", re.I)
        return strip.sub("", old).lower() == strip.sub("", new).lower()
    if name == "pages":
        return re.sub(r"[-\u2013\u2014]+", "-", old) == re.sub(r"[-\u2013\u2014]+", "-", new)
    if name == "month":
        return csljson.month_number(old) == csljson.month_number(new)
    if name in ("author", "editor"):
        # "Stanley, Caprice" and "Caprice Stanley" are one name written two ways.
        def people(text: str) -> list[str]:
            return [_normal_title(p.display) for p in parse_names(text)]

        return people(old) == people(new)
    if name in ("title", "journal", "booktitle"):
        return _normal_title(old) == _normal_title(new)
    return old.strip() == new.strip()
