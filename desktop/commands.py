"""Undoable edits: one ``QUndoCommand`` per kind of change to the library.

Each command calls only ``db.Library`` methods and emits the resulting ``db.Changes`` on
``LibraryEvents.changed`` after redo and after undo, so every view refreshes the same way
whoever made the change (Anki's ``OpChanges``). What undo needs (old values, snapshots of
deleted rows) is captured by redo itself, just before it writes, so a command stays correct
however many times it is undone and redone.

Errors. A redo or undo that raises ``db.LibraryError`` (a locked library, a clashing key)
changes nothing: each step is one ``Library`` write, or several inside one transaction. The
command records the error in ``command.error`` and marks itself obsolete, so ``QUndoStack``
drops it instead of keeping a step that never happened. Callers push with :func:`push`,
which applies the command first, puts it on the stack only when it worked and returns the
error for the caller to show (or shows it when given a parent widget)::

    error = commands.push(stack, SetStatusCommand(library, events, ids, "read"))
    if error is not None:
        status_bar.showMessage(str(error))

``stack.push(command)`` directly is also safe (the failed command is not kept) but the
caller then learns of the error only from ``command.error``, which it must read before the
stack deletes the command. A first redo that changes nothing (the same status again, a tag
the papers already have) also marks the command obsolete, so no empty step is kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMessageBox, QWidget

from . import db
from .hub import LibraryEvents

log = logging.getLogger(__name__)

#: Edits of one note closer together than this many seconds merge into one undo step.
NOTE_MERGE_SECONDS = 5.0

_EDIT_NOTE_ID = 1001

_T = TypeVar("_T")


def push(
    stack: QUndoStack, command: LibraryCommand, parent: QWidget | None = None
) -> db.LibraryError | None:
    """Apply ``command`` now and put it on ``stack`` only if it worked.

    Returns the ``db.LibraryError`` that stopped it (nothing was changed), or None. With a
    ``parent`` the error is also shown in a non-modal message box over it.
    """
    error = command._run(command._redo)
    if error is not None:
        if parent is not None:
            _show_error(parent, command.text(), error)
        return error
    command._skip_next_redo = True
    stack.push(command)
    return None


def _show_error(parent: QWidget, action: str, error: db.LibraryError) -> None:
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Citedesk",
        f"{action} failed.",
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setInformativeText(str(error))
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()


def _unique_tags(names: Iterable[str]) -> list[str]:
    out: dict[str, str] = {}
    for name in names:
        name = db.normal_tag(name)
        if name:
            out.setdefault(name.lower(), name)
    return list(out.values())


@contextmanager
def _transaction(library: db.Library) -> Iterator[None]:
    """All-or-nothing for a step that needs several ``Library`` writes (nested ones become
    savepoints)."""
    with library.transaction():
        yield


class LibraryCommand(QUndoCommand):
    """Base of every edit: runs a step, emits its changes, turns failure into 'obsolete'.

    Subclasses implement ``_redo`` and ``_undo``, each returning the ``db.Changes`` made.
    """

    def __init__(self, library: db.Library, events: LibraryEvents, text: str) -> None:
        super().__init__(text)
        self.library = library
        self.events = events
        self.error: db.LibraryError | None = None
        self._skip_next_redo = False
        self._done_once = False

    def redo(self) -> None:
        if self._skip_next_redo:
            # push() already applied it; QUndoStack.push() calls redo() once more.
            self._skip_next_redo = False
            return
        error = self._run(self._redo)
        if error is not None:
            _report_failure(self.events, self.text(), error)

    def undo(self) -> None:
        error = self._run(self._undo)
        if error is not None:
            _report_failure(self.events, f"Undo {self.text()}", error)

    def _run(self, step: Callable[[], db.Changes]) -> db.LibraryError | None:
        try:
            changes = step()
        except db.LibraryError as exc:
            self.error = exc
            self.setObsolete(True)
            return exc
        if not self._done_once and not changes:
            # The first redo found nothing to do: do not keep an empty undo step.
            self.setObsolete(True)
        self._done_once = True
        self.events.changed.emit(changes)
        return None

    def _redo(self) -> db.Changes:
        raise NotImplementedError

    def _undo(self) -> db.Changes:
        raise NotImplementedError


def _report_failure(events: LibraryEvents, action: str, error: db.LibraryError) -> None:
    """Tell the window an undo or redo failed (the stack has dropped the command)."""
    message = f"{action} failed: {error}"
    log.warning("%s", message)
    events.failed.emit(message)


# -- bibliographic data ---------------------------------------------------------------------


class SetFieldsCommand(LibraryCommand):
    """Set or remove BibTeX fields; undo puts back the exact raw fields and original text."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_id: int,
        changes: dict[str, str | None],
    ) -> None:
        names = list(changes)
        label = f"Edit {names[0]}" if len(names) == 1 else "Edit fields"
        super().__init__(library, events, label)
        self.paper_id = paper_id
        self.changes = dict(changes)
        self._fields: list[tuple[str, str]] = []
        self._source: str | None = None

    def _redo(self) -> db.Changes:
        self._fields = list(self.library.paper(self.paper_id).fields)
        self._source = self.library.entry_source(self.paper_id)
        return self.library.update_fields(self.paper_id, self.changes)

    def _undo(self) -> db.Changes:
        return self.library.set_fields_raw(self.paper_id, self._fields, self._source)


