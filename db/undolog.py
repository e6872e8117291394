"""The undo log of a write transaction: images of the rows it changes, and putting them back.

A write says which rows it is about to change (:meth:`Recording.capture`: a table, a key
column and keys) or make (:meth:`Recording.created`); the rows are read as they are, before
the change, in the write's own transaction. :func:`put_back` writes an image back. Row
images are plain data (table and column names, keys, row tuples), so they can be kept,
compared or sent elsewhere as they are. :mod:`db.history` builds undo and redo on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from .values import Changes, RowImage, Undo


class Connection(Protocol):
    """What this module needs of the store's SQLite connection."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


#: Each table's primary key: what putting a row image back matches rows by.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "papers": ("id",),
    "persons": ("paper_id", "role", "position"),
    "tags": ("id",),
    "paper_tags": ("paper_id", "tag_id"),
    "notes": ("id",),
    "key_aliases": ("alias",),
    "blocks": ("id",),
    "files": ("id",),
    "settings": ("name",),
    "attachments": ("id",),
    "annotation_notes": ("note_id",),
    "sync_conflicts": ("id",),
}
#: A paper's own rows: deleting the paper deletes them all (ON DELETE CASCADE), so an
#: image of papers is always taken with images of these.
PAPER_TABLES = (
    ("papers", "id"),
    ("persons", "paper_id"),
    ("paper_tags", "paper_id"),
    ("notes", "paper_id"),
    ("key_aliases", "paper_id"),
    ("attachments", "paper_id"),
)
_IN_JSON = "IN (SELECT value FROM json_each(?))"


def _seen_key(key: Any) -> Any:
    return key.lower() if isinstance(key, str) else key  # tag names and aliases are NOCASE


class Recording:
    """The undo log of one write transaction: row images taken before the rows change.

    A write calls :meth:`capture` for the rows it is about to change (or :meth:`created`
    for rows that cannot exist yet) and, when done, :meth:`result` to attach the undo to
    its :class:`Changes`. Rows captured once in a transaction are not captured again: the
    first image is the state before the transaction, and images are put back last first.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.images: list[RowImage] = []
        self._seen: dict[tuple[str, ...], set[Any]] = {}

    def _new_keys(
        self, table: str, column: str, keys: Iterable[Any], only: tuple[str, ...] = ()
    ) -> list[Any]:
        seen = self._seen.setdefault((table, column, *only), set())
        out = []
        for key in keys:
            norm = _seen_key(key)
            if norm not in seen:
                seen.add(norm)
                out.append(key)
        return out

    def capture(
        self, table: str, column: str, keys: Iterable[Any], only: Sequence[str] = ()
    ) -> RowImage | None:
        """Keep the rows of ``table`` whose ``column`` is in ``keys`` as they are now.

        With ``only`` just those columns (and the primary key) are kept: the write changes
        nothing else of these rows, makes none and deletes none (a status, a key).
        Returns the image (None when every key was captured before in this write).
        """
        if table not in PRIMARY_KEYS:
            raise ValueError(f"no undo for table {table!r}")
        pk = PRIMARY_KEYS[table]
        cols = tuple(dict.fromkeys((*pk, *only))) if only else ()
        new = self._new_keys(table, column, keys, cols)
        if not new:
            return None
        names = ", ".join(cols) if cols else "*"
        cur = self.conn.execute(
            f"SELECT {names} FROM {table} WHERE {column} {_IN_JSON}", [json.dumps(new)]
        )
        image = RowImage(
            table,
            column,
            tuple(new),
            tuple(d[0] for d in cur.description),
            tuple(cur.fetchall()),
            partial=bool(cols),
        )
        self.images.append(image)
        return image

    def created(self, table: str, column: str, keys: Iterable[Any]) -> None:
        """Say that no rows with these keys existed before this write (no query needed)."""
        new = self._new_keys(table, column, keys)
        if new:
            self.images.append(RowImage(table, column, tuple(new)))

    def capture_papers(self, ids: Iterable[int]) -> None:
        """Capture papers with all their own rows (before deleting or merging them), and
        which of their notes hold which file's annotations."""
        ids = list(ids)
        for table, column in PAPER_TABLES:
            image = self.capture(table, column, ids)
            if table == "attachments" and image is not None and image.rows:
                at = image.columns.index("id")
                self.capture("annotation_notes", "attachment_id", [r[at] for r in image.rows])

    def created_papers(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        for table, column in PAPER_TABLES:
            self.created(table, column, ids)

    def result(self, changes: Changes) -> Changes:
        """``changes`` with the undo of everything this transaction captured."""
        changes.undo = Undo(tuple(self.images), changes.inverse())
        return changes


def put_back(conn: Connection, image: RowImage) -> None:
    """Inside a write: make the rows in ``image``'s scope exactly its rows again.

    Rows are written back in place (an upsert on the primary key, so no ON DELETE CASCADE
    fires) and rows the image does not hold are deleted. Foreign keys are checked at commit
    (``defer_foreign_keys``), so images may be put back in any order.
    """
    table, pk = image.table, PRIMARY_KEYS[image.table]
    conn.execute("PRAGMA defer_foreign_keys = ON")
    if image.partial:
        others = [c for c in image.columns if c not in pk]
        at = [image.columns.index(c) for c in (*others, *pk)]
        sets = ", ".join(f"{c} = ?" for c in others)
        where = " AND ".join(f"{c} = ?" for c in pk)
        conn.executemany(
            f"UPDATE {table} SET {sets} WHERE {where}",
            [[row[i] for i in at] for row in image.rows],
        )
    elif image.rows:
        at = [image.columns.index(c) for c in pk]
        if len(pk) == 1:
            kept = json.dumps([row[at[0]] for row in image.rows])
            not_kept = f"{pk[0]} NOT IN (SELECT value FROM json_each(?))"
        else:
            kept = json.dumps([[row[i] for i in at] for row in image.rows])
            parts = ", ".join(f"json_extract(value, '$[{n}]')" for n in range(len(pk)))
            keys = ", ".join(pk)
            not_kept = f"({keys}) NOT IN (SELECT {parts} FROM json_each(?))"
        conn.execute(
            f"DELETE FROM {table} WHERE {image.column} {_IN_JSON} AND {not_kept}",
            [json.dumps(list(image.keys)), kept],
        )
        others = [c for c in image.columns if c not in pk]
        update = (
            f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in others)}"
            if others
            else "DO NOTHING"
        )
        names = ", ".join(image.columns)
        marks = ", ".join("?" for _ in image.columns)
        keys = ", ".join(pk)
        conn.executemany(
            f"INSERT INTO {table}({names}) VALUES ({marks}) ON CONFLICT({keys}) {update}",
            image.rows,
        )
    else:
        conn.execute(
            f"DELETE FROM {table} WHERE {image.column} {_IN_JSON}", [json.dumps(list(image.keys))]
        )
