"""Papers that are the same work: finding them and merging them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import bibvalue
from .entrytypes import TYPE_FIELDS
from .identifiers import is_doi
from .latex import ascii_fold
from .papers import Papers
from .personal import Personal
from .queries import SearchIndex
from .store import Store
from .values import STATUSES, Changes

#: Fields that say where a work appeared, in the order they decide its type, each with the
#: type an entry holding it is when no paper of the group has a type that fits it.
VENUE_TYPES: dict[str, str] = {
    "booktitle": "inproceedings",
    "journal": "article",
    "journaltitle": "article",
    "school": "phdthesis",
    "institution": "techreport",
}


def fits(entry_type: str, field: str) -> bool:
    """Whether an entry of this type may hold this field (biblatex's and JabRef's model).

    A type Citedesk does not know (``@conference``, a custom one) fits every field: it was
    somebody's choice, and nothing here knows better.
    """
    slots = TYPE_FIELDS.get(entry_type.lower())
    if slots is None:
        return True
    required, optional = slots
    return any(
        field in name.split("/") for slot in (*required, *optional) for name in slot.split("|")
    )


def merged_type(keep_type: str, venues: list[tuple[str, str]]) -> str:
    """The type of a merged entry: its own while it fits the venue fields it ends up with.

    ``venues`` are the merged entry's venue fields (:data:`VENUE_TYPES`), each with the type
    of the paper whose value was kept. A type that fits none of them (a @misc that took a
    booktitle from an @inproceedings copy) gives way to the type of the paper the first
    venue came from, or, when that one does not fit either, the type the venue implies.
    """
    if not venues or any(fits(keep_type, name) for name, _ in venues):
        return keep_type
    name, origin = min(venues, key=lambda v: list(VENUE_TYPES).index(v[0]))
    return origin if fits(origin, name) else VENUE_TYPES[name]


class Duplicates:
    """Duplicates by DOI, arXiv id or title, year and first author; merges and their undo."""

    def __init__(
        self, store: Store, index: SearchIndex, papers: Papers, personal: Personal
    ) -> None:
        self.store = store
        self.conn = store.conn
        self.index = index
        self.papers = papers
        self.personal = personal

    def find_duplicates(self) -> list[list[int]]:
        """Groups of papers that are probably the same work: same DOI, arXiv id, or title,
        year and first author. Each group is in date-added order."""
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        def union(a: int, b: int) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

        def normal(text: str) -> str:
            return re.sub(r"[^a-z0-9]", "", ascii_fold(text).lower())

        buckets: dict[tuple[str, str], list[int]] = {}
        for pid, doi, arxiv, title, year, first in self.conn.execute(
            "SELECT id, doi, arxiv, title, year, first_author FROM papers ORDER BY added, id"
        ):
            if doi and is_doi(doi):
                buckets.setdefault(("doi", doi.lower().strip()), []).append(pid)
            if arxiv:
                buckets.setdefault(("arxiv", re.sub(r"v\d+$", "", arxiv.lower())), []).append(pid)
            t = normal(title)
            if len(t) >= 10:
                buckets.setdefault(("title", f"{t}|{year or ''}|{normal(first)}"), []).append(pid)
        for members in buckets.values():
            for other in members[1:]:
                union(members[0], other)
        groups: dict[int, list[int]] = {}
        for members in buckets.values():
            for pid in members:
                groups.setdefault(find(pid), [])
                if pid not in groups[find(pid)]:
                    groups[find(pid)].append(pid)
        order = {
            pid: i
            for i, pid in enumerate(
                r[0] for r in self.conn.execute("SELECT id FROM papers ORDER BY added, id")
            )
        }
        return sorted(
            (sorted(g, key=order.__getitem__) for g in groups.values() if len(g) > 1),
            key=lambda g: order[g[0]],
        )

    def merge_papers(self, keep: int, others: Iterable[int]) -> Changes:
        """Merge duplicates into ``keep``: richer fields, all tags and notes, old keys as aliases.

        For a field both have, the longer value wins; fields only the others have are added.
        The merged entry keeps its type unless that does not fit the venue it ends up with
        (:func:`merged_type`): a @misc merged with an @inproceedings copy becomes an
        @inproceedings, never a @misc with a booktitle.
        """
        others = [o for o in dict.fromkeys(others) if o != keep]
        if not others:
            return Changes()
        with self.store.write() as w:
            w.capture_papers([keep, *others])
            target = self.papers.paper(keep)
            fields = list(target.fields)
            index = {name.lower(): i for i, (name, _) in enumerate(fields)}
            #: The type of the paper each field's kept value came from.
            origin = {name.lower(): target.entry_type for name, _ in fields}
            reading_rank = {s: i for i, s in enumerate(STATUSES)}
            status, rating = target.status, target.rating
            self.index.remove(others)
            for oid in others:
                other = self.papers.paper(oid)
                for name, raw in other.fields:
                    lname = name.lower()
                    if lname not in index:
                        index[lname] = len(fields)
                        fields.append((name, raw))
                        origin[lname] = other.entry_type
                    elif len(bibvalue.evaluate(raw)) > len(
                        bibvalue.evaluate(fields[index[lname]][1])
                    ):
                        fields[index[lname]] = (fields[index[lname]][0], raw)
                        origin[lname] = other.entry_type
                self.conn.execute("UPDATE notes SET paper_id = ? WHERE paper_id = ?", [keep, oid])
                self.conn.execute(
                    "UPDATE attachments SET paper_id = ?, role = 'supplement' "
                    "WHERE paper_id = ? AND (hash IS NULL OR hash NOT IN "
                    "(SELECT hash FROM attachments WHERE paper_id = ? AND hash IS NOT NULL))",
                    [keep, oid, keep],
                )
                self.conn.execute(
                    "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                    "SELECT ?, tag_id FROM paper_tags WHERE paper_id = ?",
                    [keep, oid],
                )
                aliases = [other.key, *other.aliases]
                self.conn.execute("DELETE FROM papers WHERE id = ?", [oid])
                for alias in aliases:
                    if alias.lower() != target.key.lower():
                        self.conn.execute(
                            "INSERT OR REPLACE INTO key_aliases(alias, paper_id) VALUES (?, ?)",
                            [alias, keep],
                        )
                if reading_rank[other.status] > reading_rank[status]:
                    status = other.status
                rating = max(rating, other.rating)
            if fields != target.fields:
                self.papers.replace_fields(keep, fields)
            venues = [(n, origin[n]) for n in VENUE_TYPES if n in origin]
            entry_type = merged_type(target.entry_type, venues)
            if entry_type != target.entry_type:
                self.conn.execute(
                    "UPDATE papers SET entry_type = ?, source = NULL WHERE id = ?",
                    [entry_type, keep],
                )
            self.conn.execute(
                "UPDATE papers SET status = ?, rating = ? WHERE id = ?", [status, rating, keep]
            )
            self.personal.after_change([keep])
        return w.result(
            Changes(
                papers={keep},
                removed=set(others),
                fields=True,
                tags=True,
                notes=True,
                status=True,
                rating=True,
            )
        )