class SetEntryTypeCommand(LibraryCommand):
    """Change an entry's type (@article, @misc...); undo restores the original text too."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_id: int, entry_type: str
    ) -> None:
        super().__init__(library, events, "Change entry type")
        self.paper_id = paper_id
        self.entry_type = entry_type.strip().lower()
        self._old_type = ""
        self._fields: list[tuple[str, str]] = []
        self._source: str | None = None

    def _redo(self) -> db.Changes:
        if not self.entry_type.isidentifier():
            raise db.LibraryError(f"{self.entry_type!r} cannot be an entry type")
        paper = self.library.paper(self.paper_id)
        if paper.entry_type == self.entry_type:
            return db.Changes()
        self._old_type = paper.entry_type
        self._fields = list(paper.fields)
        self._source = self.library.entry_source(self.paper_id)
        return self.library.set_entry_type(self.paper_id, self.entry_type)

    def _undo(self) -> db.Changes:
        with _transaction(self.library):
            changes = self.library.set_entry_type(self.paper_id, self._old_type)
            changes.merge(self.library.set_fields_raw(self.paper_id, self._fields, self._source))
        return changes


class SetKeyCommand(LibraryCommand):
    """Change a citation key (the old one stays an alias); undo restores key and text."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_id: int, new_key: str
    ) -> None:
        super().__init__(library, events, "Change citation key")
        self.paper_id = paper_id
        self.new_key = new_key.strip()
        self._old_key = ""
        self._new_was_alias = False
        self._fields: list[tuple[str, str]] = []
        self._source: str | None = None

    def _redo(self) -> db.Changes:
        paper = self.library.paper(self.paper_id)
        self._old_key = paper.key
        self._new_was_alias = self.new_key.lower() in {a.lower() for a in paper.aliases}
        self._fields = list(paper.fields)
        self._source = self.library.entry_source(self.paper_id)
        return self.library.set_key(self.paper_id, self.new_key)

    def _undo(self) -> db.Changes:
        with _transaction(self.library):
            # set_key drops the alias it is given and re-adds the key it replaces only
            # when asked: so the new key becomes an alias again only if it was one.
            changes = self.library.set_key(
                self.paper_id, self._old_key, keep_alias=self._new_was_alias
            )
            changes.merge(self.library.set_fields_raw(self.paper_id, self._fields, self._source))
        return changes


# -- tags on papers ---------------------------------------------------------------------------


def _ids_with_tag(library: db.Library, name: str, among: list[int] | None = None) -> list[int]:
    """Which papers (optionally only ``among`` these) carry a tag, in one query."""
    if among is not None and not among:
        return []
    return library.paper_ids(db.Query(tag=name, ids=tuple(among or ())))


def _tag_info(library: db.Library, name: str) -> db.TagInfo | None:
    wanted = db.normal_tag(name).lower()
    return next((t for t in library.tags() if t.name.lower() == wanted), None)


