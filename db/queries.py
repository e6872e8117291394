"""Finding papers: which match a query, in what order, and the search indexes behind it.

:mod:`db.search` turns what a person types into SQL; here that SQL runs, sorted over the
indexes of the ``papers`` table, and the two full-text indexes are kept in step with the
papers in the same transaction as every change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .names import Person
from .search import FULLTEXT_SQL, SEARCH_TABLES, WORD_CONDITION, parse_query
from .store import Store, rejected
from .values import Query, Row

#: Table columns the window may sort by, and the SQL that sorts them (each has an index).
SORT_COLUMNS = {
    "title": "p.title_sort",
    "authors": "p.first_author",
    "year": "p.year",
    "venue": "p.venue COLLATE NOCASE",
    "tags": "p.tags COLLATE NOCASE",
    "status": "p.status",
    "rating": "p.rating",
    "added": "p.added",
    "key": "p.key COLLATE NOCASE",
    "opened": "p.opened",
}
#: The reading queue's order (Query.queue): priority (the rating) high first, then the
#: oldest added first; the ``papers_queue`` index holds it (schema.py, 7).
QUEUE_ORDER = "ORDER BY p.rating DESC, p.added ASC, p.id ASC"
#: The papers the reading queue lists.
QUEUE_STATUSES = ("unread", "reading")

#: A paper's notes as one text, for its row in the search index.
_NOTES_OF_PAPER = (
    "coalesce((SELECT group_concat(body, ' ') FROM notes n WHERE n.paper_id = p.id), '')"
)


class SearchIndex:
    """The two full-text indexes (abstracts have their own), written inside the caller's
    transaction so that they never disagree with the papers."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn

    def update(self, ids: Sequence[int], abstract: bool = True) -> None:
        """Bring the rows of these papers in step with their data (``abstract=False``: the
        abstracts did not change, their index is left as it is)."""
        selection, arg = "IN (SELECT value FROM json_each(?))", [json.dumps(list(ids))]
        tables = SEARCH_TABLES if abstract else SEARCH_TABLES[:1]
        self._remove_ids(ids, tables)
        self._fill(selection, arg, abstract=abstract)

    def add_new(self, first: int, last: int) -> None:
        """Add the papers with ids ``first`` to ``last``, just added: they have no notes."""
        self._fill("BETWEEN ? AND ?", [first, last], notes=False)

    def remove(self, ids: Sequence[int]) -> None:
        """Take papers out of both indexes (before they are deleted)."""
        self._remove_ids(ids)

    def _remove_ids(self, ids: Sequence[int], tables: Sequence[str] = SEARCH_TABLES) -> None:
        """FTS5 finds ``rowid = ?`` directly but reads the whole index for ``rowid IN
        (...)``: one paper of 10,000 took 5-11 ms that way, 0.6-1.2 ms by its rowid. Many
        papers at once (an import taken back) still go in one pass."""
        if len(ids) > 2000:
            self._remove("IN (SELECT value FROM json_each(?))", [json.dumps(list(ids))], tables)
            return
        for table in tables:
            self.conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(i,) for i in ids])

    def rebuild(self) -> None:
        with self.store.write():
            for table in SEARCH_TABLES:
                self.conn.execute(f"DELETE FROM {table}")
            self.update([r[0] for r in self.conn.execute("SELECT id FROM papers")])

    @contextmanager
    def bulk(self, hashsize: int) -> Iterator[None]:
        """Inside a write: FTS5 keeps ``hashsize`` bytes of new index data in memory (its
        default is 1 MB) while many papers are added, and the default is put back after."""
        before = {}
        for table in SEARCH_TABLES:
            row = self.conn.execute(f"SELECT v FROM {table}_config WHERE k = 'hashsize'").fetchone()
            before[table] = row[0] if row else 1 << 20  # FTS5's default: 1 MB
            self._config(table, "hashsize", hashsize)
        yield
        for table, size in before.items():  # for the small writes of editing
            self._config(table, "hashsize", size)

    def _config(self, table: str, name: str, value: object) -> None:
        self.conn.execute(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)", [name, value])

    def _fill(
        self, selection: str, params: Sequence[Any], notes: bool = True, abstract: bool = True
    ) -> None:
        """Add the papers whose ``p.id`` matches ``selection`` to both search indexes."""
        notes_text = _NOTES_OF_PAPER if notes else "''"
        self.conn.execute(
            "INSERT INTO papers_fts(rowid, title, authors, venue, keywords, tags, notes) "
            f"SELECT p.id, p.title, p.authors_full, p.venue, p.keywords, p.tags, {notes_text} "
            f"FROM papers p WHERE p.id {selection}",
            params,
        )
        if not abstract:
            return
        self.conn.execute(
            "INSERT INTO papers_abstract(rowid, abstract) SELECT p.id, p.abstract FROM papers p "
            f"WHERE p.id {selection} AND p.abstract != ''",
            params,
        )

    def _remove(
        self, selection: str, params: Sequence[Any], tables: Sequence[str] = SEARCH_TABLES
    ) -> None:
        """Take papers out of search indexes; ``selection`` follows ``rowid``."""
        for table in tables:
            self.conn.execute(f"DELETE FROM {table} WHERE rowid {selection}", params)


