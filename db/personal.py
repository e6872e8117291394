"""What a reader adds to a paper: tags (with colours), reading status, rating and notes.

None of it is BibTeX: an export never writes it, an edit of the fields never touches it.
Each write keeps the papers' ``tags`` text and the search index in step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from .errors import LibraryError, UnknownPaperError
from .queries import SearchIndex
from .store import Store
from .undolog import Recording
from .values import STATUSES, Changes, Note, TagInfo, normal_tag, now


class Personal:
    """Tags, status, rating and notes of papers."""

    def __init__(self, store: Store, index: SearchIndex) -> None:
        self.store = store
        self.conn = store.conn
        self.index = index

    # -- reading --------------------------------------------------------------------------------

    def paper_tags(self, paper_id: int) -> list[str]:
        return [name for name, _ in self.paper_tag_colors(paper_id)]

    def notes(self, paper_id: int) -> list[Note]:
        return [
            Note(r[0], r[1], r[2], r[3], r[4], bool(r[5]))
            for r in self.conn.execute(
                "SELECT id, paper_id, body, created, updated, shared = 1 FROM notes "
                "WHERE paper_id = ? ORDER BY id",
                [paper_id],
            )
        ]

    def note(self, note_id: int) -> Note | None:
        r = self.conn.execute(
            "SELECT id, paper_id, body, created, updated, shared = 1 FROM notes WHERE id = ?",
            [note_id],
        ).fetchone()
        return Note(r[0], r[1], r[2], r[3], r[4], bool(r[5])) if r else None

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

    def paper_tag_colors(self, paper_id: int) -> list[tuple[str, str | None]]:
        """A paper's tags with their colours, by name (what its tag chips show)."""
        return [
            (name, color)
            for name, color in self.conn.execute(
                "SELECT t.name, t.color FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id "
                "WHERE pt.paper_id = ? ORDER BY t.name COLLATE NOCASE",
                [paper_id],
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

    def _tag_rows(self, w: Recording, names: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Capture the tags named ``names`` (before a write changes them) and return
        {lowercased name: (id, name)} of those that exist."""
        image = w.capture("tags", "name", names)
        if image is not None and {k.lower() for k in image.keys} >= {n.lower() for n in names}:
            at = image.columns.index("id"), image.columns.index("name")
            rows = [(r[at[0]], r[at[1]]) for r in image.rows]
        else:  # some were captured earlier in this write: read them as they are now
            rows = self.conn.execute(
                "SELECT id, name FROM tags WHERE name IN (SELECT value FROM json_each(?))",
                [json.dumps(list(names))],
            ).fetchall()
        return {name.lower(): (int(tid), name) for tid, name in rows}

    def tag_papers(self, ids: Sequence[int], name: str, color: str | None = None) -> None:
        """Tag papers inside a write (an import's groups); a tag without a colour takes
        ``color``.

        The search index is left to the caller: an import indexes its papers after.
        """
        name = normal_tag(name)
        with self.store.write() as w:
            existing = self._tag_rows(w, [name])
            w.capture("paper_tags", "paper_id", ids)
            if name.lower() in existing:
                tag_id = existing[name.lower()][0]
                if color:
                    self.conn.execute(
                        "UPDATE tags SET color = ? WHERE id = ? AND coalesce(color, '') = ''",
                        [color, tag_id],
                    )
            elif not name:
                raise LibraryError("a tag needs a name")
            else:
                tag_id = int(
                    self.conn.execute(
                        "INSERT INTO tags(name, color) VALUES (?, ?)", [name, color or None]
                    ).lastrowid
                    or 0
                )
            self.conn.execute(
                "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                "SELECT value, ? FROM json_each(?)",
                [tag_id, json.dumps(list(ids))],
            )
            self.refresh_tags_text(ids)

    def refresh_tags_text(self, ids: Iterable[int], modified: bool = False) -> None:
        """Write the papers' ``tags`` column (what the table shows and sorts) again, and
        their ``modified`` stamp if asked."""
        stamp = ", modified = ?" if modified else ""
        self.conn.execute(
            "UPDATE papers SET tags = coalesce((SELECT group_concat(name, ', ') FROM ("
            " SELECT t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id"
            f" WHERE pt.paper_id = papers.id ORDER BY t.name COLLATE NOCASE)), ''){stamp} "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [*([now()] if modified else []), json.dumps(sorted(set(ids)))],
        )

    def add_tags(self, ids: Iterable[int], names: Iterable[str]) -> Changes:
        """Tag papers (making tags that do not exist); no change if all had them."""
        ids = list(dict.fromkeys(ids))
        names = list(
            {normal_tag(n).lower(): normal_tag(n) for n in names if normal_tag(n)}.values()
        )
        if not ids or not names:
            return Changes()
        with self.store.write() as w:
            existing = self._tag_rows(w, names)
            w.capture("paper_tags", "paper_id", ids)
            made = [n for n in names if n.lower() not in existing]
            for name in made:
                tid = self.conn.execute("INSERT INTO tags(name) VALUES (?)", [name]).lastrowid
                existing[name.lower()] = (int(tid or 0), name)
            by_id = {tid: name for tid, name in existing.values()}
            gained = self.conn.execute(
                "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                "SELECT p.id, t.value FROM papers p, json_each(?) t "
                "WHERE p.id IN (SELECT value FROM json_each(?)) RETURNING paper_id, tag_id",
                [json.dumps(sorted(by_id)), json.dumps(ids)],
            ).fetchall()
            changed = {pid for pid, _ in gained}
            if not changed and not made:
                return Changes()
            self.after_change(changed, abstract=False)
        return w.result(
            Changes(
                papers=changed,
                tags=True,
                tags_made=set(made),
                tag_counts=_counted(by_id[tid] for _, tid in gained),
            )
        )

    def remove_tags(self, ids: Iterable[int], names: Iterable[str]) -> Changes:
        """Untag papers (the tags themselves stay); no change if none had them."""
        ids = list(dict.fromkeys(ids))
        names = list(
            {normal_tag(n).lower(): normal_tag(n) for n in names if normal_tag(n)}.values()
        )
        if not ids or not names:
            return Changes()
        with self.store.write() as w:
            existing = self._tag_rows(w, names)
            if not existing:
                return Changes()
            w.capture("paper_tags", "paper_id", ids)
            by_id = {tid: name for tid, name in existing.values()}
            lost = self.conn.execute(
                "DELETE FROM paper_tags WHERE paper_id IN (SELECT value FROM json_each(?)) "
                "AND tag_id IN (SELECT value FROM json_each(?)) RETURNING paper_id, tag_id",
                [json.dumps(ids), json.dumps(sorted(by_id))],
            ).fetchall()
            changed = {pid for pid, _ in lost}
            if not changed:
                return Changes()
            self.after_change(changed, abstract=False)
        return w.result(
            Changes(
                papers=changed, tags=True, tag_counts=_counted((by_id[tid] for _, tid in lost), -1)
            )
        )

    def set_tags(self, paper_id: int, names: Iterable[str]) -> Changes:
        """Make a paper's tags exactly ``names``."""
        wanted = {normal_tag(n).lower(): normal_tag(n) for n in names if normal_tag(n)}
        with self.store.write() as w:
            current = {t.lower(): t for t in self.paper_tags(paper_id)}
            changes = Changes()
            gone = [current[k] for k in current if k not in wanted]
            new = [wanted[k] for k in wanted if k not in current]
            if gone:
                changes.merge(self.remove_tags([paper_id], gone))
            if new:
                changes.merge(self.add_tags([paper_id], new))
        return w.result(changes) if changes else changes

    def _capture_tag(self, w: Recording, names: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Capture tags and who has them, before a write renames, merges or deletes them."""
        existing = self._tag_rows(w, names)
        w.capture("paper_tags", "tag_id", [tid for tid, _ in existing.values()])
        return existing

    def _paper_ids_with_tag(self, tag_id: int) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute("SELECT paper_id FROM paper_tags WHERE tag_id = ?", [tag_id])
        ]

    def rename_tag(self, old: str, new: str) -> Changes:
        """Rename a tag; renaming onto an existing tag merges the two."""
        old, new = normal_tag(old), normal_tag(new)
        if not new:
            raise LibraryError("a tag needs a name")
        with self.store.write() as w:
            existing = self._capture_tag(w, [old, new])
            if old.lower() not in existing:
                raise LibraryError(f"no tag named {old!r}")
            tag_id, old_name = existing[old.lower()]
            if new.lower() in existing and existing[new.lower()][0] != tag_id:
                return self.merge_tags([old], new)
            if old_name == new:
                return Changes()
            ids = self._paper_ids_with_tag(tag_id)
            self.conn.execute("UPDATE tags SET name = ? WHERE id = ?", [new, tag_id])
            self.after_change(ids, abstract=False)
        return w.result(Changes(papers=set(ids), tags=True, tag_list=True))

    def merge_tags(self, sources: Iterable[str], target: str) -> Changes:
        """Put every paper of ``sources`` under ``target`` and remove the sources."""
        target = normal_tag(target)
        if not target:
            raise LibraryError("a tag needs a name")
        sources = [n for n in dict.fromkeys(normal_tag(s) for s in sources) if n]
        changed: set[int] = set()
        with self.store.write() as w:
            existing = self._capture_tag(w, [*sources, target])
            merging = [
                existing[s.lower()]
                for s in sources
                if s.lower() in existing and s.lower() != target.lower()
            ]
            if not merging:
                return Changes()
            if target.lower() in existing:
                target_id, target = existing[target.lower()]
            else:
                target_id = int(
                    self.conn.execute("INSERT INTO tags(name) VALUES (?)", [target]).lastrowid or 0
                )
                w.created("paper_tags", "tag_id", [target_id])  # so undo sees its papers
            for tag_id, _ in merging:
                changed.update(self._paper_ids_with_tag(tag_id))
                self.conn.execute(
                    "INSERT OR IGNORE INTO paper_tags(paper_id, tag_id) "
                    "SELECT paper_id, ? FROM paper_tags WHERE tag_id = ?",
                    [target_id, tag_id],
                )
                self.conn.execute("DELETE FROM tags WHERE id = ?", [tag_id])
            self.after_change(changed, abstract=False)
        return w.result(Changes(papers=changed, tags=True, tag_list=True))

    def delete_tag(self, name: str) -> Changes:
        with self.store.write() as w:
            existing = self._capture_tag(w, [normal_tag(name)])
            if not existing:
                return Changes()
            ((tag_id, _),) = existing.values()
            ids = self._paper_ids_with_tag(tag_id)
            self.conn.execute("DELETE FROM tags WHERE id = ?", [tag_id])
            self.after_change(ids, abstract=False)
        return w.result(Changes(papers=set(ids), tags=True, tag_list=True))

    def set_tag_color(self, name: str, color: str | None) -> Changes:
        with self.store.write() as w:
            existing = self._tag_rows(w, [normal_tag(name)])
            if not existing:
                raise LibraryError(f"no tag named {name!r}")
            ((tag_id, _),) = existing.values()
            if not self.conn.execute(
                "UPDATE tags SET color = ? WHERE id = ? AND color IS NOT ? RETURNING id",
                [color, tag_id, color],
            ).fetchall():
                return Changes()
        return w.result(Changes(tags=True, tag_list=True))

    # -- status and rating ----------------------------------------------------------------------

    def set_status(self, ids: Iterable[int], status: str) -> Changes:
        if status not in STATUSES:
            raise LibraryError(f"unknown reading status {status!r}; use {', '.join(STATUSES)}")
        return self._set_each(ids, "status", status, Changes(status=True))

    def set_rating(self, ids: Iterable[int], rating: int) -> Changes:
        if not 0 <= int(rating) <= 5:
            raise LibraryError("a rating is from 0 to 5")
        return self._set_each(ids, "rating", int(rating), Changes(rating=True))

    def _set_each(self, ids: Iterable[int], column: str, value: object, kind: Changes) -> Changes:
        """Set ``column`` (status or rating) of papers to ``value`` in one write; the
        change names the papers it changed, of the ``kind`` given."""
        ids = list(dict.fromkeys(ids))
        stamp = now()
        also = ", status_changed = :stamp" if column == "status" else ""
        also_cols = ["status_changed"] if column == "status" else []
        with self.store.write() as w:
            w.capture("papers", "id", ids, only=[column, *also_cols, "modified"])
            changed = {
                pid
                for (pid,) in self.conn.execute(
                    f"UPDATE papers SET {column} = :value{also}, modified = :stamp "
                    f"WHERE id IN (SELECT value FROM json_each(:ids)) AND {column} != :value "
                    "RETURNING id",
                    {"ids": json.dumps(ids), "value": value, "stamp": stamp},
                ).fetchall()
            }
        if not changed:
            return Changes()
        kind.papers = changed
        return w.result(kind)

    # -- notes ----------------------------------------------------------------------------------

    def add_note(self, paper_id: int, body: str = "") -> Changes:
        """Add a note to a paper; the change's ``note_ids`` holds the new note's id."""
        stamp = now()
        with self.store.write() as w:
            if not self.conn.execute("SELECT 1 FROM papers WHERE id = ?", [paper_id]).fetchone():
                raise UnknownPaperError(f"no paper with id {paper_id}")
            note_id = int(
                self.conn.execute(
                    "INSERT INTO notes(paper_id, body, created, updated) VALUES (?, ?, ?, ?)",
                    [paper_id, body, stamp, stamp],
                ).lastrowid
                or 0
            )
            w.created("notes", "id", [note_id])
            self.after_change([paper_id])
        return w.result(Changes(papers={paper_id}, notes=True, note_ids={note_id}))

    def update_note(self, note_id: int, body: str) -> Changes:
        with self.store.write() as w:
            w.capture("notes", "id", [note_id])
            note = self.note(note_id)
            if note is None:
                raise LibraryError(f"note {note_id} no longer exists")
            if note.body == body:
                return Changes()
            self.conn.execute(
                "UPDATE notes SET body = ?, updated = ? WHERE id = ?", [body, now(), note_id]
            )
            self.after_change([note.paper_id], modified=False, abstract=False)
        return w.result(Changes(papers={note.paper_id}, notes=True, note_ids={note_id}))

    def delete_note(self, note_id: int) -> Changes:
        """Delete a note (undo puts it back with its id, text and dates)."""
        with self.store.write() as w:
            w.capture("notes", "id", [note_id])
            w.capture("annotation_notes", "note_id", [note_id])
            note = self.note(note_id)
            if note is None:
                return Changes()
            self.conn.execute("DELETE FROM notes WHERE id = ?", [note_id])
            self.after_change([note.paper_id], modified=False, abstract=False)
        return w.result(Changes(papers={note.paper_id}, notes=True, note_ids={note_id}))

    def after_change(
        self, ids: Iterable[int], modified: bool = True, abstract: bool = True
    ) -> None:
        """Inside a write: bring the papers' tags text, ``modified`` stamp (unless told not
        to) and search index in step with what was just changed (``abstract=False``: the
        abstract did not change, its index is left alone)."""
        ids = sorted(set(ids))
        if not ids:
            return
        self.refresh_tags_text(ids, modified=modified)
        self.index.update(ids, abstract=abstract)


def _counted(names: Iterable[str], sign: int = 1) -> dict[str, int]:
    """{name: how many times it comes} (times ``sign``): a change's ``tag_counts``."""
    out: dict[str, int] = {}
    for name in names:
        out[name] = out.get(name, 0) + sign
    return out