class AddTagsCommand(LibraryCommand):
    """Tag papers; undo untags only the papers that gained a tag and drops new empty tags."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_ids: Iterable[int],
        names: Iterable[str],
    ) -> None:
        self.paper_ids = list(dict.fromkeys(paper_ids))
        self.names = _unique_tags(names)
        label = (
            f"Add tag “{self.names[0]}”" if len(self.names) == 1 else f"Add {len(self.names)} tags"
        )
        super().__init__(library, events, label)
        self._gained: dict[str, list[int]] = {}
        self._created: list[str] = []

    def _redo(self) -> db.Changes:
        existing = {t.name.lower() for t in self.library.tags()}
        self._created = [n for n in self.names if n.lower() not in existing]
        self._gained = {}
        for name in self.names:
            had = set(_ids_with_tag(self.library, name, self.paper_ids))
            self._gained[name] = [pid for pid in self.paper_ids if pid not in had]
        changes = self.library.add_tags(self.paper_ids, self.names)
        if not changes.papers and not self._created:
            return db.Changes()
        return changes

    def _undo(self) -> db.Changes:
        changes = db.Changes(tags=True)
        with _transaction(self.library):
            for name, ids in self._gained.items():
                if ids:
                    changes.merge(self.library.remove_tags(ids, [name]))
            for name in self._created:
                changes.merge(self.library.delete_tag(name))
        return changes


class RemoveTagsCommand(LibraryCommand):
    """Untag papers; undo re-tags only the papers that had each tag."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_ids: Iterable[int],
        names: Iterable[str],
    ) -> None:
        self.paper_ids = list(dict.fromkeys(paper_ids))
        self.names = _unique_tags(names)
        label = (
            f"Remove tag “{self.names[0]}”"
            if len(self.names) == 1
            else f"Remove {len(self.names)} tags"
        )
        super().__init__(library, events, label)
        self._had: dict[str, list[int]] = {}

    def _redo(self) -> db.Changes:
        self._had = {name: _ids_with_tag(self.library, name, self.paper_ids) for name in self.names}
        changes = self.library.remove_tags(self.paper_ids, self.names)
        return changes if changes.papers else db.Changes()

    def _undo(self) -> db.Changes:
        changes = db.Changes(tags=True)
        with _transaction(self.library):
            # remove_tags keeps the tag itself, so its name and colour come back as they were.
            for name, ids in self._had.items():
                if ids:
                    changes.merge(self.library.add_tags(ids, [name]))
        return changes


# -- reading status and rating ----------------------------------------------------------------


class SetStatusCommand(LibraryCommand):
    """Set the reading status; undo gives each paper its own previous status."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_ids: Iterable[int], status: str
    ) -> None:
        super().__init__(library, events, f"Mark as {status}")
        self.paper_ids = list(dict.fromkeys(paper_ids))
        self.status = status
        self._before: dict[int, str] = {}

    def _redo(self) -> db.Changes:
        self._before = {pid: row.status for pid, row in self.library.rows(self.paper_ids).items()}
        return _nonempty(self.library.set_status(self.paper_ids, self.status))

    def _undo(self) -> db.Changes:
        changes = db.Changes(status=True)
        with _transaction(self.library):
            for status, ids in _group(self._before).items():
                changes.merge(self.library.set_status(ids, status))
        return changes


class SetRatingCommand(LibraryCommand):
    """Set the rating (0 to 5); undo gives each paper its own previous rating."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_ids: Iterable[int], rating: int
    ) -> None:
        label = f"Rate {rating} star{'s' if rating != 1 else ''}" if rating else "Clear rating"
        super().__init__(library, events, label)
        self.paper_ids = list(dict.fromkeys(paper_ids))
        self.rating = int(rating)
        self._before: dict[int, int] = {}

    def _redo(self) -> db.Changes:
        self._before = {pid: row.rating for pid, row in self.library.rows(self.paper_ids).items()}
        return self.library.set_rating(self.paper_ids, self.rating)

    def _undo(self) -> db.Changes:
        changes = db.Changes()
        with _transaction(self.library):
            for rating, ids in _group(self._before).items():
                changes.merge(self.library.set_rating(ids, rating))
        return changes


def _group(before: dict[int, _T]) -> dict[_T, list[int]]:
    out: dict[_T, list[int]] = {}
    for pid, value in before.items():
        out.setdefault(value, []).append(pid)
    return out


def _nonempty(changes: db.Changes) -> db.Changes:
    """``set_status`` flags ``status`` even when no paper changed; that is no edit."""
    return changes if changes.papers else db.Changes()


# -- notes ------------------------------------------------------------------------------------


