"""Putting back what a write changed: undo, and redo as the undo of an undo.

Every write captures, inside its own transaction, images of the rows it is about to
change (:class:`db.undolog.Recording`) and returns them in its :class:`Changes` as an
:class:`Undo`. :meth:`History.undo` writes those images back in one transaction, first
capturing the rows as they are now, so the :class:`Changes` it returns carries the undo
of the undo: redo. Nothing here knows which edit it undoes (Anki's backend undo works the
same way); what it knows is what the library derives from rows: the papers' tags text,
the search index and the macros of @string blocks.
"""

from __future__ import annotations

from typing import Any

from .errors import LibraryError
from .macros import StringMacros
from .personal import Personal
from .queries import SearchIndex
from .store import DatabaseError, Store, violated
from .undolog import PAPER_TABLES, put_back
from .values import Changes, RowImage, Undo

#: Tables whose rows belong to a paper, and the column that names it.
_PAPER_COLUMN = dict(PAPER_TABLES)


def _papers_of(image: RowImage) -> set[int]:
    """The papers an image's rows belong to (or its keys name)."""
    column = _PAPER_COLUMN.get(image.table)
    if column is None:
        return set()
    ids: set[Any] = set(image.keys) if image.column == column else set()
    if column in image.columns:
        at = image.columns.index(column)
        ids.update(row[at] for row in image.rows)
    return {int(i) for i in ids}


class History:
    """Undo and redo of any write, from the :class:`Undo` it returned."""

    def __init__(
        self, store: Store, index: SearchIndex, personal: Personal, macros: StringMacros
    ) -> None:
        self.store = store
        self.conn = store.conn
        self.index = index
        self.personal = personal
        self.macros = macros

    def undo(self, undo: Undo) -> Changes:
        """Put back the rows ``undo`` holds, in one transaction.

        Returns what that changed (``undo.changes``), with the undo of this: redo.
        """
        try:
            return self._undo(undo)
        except DatabaseError as exc:
            if not violated(exc):
                raise
            raise LibraryError(
                f"it cannot be put back: the library changed meanwhile ({exc})"
            ) from None

    def _undo(self, undo: Undo) -> Changes:
        with self.store.write() as w:
            now = [
                w.capture(i.table, i.column, i.keys, i.columns if i.partial else ())
                for i in undo.images
            ]
            for image in reversed(undo.images):
                put_back(self.conn, image)
            touched: set[int] = set()
            full = False  # a whole papers row came back: its abstract may differ
            for image in (*undo.images, *(i for i in now if i is not None)):
                touched |= _papers_of(image)
                full |= image.table == "papers" and not image.partial
                if image.table == "blocks":
                    self.macros.forget()
            if touched:
                # An undo is itself a change (a group library must send it on): the papers
                # it touches get a new ``modified`` stamp, their tags text and index anew.
                self.personal.refresh_tags_text(touched, modified=True)
                self.index.update(sorted(touched), abstract=full)
        changes = w.result(Changes().merge(undo.changes))
        assert changes.undo is not None
        return changes