class Queries:
    """Reads by query: counts, ids in display order, table rows, records for scripts."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        # The whole library's ids in one sort order, with the state it was read in.
        self._order_cache: tuple[tuple[Any, ...], list[int], dict[int, int] | None] | None = None

    def _where(
        self, query: Query | None, fulltext: bool = True
    ) -> tuple[str, list[Any], str | None]:
        if query is None:
            return "1", [], None
        where: list[str] = []
        params: list[Any] = []
        hint = None
        if query.search.strip():
            parsed = parse_query(query.search, fulltext)
            where.append(parsed.where)
            params.extend(parsed.params)
            hint = parsed.hint
        if query.tag is not None:
            where.append(
                "p.id IN (SELECT pt.paper_id FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id"
                " WHERE t.name = ? COLLATE NOCASE)"
            )
            params.append(query.tag)
        if query.status is not None:
            where.append("p.status = ?")
            params.append(query.status)
        if query.keys:
            where.append("p.key COLLATE NOCASE IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(query.keys)))
        if query.ids:
            where.append("p.id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(query.ids)))
        if query.recent_days is not None:
            where.append("p.added >= ?")
            since = datetime.now(UTC).timestamp() - query.recent_days * 86400
            params.append(datetime.fromtimestamp(since, UTC).isoformat())
        if query.queue:
            where.append(f"p.status IN {QUEUE_STATUSES!r}")
        return (" AND ".join(where) or "1"), params, hint

    def search_hint(self, text: str) -> str | None:
        """A short hint when a typed query was only partly usable, else None."""
        return parse_query(text).hint

    def count(self, query: Query | None = None) -> int:
        where, params, _ = self._where(query)
        try:
            return int(
                self.conn.execute(
                    f"SELECT count(*) FROM papers p WHERE {where}", params
                ).fetchone()[0]
            )
        except Exception as exc:
            if rejected(exc):  # FTS5 refused the words: nothing matches
                return 0
            raise

    def paper_ids(
        self,
        query: Query | None = None,
        sort: str = "added",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[int]:
        """Ids of matching papers in display order. Sorting happens in SQL, over an index.

        Without ``limit``, the order of the whole library is read from its index once and
        kept until the library changes; a query's matches (found by SQL and FTS5) are then
        put in that order here. At 100,000 papers that takes 5-30 ms, where an ORDER BY over
        a 100,000-row IN list takes 70-160 ms (a one-letter search matches nearly all).
        """
        where, params, _ = self._where(query)
        column = SORT_COLUMNS.get(sort)
        if column is None:
            raise ValueError(f"cannot sort by {sort!r}; choose one of {', '.join(SORT_COLUMNS)}")
        direction = "DESC" if descending else "ASC"
        nulls = f"p.year IS NULL {direction}, " if sort == "year" else ""
        order = f"ORDER BY {nulls}{column} {direction}, p.id {direction}"
        if query is not None and query.queue:
            order = QUEUE_ORDER
        try:
            if limit is None:
                return self._ordered_ids(query, where, params, order)
            sql = f"SELECT p.id FROM papers p WHERE {where} {order} LIMIT ? OFFSET ?"
            return [r[0] for r in self.conn.execute(sql, [*params, limit, offset])]
        except Exception as exc:
            # Only FTS can refuse a query built by search.py; report nothing found.
            if rejected(exc):
                return []
            raise

    def _ordered_ids(
        self, query: Query | None, where: str, params: list[Any], order: str
    ) -> list[int]:
        state = (order, self.conn.total_changes, self.store.data_version())
        if self._order_cache is None or self._order_cache[0] != state:
            # One row holding a JSON array: 100,000 ids cost 20 ms, not 40 as rows.
            (text,) = self.conn.execute(
                f"SELECT json_group_array(id) FROM (SELECT p.id FROM papers p {order})"
            ).fetchone()
            self._order_cache = (state, json.loads(text), None)
        full = self._order_cache[1]
        if where == "1":
            return list(full)
        parsed = parse_query(query.search) if query is not None else None
        # Papers found by their own data come first, those found only in the text of their
        # files after them (each part in the sort order).
        first: set[int] | None = None
        if (
            query is not None
            and parsed is not None
            and query == Query(search=query.search)
            and parsed.words_only
        ):
            # Only words to find: the indexes' row ids are the paper ids.
            wanted, first = self._word_matches(
                parsed.words, parsed.exclude, parsed.alternatives, parsed.fulltext
            )
        else:
            wanted = self._matching(where, params)
            if parsed is not None and parsed.has_fulltext and self.has_fulltext():
                first = self._matching(*self._where(query, fulltext=False)[:2]) & wanted
        rest = wanted - first if first is not None else set()
        if rest:  # (``first`` holds only papers that are wanted)
            return [*self._in_order(wanted - rest, full, state), *self._in_order(rest, full, state)]
        return self._in_order(wanted, full, state)

    def _matching(self, where: str, params: list[Any]) -> set[int]:
        # "+p.id": look the words up once, not the wide papers row of each hit (a year or a
        # status is then read from its index).
        plain = where.replace(WORD_CONDITION, "+" + WORD_CONDITION)
        sql = f"SELECT json_group_array(p.id) FROM papers p WHERE {plain}"
        return set(json.loads(self.conn.execute(sql, params).fetchone()[0]))

    def _in_order(self, wanted: set[int], full: list[int], state: tuple[Any, ...]) -> list[int]:
        """``wanted`` in the order of ``full`` (the whole library's, read in ``state``)."""
        positions = self._order_cache[2] if self._order_cache is not None else None
        if len(wanted) * 8 < len(full):
            if positions is None:
                positions = {pid: i for i, pid in enumerate(full)}
                self._order_cache = (state, full, positions)
            at = positions.get
            return sorted((m for m in wanted if at(m) is not None), key=positions.__getitem__)
        return [pid for pid in full if pid in wanted]

    def has_fulltext(self) -> bool:
        """Whether any attached file's text is indexed (else full text can find nothing)."""
        return bool(self.conn.execute("SELECT EXISTS (SELECT 1 FROM documents)").fetchone()[0])

    def _word_matches(
        self,
        words: list[tuple[str | None, str | None]],
        exclude: tuple[str | None, str | None] | None,
        alternatives: Sequence[tuple[str, list[object]] | None] = (),
        fulltext: Sequence[str | None] = (),
    ) -> tuple[set[int], set[int]]:
        """Ids of the papers that match every word (in either index, or by the key or DOI
        it may be: ``alternatives``, or in their files' text: ``fulltext``, one for each
        word) and no excluded one; and of those that match every word without the files."""

        def ids_of(sql: str, params: list[object]) -> set[int]:
            (text,) = self.conn.execute(
                f"SELECT json_group_array(id) FROM ({sql})", params
            ).fetchone()
            return set(json.loads(text))

        def found(
            pair: tuple[str | None, str | None],
            alternative: tuple[str, list[object]] | None = None,
        ) -> set[int]:
            ids: set[int] = set()
            if alternative is not None:
                cond, params = alternative
                ids |= ids_of(f"SELECT p.id AS id FROM papers p WHERE {cond}", params)
            for table, expr in zip(SEARCH_TABLES, pair, strict=True):
                if expr is not None:
                    ids |= ids_of(f"SELECT rowid AS id FROM {table} WHERE {table} MATCH ?", [expr])
            return ids

        alts = list(alternatives) or [None] * len(words)
        pages = list(fulltext) or [None] * len(words)
        with_files = any(p is not None for p in pages) and self.has_fulltext()
        wanted: set[int] | None = None
        own: set[int] | None = None
        for pair, alternative, page_expr in zip(words, alts, pages, strict=True):
            meta = found(pair, alternative)
            own = meta if own is None else own & meta
            if with_files and page_expr is not None:
                meta = meta | ids_of(
                    FULLTEXT_SQL.replace("a.paper_id", "a.paper_id AS id"), [page_expr]
                )
            wanted = meta if wanted is None else wanted & meta
            if not wanted:
                break
        wanted, own = wanted or set(), own or set()
        if exclude is not None and wanted:
            gone = found(exclude)
            wanted -= gone
            own -= gone
        return wanted, own

    def rows(self, ids: Sequence[int]) -> dict[int, Row]:
        """Table rows for these ids (the window asks only for what it shows)."""
        if not ids:
            return {}
        cur = self.conn.execute(
            "SELECT id, key, title, authors, year, venue, tags, status, rating, added, opened "
            "FROM papers WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(ids))],
        )
        return {r[0]: Row(*r) for r in cur}

    def records(
        self, query: Query | None = None, sort: str = "added", descending: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Plain records for scripts (``citedesk list --json``), streamed, not all in memory."""
        ids = self.paper_ids(query, sort=sort, descending=descending)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            arg = json.dumps(chunk)
            people: dict[int, list[str]] = {i: [] for i in chunk}
            for pid, family, given, prefix, suffix in self.conn.execute(
                "SELECT paper_id, family, given, prefix, suffix FROM persons WHERE role = "
                "'author' AND paper_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY paper_id, position",
                [arg],
            ):
                people[pid].append(Person(family, given, prefix, suffix).display)
            tags: dict[int, list[str]] = {i: [] for i in chunk}
            for pid, name in self.conn.execute(
                "SELECT pt.paper_id, t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
                "WHERE pt.paper_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY t.name COLLATE NOCASE",
                [arg],
            ):
                tags[pid].append(name)
            rows = {
                r[0]: r
                for r in self.conn.execute(
                    "SELECT id, key, entry_type, title, year, venue, doi, url, arxiv, status, "
                    "status_changed, rating, added, modified, "
                    "(SELECT count(*) FROM notes n WHERE n.paper_id = papers.id), opened "
                    "FROM papers WHERE id IN (SELECT value FROM json_each(?))",
                    [arg],
                )
            }
            for pid in chunk:
                r = rows[pid]
                yield {
                    "key": r[1],
                    "type": r[2],
                    "title": r[3],
                    "authors": people[pid],
                    "year": r[4],
                    "venue": r[5],
                    "doi": r[6],
                    "url": r[7],
                    "arxiv": r[8],
                    "tags": tags[pid],
                    "status": r[9],
                    "status_changed": r[10],
                    "rating": r[11],
                    "added": r[12],
                    "modified": r[13],
                    "notes": r[14],
                    "opened": r[15],
                }