class EditNoteCommand(LibraryCommand):
    """Change a note's text. Bursts of typing in one note merge into one undo step."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, note_id: int, old_body: str, new_body: str
    ) -> None:
        super().__init__(library, events, "Edit note")
        self.note_id = note_id
        self.old_body = old_body
        self.new_body = new_body
        self._last_edit = time.monotonic()

    def id(self) -> int:
        return _EDIT_NOTE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            not isinstance(other, EditNoteCommand)
            or other.note_id != self.note_id
            or other.isObsolete()
            or other._last_edit - self._last_edit > NOTE_MERGE_SECONDS
        ):
            return False
        self.new_body = other.new_body
        self._last_edit = other._last_edit
        if self.new_body == self.old_body:
            self.setObsolete(True)  # typed and erased again: nothing left to undo
        return True

    def _redo(self) -> db.Changes:
        return self.library.update_note(self.note_id, self.new_body)

    def _undo(self) -> db.Changes:
        return self.library.update_note(self.note_id, self.old_body)


class AddNoteCommand(LibraryCommand):
    """Add a note to a paper; redo after undo brings back the same note (same id)."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_id: int, body: str = ""
    ) -> None:
        super().__init__(library, events, "Add note")
        self.paper_id = paper_id
        self.body = body
        #: The note once added (its id is what later edits refer to).
        self.note: db.Note | None = None

    def _redo(self) -> db.Changes:
        if self.note is None:
            self.note = self.library.add_note(self.paper_id, self.body)
        else:
            self.library.restore_note(self.note)
        return db.Changes(papers={self.paper_id}, notes=True)

    def _undo(self) -> db.Changes:
        assert self.note is not None
        deleted = self.library.delete_note(self.note.id)
        if deleted is not None:
            self.note = deleted
        return db.Changes(papers={self.paper_id}, notes=True)


class DeleteNoteCommand(LibraryCommand):
    """Delete a note; undo puts it back with its id, text and dates."""

    def __init__(self, library: db.Library, events: LibraryEvents, note_id: int) -> None:
        super().__init__(library, events, "Delete note")
        self.note_id = note_id
        self._note: db.Note | None = None

    def _redo(self) -> db.Changes:
        self._note = self.library.delete_note(self.note_id)
        if self._note is None:
            return db.Changes()
        return db.Changes(papers={self._note.paper_id}, notes=True)

    def _undo(self) -> db.Changes:
        if self._note is None:
            return db.Changes()
        self.library.restore_note(self._note)
        return db.Changes(papers={self._note.paper_id}, notes=True)


# -- papers -----------------------------------------------------------------------------------


