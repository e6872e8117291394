"""What a reader adds to a paper: tags (with colours), reading status, rating and notes.

None of it is BibTeX: an export never writes it, an edit of the fields never touches it.
Each write keeps the papers' ``tags`` text and the search index in step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from .errors import LibraryError, UnknownPaperError
from .queries import SearchIndex
from .store import Store, violated
from .values import STATUSES, Changes, Note, TagInfo, normal_tag, now


class Personal:
    """Tags, status, rating and notes of papers."""

    def __init__(self, store: Store, index: SearchIndex) -> None:
        self.store = store
        self.conn = store.conn
        self.index = index

    # -- reading --------------------------------------------------------------------------------

    def paper_tags(self, paper_id: int) -> list[str]:
        return [
            n
            for (n,) in self.conn.execute(
                "SELECT t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
                "WHERE pt.paper_id = ? ORDER BY t.name COLLATE NOCASE",
                [paper_id],
            )
        ]

    def notes(self, paper_id: int) -> list[Note]:
        return [
            Note(*r)
            for r in self.conn.execute(
                "SELECT id, paper_id, body, created, updated FROM notes WHERE paper_id = ? "
                "ORDER BY id",
                [paper_id],
            )
        ]

    def note(self, note_id: int) -> Note | None:
        r = self.conn.execute(
            "SELECT id, paper_id, body, created, updated FROM notes WHERE id = ?", [note_id]
        ).fetchone()
        return Note(*r) if r else None

    def tags(self) -> list[TagInfo]:
        """All tags with how many papers carry each, by name."""
        return [
            TagInfo(*r)
            for r in self.conn.execute(
                "SELECT t.name, t.color, count(pt.paper_id) FROM tags t "
                "LEFT JOIN paper_tags pt ON pt.tag_id = t.id GROUP BY t.id "
                "ORDER BY t.name COLLATE NOCASE"
            )
        ]

    def tag_color(self, name: str) -> str | None:
        row = self.conn.execute(
            "SELECT color FROM tags WHERE name = ? COLLATE NOCASE", [name]
        ).fetchone()
        return row[0] if row else None

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status, n in self.conn.execute("SELECT status, count(*) FROM papers GROUP BY status"):
            counts[status] = n
        return counts

    # -- tags -----------------------------------------------------------------------------------

    def _tag_id(self, name: str, create: bool) -> int | None:
        name = normal_tag(name)
        row = self.conn.execute(
            "SELECT id FROM tags WHERE name = ? COLLATE NOCASE", [name]
        ).fetchone()
        if row:
            return int(row[0])
        if not create:
            return None
        if not name:
            raise LibraryError("a tag needs a name")
        return int(self.conn.execute("INSERT INTO tags(name) VALUES (?)", [name]).lastrowid or 0)

    def _colored_tag(self, name: str, color: str | None) -> int | None:
        """The tag's id, made if missing; a tag without a colour takes ``color``."""
        tag_id = self._tag_id(name, create=True)
        if color and not self.tag_color(name):
            self.conn.execute("UPDATE tags SET color = ? WHERE id = ?", [color, tag_id])
        return tag_id

    def tag_papers(self, ids: Sequence[int], name: str, color: str | None = None) -> None:
        """Tag papers inside a write (an import's groups); a new tag takes ``color``.

        The search index is left to the caller: an import indexes its papers after.
        """
        tag_id = self._colored_tag(name, color)
        self.conn.execute(
            "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) SELECT value, ? FROM json_each(?)",
            [tag_id, json.dumps(list(ids))],
        )
        self.refresh_tags_text(ids)

    def restore_tags(self, rows: Iterable[dict[str, Any]]) -> None:
        """Put back paper tags as :class:`db.DeletedPapers` keeps them (name and colour),
        inside a write; the caller refreshes the papers' tags text and index."""
        for row in rows:
            tag_id = self._colored_tag(row["name"], row["color"])
            self.conn.execute(
                "INSERT OR IGNORE INTO paper_tags VALUES (?, ?)", [row["paper_id"], tag_id]
            )

    def refresh_tags_text(self, ids: Iterable[int]) -> None:
        """Write the papers' ``tags`` column (what the table shows and sorts) again."""
        self.conn.execute(
            "UPDATE papers SET tags = coalesce((SELECT group_concat(name, ', ') FROM ("
            " SELECT t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id"
            " WHERE pt.paper_id = papers.id ORDER BY t.name COLLATE NOCASE)), '') "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(set(ids)))],
        )

    def add_tags(self, ids: Iterable[int], names: Iterable[str]) -> Changes:
        ids, names = list(ids), [n for n in names if n.strip()]
        changed: set[int] = set()
        with self.store.write():
            for name in names:
                tag_id = self._tag_id(name, create=True)
                for pid in ids:
                    cur = self.conn.execute(
                        "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                        "SELECT id, ? FROM papers WHERE id = ?",
                        [tag_id, pid],
                    )
                    if cur.rowcount:
                        changed.add(pid)
            self.after_change(changed)
        return Changes(papers=changed, tags=True)

    def remove_tags(self, ids: Iterable[int], names: Iterable[str]) -> Changes:
        ids = list(ids)
        changed: set[int] = set()
        with self.store.write():
            for name in names:
                tag_id = self._tag_id(name, create=False)
                if tag_id is None:
                    continue
                for pid in ids:
                    cur = self.conn.execute(
                        "DELETE FROM paper_tags WHERE paper_id = ? AND tag_id = ?", [pid, tag_id]
                    )
                    if cur.rowcount:
                        changed.add(pid)
            self.after_change(changed)
        return Changes(papers=changed, tags=True)

    def set_tags(self, paper_id: int, names: Iterable[str]) -> Changes:
        """Make a paper's tags exactly ``names``."""
        wanted = {normal_tag(n).lower(): normal_tag(n) for n in names if normal_tag(n)}
        current = {t.lower(): t for t in self.paper_tags(paper_id)}
        with self.store.write():
            changes = Changes(tags=True)
            gone = [current[k] for k in current if k not in wanted]
            new = [wanted[k] for k in wanted if k not in current]
            if gone:
                changes.merge(self.remove_tags([paper_id], gone))
            if new:
                changes.merge(self.add_tags([paper_id], new))
        return changes

    def _paper_ids_with_tag(self, tag_id: int) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute("SELECT paper_id FROM paper_tags WHERE tag_id = ?", [tag_id])
        ]

    def rename_tag(self, old: str, new: str) -> Changes:
        """Rename a tag; renaming onto an existing tag merges the two."""
        new = normal_tag(new)
        if not new:
            raise LibraryError("a tag needs a name")
        with self.store.write():
            tag_id = self._tag_id(old, create=False)
            if tag_id is None:
                raise LibraryError(f"no tag named {old!r}")
            other = self._tag_id(new, create=False)
            if other is not None and other != tag_id:
                return self.merge_tags([old], new)
            ids = self._paper_ids_with_tag(tag_id)
            self.conn.execute("UPDATE tags SET name = ? WHERE id = ?", [new, tag_id])
            self.after_change(ids)
        return Changes(papers=set(ids), tags=True)

    def merge_tags(self, sources: Iterable[str], target: str) -> Changes:
        """Put every paper of ``sources`` under ``target`` and remove the sources."""
        changed: set[int] = set()
        with self.store.write():
            target_id = self._tag_id(target, create=True)
            for name in sources:
                tag_id = self._tag_id(name, create=False)
                if tag_id is None or tag_id == target_id:
                    continue
                ids = self._paper_ids_with_tag(tag_id)
                self.conn.execute(
                    "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                    "SELECT paper_id, ? FROM paper_tags WHERE tag_id = ?",
                    [target_id, tag_id],
                )
                self.conn.execute("DELETE FROM tags WHERE id = ?", [tag_id])
                changed.update(ids)
            self.after_change(changed)
        return Changes(papers=changed, tags=True)

    def delete_tag(self, name: str) -> Changes:
        with self.store.write():
            tag_id = self._tag_id(name, create=False)
            if tag_id is None:
                return Changes()
            ids = self._paper_ids_with_tag(tag_id)
            self.conn.execute("DELETE FROM tags WHERE id = ?", [tag_id])
            self.after_change(ids)
        return Changes(papers=set(ids), tags=True)

    def set_tag_color(self, name: str, color: str | None) -> Changes:
        with self.store.write():
            tag_id = self._tag_id(name, create=False)
            if tag_id is None:
                raise LibraryError(f"no tag named {name!r}")
            self.conn.execute("UPDATE tags SET color = ? WHERE id = ?", [color, tag_id])
        return Changes(tags=True)

    # -- status and rating ----------------------------------------------------------------------

    def set_status(self, ids: Iterable[int], status: str) -> Changes:
        if status not in STATUSES:
            raise LibraryError(f"unknown reading status {status!r}; use {', '.join(STATUSES)}")
        changed = self._set_each(
            ids,
            status,
            (
                "UPDATE papers SET status = :value, status_changed = :stamp, modified = :stamp "
                "WHERE id = :id AND status != :value"
            ),
        )
        return Changes(papers=changed, status=bool(changed))

    def set_rating(self, ids: Iterable[int], rating: int) -> Changes:
        if not 0 <= int(rating) <= 5:
            raise LibraryError("a rating is from 0 to 5")
        return Changes(
            papers=self._set_each(
                ids,
                int(rating),
                (
                    "UPDATE papers SET rating = :value, modified = :stamp "
                    "WHERE id = :id AND rating != :value"
                ),
            )
        )

    def _set_each(self, ids: Iterable[int], value: object, sql: str) -> set[int]:
        """Run ``sql`` (with :id, :value and :stamp) for each paper, in one write; return
        the ids of the papers it changed."""
        ids = list(ids)
        stamp = now()
        changed = set()
        with self.store.write():
            for pid in ids:
                if self.conn.execute(sql, {"id": pid, "value": value, "stamp": stamp}).rowcount:
                    changed.add(pid)
        return changed

    # -- notes ----------------------------------------------------------------------------------

    def add_note(self, paper_id: int, body: str = "") -> Note:
        stamp = now()
        with self.store.write():
            if not self.conn.execute("SELECT 1 FROM papers WHERE id = ?", [paper_id]).fetchone():
                raise UnknownPaperError(f"no paper with id {paper_id}")
            note_id = self.conn.execute(
                "INSERT INTO notes(paper_id, body, created, updated) VALUES (?, ?, ?, ?)",
                [paper_id, body, stamp, stamp],
            ).lastrowid
            self.after_change([paper_id])
        return Note(int(note_id or 0), paper_id, body, stamp, stamp)

    def update_note(self, note_id: int, body: str) -> Changes:
        with self.store.write():
            row = self.conn.execute(
                "SELECT paper_id, body FROM notes WHERE id = ?", [note_id]
            ).fetchone()
            if row is None:
                raise LibraryError(f"note {note_id} no longer exists")
            if row[1] == body:
                return Changes()
            self.conn.execute(
                "UPDATE notes SET body = ?, updated = ? WHERE id = ?", [body, now(), note_id]
            )
            self.after_change([row[0]], modified=False)
        return Changes(papers={row[0]}, notes=True)

    def delete_note(self, note_id: int) -> Note | None:
        """Delete a note; returns it so an undo can put it back with :meth:`restore_note`."""
        with self.store.write():
            note = self.note(note_id)
            if note is None:
                return None
            self.conn.execute("DELETE FROM notes WHERE id = ?", [note_id])
            self.after_change([note.paper_id], modified=False)
        return note

    def restore_note(self, note: Note) -> None:
        with self.store.write():
            try:
                self.conn.execute(
                    "INSERT INTO notes(id, paper_id, body, created, updated) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [note.id, note.paper_id, note.body, note.created, note.updated],
                )
            except Exception as exc:
                if not violated(exc):
                    raise
                raise LibraryError(
                    f"note {note.id} cannot be restored: its paper is gone or its id is in use"
                ) from None
            self.after_change([note.paper_id], modified=False)

    def after_change(self, ids: Iterable[int], modified: bool = True) -> None:
        """Inside a write: bring the papers' tags text, ``modified`` stamp (unless told not
        to) and search index in step with what was just changed."""
        ids = sorted(set(ids))
        if not ids:
            return
        self.refresh_tags_text(ids)
        if modified:
            self.conn.execute(
                "UPDATE papers SET modified = ? WHERE id IN (SELECT value FROM json_each(?))",
                [now(), json.dumps(ids)],
            )
        self.index.update(ids)