class DeletePapersCommand(LibraryCommand):
    """Delete papers; undo brings them back with their keys, tags and notes."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_ids: Iterable[int]
    ) -> None:
        self.paper_ids = list(dict.fromkeys(paper_ids))
        n = len(self.paper_ids)
        super().__init__(library, events, f"Delete {n} paper{'s' if n != 1 else ''}")
        self._snapshot: db.DeletedPapers | None = None

    def _redo(self) -> db.Changes:
        self._snapshot = self.library.delete_papers(self.paper_ids)
        gone = {int(row["id"]) for row in self._snapshot.papers}
        if not gone:
            return db.Changes()
        return db.Changes(removed=gone, tags=True, notes=True, status=True)

    def _undo(self) -> db.Changes:
        assert self._snapshot is not None
        changes = self.library.restore_papers(self._snapshot)
        return changes.merge(db.Changes(notes=True, status=True))


class AddPaperCommand(LibraryCommand):
    """Add a paper typed in by a person; undo deletes it, redo brings the same paper back.

    ``fields`` are LaTeX text as typed (``Library.add_paper`` makes them safe); after the
    first redo ``paper_id`` is the new paper's id.
    """

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        fields: dict[str, str],
        entry_type: str = "article",
        key: str | None = None,
    ) -> None:
        super().__init__(library, events, "New paper")
        self.fields = dict(fields)
        self.entry_type = entry_type
        self.key = key
        self.paper_id: int | None = None
        self._snapshot: db.DeletedPapers | None = None  # set once undo has deleted it

    def _redo(self) -> db.Changes:
        if self._snapshot is None:
            self.paper_id = self.library.add_paper(self.fields, self.entry_type, self.key)
            return db.Changes(added={self.paper_id}, status=True)
        return self.library.restore_papers(self._snapshot).merge(db.Changes(status=True))

    def _undo(self) -> db.Changes:
        assert self.paper_id is not None
        self._snapshot = self.library.delete_papers([self.paper_id])
        return db.Changes(removed={self.paper_id}, tags=True, notes=True, status=True)


class RegenerateKeysCommand(LibraryCommand):
    """Give papers new keys by the pattern (old keys stay aliases); undo restores them exactly.

    The pattern is fixed when the command is made (the library's, unless given), so a redo
    after an undo gives the same keys even if the pattern changed meanwhile. ``changed``
    holds {id: (old key, new key)} after a redo.
    """

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_ids: Iterable[int],
        pattern: str | None = None,
    ) -> None:
        self.paper_ids = list(dict.fromkeys(paper_ids))
        n = len(self.paper_ids)
        super().__init__(library, events, f"Regenerate citation key{'s' if n != 1 else ''}")
        self.pattern = pattern or library.key_pattern
        self.changed: dict[int, tuple[str, str]] = {}
        self._snapshot: db.DeletedPapers | None = None

    def _redo(self) -> db.Changes:
        with _transaction(self.library):
            snapshot = self.library.snapshot(self.paper_ids)
            self.changed = self.library.regenerate_keys(self.paper_ids, self.pattern)
        if not self.changed:
            return db.Changes()
        # Only the papers whose key changed need putting back on undo.
        self._snapshot = _only(snapshot, set(self.changed))
        return db.Changes(papers=set(self.changed))

    def _undo(self) -> db.Changes:
        assert self._snapshot is not None
        changes = self.library.revert(self._snapshot, list(self.changed))
        return changes.merge(db.Changes(papers=set(self.changed)))


class MergePapersCommand(LibraryCommand):
    """Merge duplicates into ``keep`` (richer fields, all tags and notes, old keys as
    aliases); undo brings back every paper exactly as it was before."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, keep: int, others: Iterable[int]
    ) -> None:
        self.keep = keep
        self.others = [o for o in dict.fromkeys(others) if o != keep]
        n = len(self.others) + 1
        super().__init__(library, events, f"Merge {n} papers")
        self._snapshot: db.DeletedPapers | None = None

    def _redo(self) -> db.Changes:
        if not self.others:
            return db.Changes()
        with _transaction(self.library):
            self._snapshot = self.library.snapshot([self.keep, *self.others])
            changes = self.library.merge_papers(self.keep, self.others)
        return changes.merge(db.Changes(status=True))

    def _undo(self) -> db.Changes:
        assert self._snapshot is not None
        changes = self.library.revert(self._snapshot, [self.keep])
        return changes.merge(db.Changes(papers={self.keep}, tags=True, notes=True, status=True))


def _only(snapshot: db.DeletedPapers, ids: set[int]) -> db.DeletedPapers:
    """The part of a snapshot about these papers."""
    return db.DeletedPapers(
        papers=[r for r in snapshot.papers if r["id"] in ids],
        persons=[r for r in snapshot.persons if r["paper_id"] in ids],
        paper_tags=[r for r in snapshot.paper_tags if r["paper_id"] in ids],
        notes=[r for r in snapshot.notes if r["paper_id"] in ids],
        aliases=[r for r in snapshot.aliases if r["paper_id"] in ids],
    )


class ImportCommand(LibraryCommand):
    """Make an import that has already happened undoable.

    The first redo (when pushed) changes nothing: it only announces ``report.changes`` so
    views show the new papers. Undo deletes the added papers; redo restores them exactly.
    """

    def __init__(self, library: db.Library, events: LibraryEvents, report: db.ImportReport) -> None:
        n = len(report.changes.added)
        super().__init__(library, events, f"Import {n} paper{'s' if n != 1 else ''}")
        self.report = report
        self._snapshot: db.DeletedPapers | None = None  # set once undo has deleted them

    def _redo(self) -> db.Changes:
        if self._snapshot is None:
            return self.report.changes  # done already by the importer: only announce it
        changes = self.library.restore_papers(self._snapshot)
        return changes.merge(db.Changes(status=True))

    def _undo(self) -> db.Changes:
        self._snapshot = self.library.delete_import(self.report)
        gone = {int(row["id"]) for row in self._snapshot.papers}
        return db.Changes(removed=gone, tags=True, notes=True, status=True)


# -- the tags themselves ------------------------------------------------------------------------


class RenameTagCommand(LibraryCommand):
    """Rename a tag (onto an existing name it merges); undo restores who had which tag."""

    def __init__(self, library: db.Library, events: LibraryEvents, old: str, new: str) -> None:
        super().__init__(library, events, f"Rename tag “{old}”")
        self.old = db.normal_tag(old)
        self.new = db.normal_tag(new)
        self._old_info: db.TagInfo | None = None
        self._old_ids: list[int] = []
        self._target_ids: list[int] | None = None  # set when the rename merged into a tag

    def _redo(self) -> db.Changes:
        self._old_info = _tag_info(self.library, self.old)
        if self._old_info is None:
            raise db.LibraryError(f"no tag named {self.old!r}")
        self._old_ids = _ids_with_tag(self.library, self.old)
        target = _tag_info(self.library, self.new)
        merges = target is not None and target.name.lower() != self._old_info.name.lower()
        self._target_ids = _ids_with_tag(self.library, self.new) if merges else None
        if self._old_info.name == self.new:
            return db.Changes()
        return self.library.rename_tag(self.old, self.new)

    def _undo(self) -> db.Changes:
        assert self._old_info is not None
        if self._target_ids is None:
            return self.library.rename_tag(self.new, self._old_info.name)
        return _unmerge(self.library, [(self._old_info, self._old_ids)], self.new, self._target_ids)


class MergeTagsCommand(LibraryCommand):
    """Fold ``sources`` into ``target``; undo brings each source tag back where it was."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, sources: Iterable[str], target: str
    ) -> None:
        super().__init__(library, events, f"Merge tags into “{target}”")
        self.target = db.normal_tag(target)
        self.sources = [s for s in _unique_tags(sources) if s.lower() != self.target.lower()]
        self._sources: list[tuple[db.TagInfo, list[int]]] = []
        self._target_ids: list[int] | None = None  # None: the target did not exist

    def _redo(self) -> db.Changes:
        self._sources = []
        for name in self.sources:
            info = _tag_info(self.library, name)
            if info is not None:
                self._sources.append((info, _ids_with_tag(self.library, name)))
        target_exists = _tag_info(self.library, self.target) is not None
        self._target_ids = _ids_with_tag(self.library, self.target) if target_exists else None
        if not self._sources:
            return db.Changes()
        return self.library.merge_tags(self.sources, self.target)

    def _undo(self) -> db.Changes:
        return _unmerge(self.library, self._sources, self.target, self._target_ids)


def _unmerge(
    library: db.Library,
    sources: list[tuple[db.TagInfo, list[int]]],
    target: str | None,
    target_ids: list[int] | None,
) -> db.Changes:
    """Recreate tags with their colours and papers, and take ``target`` back off them.

    ``target_ids`` are the papers that had ``target`` before; None if it did not exist.
    """
    changes = db.Changes(tags=True)
    with _transaction(library):
        gained: set[int] = set()
        for info, ids in sources:
            # add_tags creates the tag even for no papers, with the name's exact spelling.
            changes.merge(library.add_tags(ids, [info.name]))
            if info.color:
                library.set_tag_color(info.name, info.color)
            gained.update(ids)
        if target is not None and target_ids is None:
            changes.merge(library.delete_tag(target))
        elif target is not None and target_ids is not None:
            extra = sorted(gained - set(target_ids))
            if extra:
                changes.merge(library.remove_tags(extra, [target]))
    return changes


class DeleteTagCommand(LibraryCommand):
    """Delete a tag from every paper; undo restores it, its colour and its papers."""

    def __init__(self, library: db.Library, events: LibraryEvents, name: str) -> None:
        super().__init__(library, events, f"Delete tag “{name}”")
        self.name = db.normal_tag(name)
        self._info: db.TagInfo | None = None
        self._ids: list[int] = []

    def _redo(self) -> db.Changes:
        self._info = _tag_info(self.library, self.name)
        if self._info is None:
            return db.Changes()
        self._ids = _ids_with_tag(self.library, self.name)
        return self.library.delete_tag(self.name)

    def _undo(self) -> db.Changes:
        if self._info is None:
            return db.Changes()
        return _unmerge(self.library, [(self._info, self._ids)], None, None)


class SetTagColorCommand(LibraryCommand):
    """Set or clear a tag's colour (``#rrggbb`` or None); undo restores the old one."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, name: str, color: str | None
    ) -> None:
        super().__init__(library, events, f"Colour tag “{name}”")
        self.name = db.normal_tag(name)
        self.color = color
        self._old: str | None = None

    def _redo(self) -> db.Changes:
        self._old = self.library.tag_color(self.name)
        if self._old == self.color and _tag_info(self.library, self.name) is not None:
            return db.Changes()
        return self.library.set_tag_color(self.name, self.color)

    def _undo(self) -> db.Changes:
        return self.library.set_tag_color(self.name, self._old)
