"""Undoable edits: one thin ``QUndoCommand`` per kind of change to the library.

A command makes one ``db.Library`` write. The ``db.Changes`` it returns says what changed
and carries its undo, captured by ``db/`` inside the write's own transaction; undo is
``library.undo(changes.undo)``, whose result carries the redo, and so on (Anki's backend
undo). So a command holds no copies of old values and reads nothing before it writes.
Each step's changes go out on ``LibraryEvents.changed``; the first carries the command's
``initiator`` (the view that made the edit), undo and redo none, so every view refreshes.

Errors. A write that raises ``db.LibraryError`` (a locked library, a clashing key)
changes nothing: each step is one transaction. The command records the error in
``command.error`` and marks itself obsolete, so ``QUndoStack`` drops it instead of keeping
a step that never happened. Callers push with :func:`push`, which applies the command
first, puts it on the stack only when it worked and returns the error for the caller to
show (or shows it when given a parent widget)::

    error = commands.push(stack, SetStatusCommand(library, events, ids, "read"))
    if error is not None:
        status_bar.showMessage(str(error))

A first step that changes nothing (the same status again, a tag the papers already have)
marks the command obsolete too, so no empty step is kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QWidget

from . import db
from .db import FieldDiff
from .hub import LibraryEvents
from .messages import show_error

if TYPE_CHECKING:  # the lookup modules (httpx) load with the first lookup
    from .db import Found

log = logging.getLogger(__name__)

#: Edits of one note closer together than this many seconds merge into one undo step.
NOTE_MERGE_SECONDS = 5.0

_EDIT_NOTE_ID = 1001


def push(
    stack: QUndoStack,
    command: LibraryCommand,
    parent: QWidget | None = None,
    initiator: object = None,
) -> db.LibraryError | None:
    """Apply ``command`` now and put it on ``stack`` only if it worked.

    Returns the ``db.LibraryError`` that stopped it (nothing was changed), or None. With a
    ``parent`` the error is also shown in a non-modal message box over it. ``initiator``
    goes out with the changes (``db.Changes.initiator``) so the view that made the edit
    can tell it from others.
    """
    command.initiator = initiator
    error = command._run(command._first)
    if error is not None:
        if parent is not None:
            show_error(parent, command.text(), error)
        return error
    command._skip_next_redo = True
    stack.push(command)
    return None


class LibraryCommand(QUndoCommand):
    """Base of every edit: applies its write once, then undoes and redoes it from the
    ``db.Undo`` each step returns; emits each step's changes; failure makes it obsolete.

    Subclasses implement ``_apply``: the one ``db.Library`` write, returning its changes.
    """

    def __init__(self, library: db.Library, events: LibraryEvents, text: str) -> None:
        super().__init__(text)
        self.library = library
        self.events = events
        self.error: db.LibraryError | None = None
        self.initiator: object = None
        self._skip_next_redo = False
        self._applied = False
        #: What the next undo (or redo) writes back: from the last step's changes.
        self._undo: db.Undo | None = None
        self._redo: db.Undo | None = None

    def redo(self) -> None:
        if self._skip_next_redo:
            # push() already applied it; QUndoStack.push() calls redo() once more.
            self._skip_next_redo = False
            return
        step = self._first if not self._applied else self._step_redo
        error = self._run(step)
        if error is not None:
            _report_failure(self.events, self.text(), error)

    def undo(self) -> None:
        error = self._run(self._step_undo)
        if error is not None:
            _report_failure(self.events, f"Undo {self.text()}", error)

    def _first(self) -> db.Changes:
        changes = self._apply()
        self._applied = True
        self._undo = changes.undo
        if not changes:
            # Nothing to do: do not keep an empty undo step.
            self.setObsolete(True)
        else:
            changes.initiator = self.initiator
        self._applied_once(changes)
        return changes

    def _step_undo(self) -> db.Changes:
        if self._undo is None:
            return db.Changes()
        changes = self.library.undo(self._undo)
        self._undo, self._redo = None, changes.undo
        return changes

    def _step_redo(self) -> db.Changes:
        if self._redo is None:
            return db.Changes()
        changes = self.library.undo(self._redo)
        self._redo, self._undo = None, changes.undo
        return changes

    def _run(self, step: Callable[[], db.Changes]) -> db.LibraryError | None:
        try:
            changes = step()
        except db.LibraryError as exc:
            self.error = exc
            self.setObsolete(True)
            return exc
        if changes:
            self.events.changed.emit(changes)
        return None

    def _apply(self) -> db.Changes:
        raise NotImplementedError

    def _applied_once(self, changes: db.Changes) -> None:
        """What a subclass keeps from the first application (a new paper's id, say)."""


def _report_failure(events: LibraryEvents, action: str, error: db.LibraryError) -> None:
    """Tell the window an undo or redo failed (the stack has dropped the command)."""
    message = f"{action} failed: {error}"
    log.warning("%s", message)
    events.failed.emit(message)


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def _unique_tags(names: Iterable[str]) -> list[str]:
    out: dict[str, str] = {}
    for name in names:
        name = db.normal_tag(name)
        if name:
            out.setdefault(name.lower(), name)
    return list(out.values())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


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

    def _apply(self) -> db.Changes:
        return self.library.update_fields(self.paper_id, self.changes)


class SetEntryTypeCommand(LibraryCommand):
    """Change an entry's type (@article, @misc...); undo restores the original text too."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_id: int, entry_type: str
    ) -> None:
        super().__init__(library, events, "Change entry type")
        self.paper_id = paper_id
        self.entry_type = entry_type

    def _apply(self) -> db.Changes:
        return self.library.set_entry_type(self.paper_id, self.entry_type)


class ReplaceEntryCommand(LibraryCommand):
    """Make an entry what its edited BibTeX text says (type, key and fields) in one step."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_id: int, text: str
    ) -> None:
        super().__init__(library, events, "Edit BibTeX")
        self.paper_id = paper_id
        self.source = text

    def _apply(self) -> db.Changes:
        return self.library.replace_entry(self.paper_id, self.source)


class SetEntryTypesCommand(LibraryCommand):
    """Change the type of several entries at once (one undo step)."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_ids: Iterable[int], entry_type: str
    ) -> None:
        super().__init__(library, events, f"Change type to @{entry_type}")
        self.paper_ids = _unique(paper_ids)
        self.entry_type = entry_type

    def _apply(self) -> db.Changes:
        return self.library.set_entry_types(self.paper_ids, self.entry_type)


class SetKeyCommand(LibraryCommand):
    """Change a citation key (the old one stays an alias); undo restores key and text."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_id: int, new_key: str
    ) -> None:
        super().__init__(library, events, "Change citation key")
        self.paper_id = paper_id
        self.new_key = new_key

    def _apply(self) -> db.Changes:
        return self.library.set_key(self.paper_id, self.new_key)


# -- tags -----------------------------------------------------------------------------------


class AddTagsCommand(LibraryCommand):
    """Tag papers; undo untags only the papers that gained a tag and drops new tags."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_ids: Iterable[int],
        names: Iterable[str],
    ) -> None:
        self.paper_ids = _unique(paper_ids)
        self.names = _unique_tags(names)
        label = (
            f"Add tag “{self.names[0]}”" if len(self.names) == 1 else f"Add {len(self.names)} tags"
        )
        super().__init__(library, events, label)

    def _apply(self) -> db.Changes:
        return self.library.add_tags(self.paper_ids, self.names)


class RemoveTagsCommand(LibraryCommand):
    """Untag papers; undo re-tags only the papers that had each tag."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_ids: Iterable[int],
        names: Iterable[str],
    ) -> None:
        self.paper_ids = _unique(paper_ids)
        self.names = _unique_tags(names)
        label = (
            f"Remove tag “{self.names[0]}”"
            if len(self.names) == 1
            else f"Remove {len(self.names)} tags"
        )
        super().__init__(library, events, label)

    def _apply(self) -> db.Changes:
        return self.library.remove_tags(self.paper_ids, self.names)


class RenameTagCommand(LibraryCommand):
    """Rename a tag (onto an existing name it merges); undo restores who had which tag."""

    def __init__(self, library: db.Library, events: LibraryEvents, old: str, new: str) -> None:
        super().__init__(library, events, f"Rename tag “{old}”")
        self.old = old
        self.new = new

    def _apply(self) -> db.Changes:
        return self.library.rename_tag(self.old, self.new)


class MergeTagsCommand(LibraryCommand):
    """Fold ``sources`` into ``target``; undo brings each source tag back where it was."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, sources: Iterable[str], target: str
    ) -> None:
        super().__init__(library, events, f"Merge tags into “{target}”")
        self.sources = _unique_tags(sources)
        self.target = target

    def _apply(self) -> db.Changes:
        return self.library.merge_tags(self.sources, self.target)


class DeleteTagCommand(LibraryCommand):
    """Delete a tag from every paper; undo restores it, its colour and its papers."""

    def __init__(self, library: db.Library, events: LibraryEvents, name: str) -> None:
        super().__init__(library, events, f"Delete tag “{name}”")
        self.name = name

    def _apply(self) -> db.Changes:
        return self.library.delete_tag(self.name)


class SetTagColorCommand(LibraryCommand):
    """Set or clear a tag's colour (``#rrggbb`` or None); undo restores the old one."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, name: str, color: str | None
    ) -> None:
        super().__init__(library, events, f"Colour tag “{name}”")
        self.name = name
        self.color = color

    def _apply(self) -> db.Changes:
        return self.library.set_tag_color(self.name, self.color)


# -- reading status and rating ----------------------------------------------------------------


class SaveSearchCommand(LibraryCommand):
    """Save a search (text, tag, status) under a new name; undo forgets it."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, name: str, query: db.Query
    ) -> None:
        super().__init__(library, events, f"Save search “{name}”")
        self.name = name
        self.query = query

    def _apply(self) -> db.Changes:
        return self.library.save_search(self.name, self.query)


class RenameSavedSearchCommand(LibraryCommand):
    """Rename a saved search (auto-exports that follow it follow the new name)."""

    def __init__(self, library: db.Library, events: LibraryEvents, old: str, new: str) -> None:
        super().__init__(library, events, f"Rename saved search “{old}”")
        self.old = old
        self.new = new

    def _apply(self) -> db.Changes:
        return self.library.rename_saved_search(self.old, self.new)


class EditSavedSearchCommand(LibraryCommand):
    """Give a saved search another query; undo puts the old one back."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, name: str, query: db.Query
    ) -> None:
        super().__init__(library, events, f"Edit saved search “{name}”")
        self.name = name
        self.query = query

    def _apply(self) -> db.Changes:
        return self.library.update_saved_search(self.name, self.query)


class DeleteSavedSearchCommand(LibraryCommand):
    """Delete a saved search (refused while an auto-export follows it); undo restores it."""

    def __init__(self, library: db.Library, events: LibraryEvents, name: str) -> None:
        super().__init__(library, events, f"Delete saved search “{name}”")
        self.name = name

    def _apply(self) -> db.Changes:
        return self.library.remove_saved_search(self.name)


class SetStatusCommand(LibraryCommand):
    """Set the reading status; undo gives each paper its own previous status."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_ids: Iterable[int], status: str
    ) -> None:
        super().__init__(library, events, f"Mark as {status}")
        self.paper_ids = _unique(paper_ids)
        self.status = status

    def _apply(self) -> db.Changes:
        return self.library.set_status(self.paper_ids, self.status)


class SetRatingCommand(LibraryCommand):
    """Set the rating (0 to 5); undo gives each paper its own previous rating."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_ids: Iterable[int], rating: int
    ) -> None:
        label = f"Rate {_plural(rating, 'star')}" if rating else "Clear rating"
        super().__init__(library, events, label)
        self.paper_ids = _unique(paper_ids)
        self.rating = int(rating)

    def _apply(self) -> db.Changes:
        return self.library.set_rating(self.paper_ids, self.rating)


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
        # Both are applied; this step's undo (the note before the burst) covers both.
        self.new_body = other.new_body
        self._last_edit = other._last_edit
        if self.new_body == self.old_body:
            self.setObsolete(True)  # typed and erased again: nothing left to undo
        return True

    def _apply(self) -> db.Changes:
        return self.library.update_note(self.note_id, self.new_body)


class AddNoteCommand(LibraryCommand):
    """Add a note to a paper; redo after undo brings back the same note (same id)."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_id: int, body: str = ""
    ) -> None:
        super().__init__(library, events, "Add note")
        self.paper_id = paper_id
        self.body = body
        #: The new note's id once added (what later edits refer to).
        self.note_id: int | None = None

    def _apply(self) -> db.Changes:
        return self.library.add_note(self.paper_id, self.body)

    def _applied_once(self, changes: db.Changes) -> None:
        self.note_id = changes.new_note


class DeleteNoteCommand(LibraryCommand):
    """Delete a note; undo puts it back with its id, text and dates."""

    def __init__(self, library: db.Library, events: LibraryEvents, note_id: int) -> None:
        super().__init__(library, events, "Delete note")
        self.note_id = note_id

    def _apply(self) -> db.Changes:
        return self.library.delete_note(self.note_id)


class SetNoteSharedCommand(LibraryCommand):
    """Share a note with the group, or make it personal again."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, note_id: int, shared: bool
    ) -> None:
        super().__init__(
            library, events, "Share note with group" if shared else "Stop sharing note"
        )
        self.note_id = note_id
        self.shared = shared

    def _apply(self) -> db.Changes:
        return self.library.set_note_shared(self.note_id, self.shared)


# -- a group library ----------------------------------------------------------------------------


class ResolveConflictsCommand(LibraryCommand):
    """Settle conflicts of a group library, keeping "mine" or "theirs", in one write; undo
    brings them all back."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, conflict_ids: Iterable[int], keep: str
    ) -> None:
        self.conflict_ids = _unique(conflict_ids)
        self.keep = keep
        side = "mine" if keep == "mine" else "the group's"
        n = len(self.conflict_ids)
        super().__init__(library, events, f"Keep {side} ({_plural(n, 'conflict')})")

    def _apply(self) -> db.Changes:
        return self.library.resolve_conflicts(self.conflict_ids, self.keep)


# -- papers -----------------------------------------------------------------------------------


class DeletePapersCommand(LibraryCommand):
    """Delete papers; undo brings them back with their keys, tags and notes."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, paper_ids: Iterable[int]
    ) -> None:
        self.paper_ids = _unique(paper_ids)
        super().__init__(library, events, f"Delete {_plural(len(self.paper_ids), 'paper')}")

    def _apply(self) -> db.Changes:
        return self.library.delete_papers(self.paper_ids)


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

    def _apply(self) -> db.Changes:
        return self.library.add_paper(self.fields, self.entry_type, self.key)

    def _applied_once(self, changes: db.Changes) -> None:
        self.paper_id = changes.new_paper


class RegenerateKeysCommand(LibraryCommand):
    """Give papers new keys by the pattern (old keys stay aliases); undo restores them exactly.

    The pattern is fixed when the command is made (the library's, unless given). ``changed``
    holds {id: (old key, new key)} once applied.
    """

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_ids: Iterable[int],
        pattern: str | None = None,
    ) -> None:
        self.paper_ids = _unique(paper_ids)
        n = len(self.paper_ids)
        super().__init__(library, events, f"Regenerate citation key{'s' if n != 1 else ''}")
        self.pattern = pattern or library.key_pattern
        self.changed: dict[int, tuple[str, str]] = {}

    def _apply(self) -> db.Changes:
        return self.library.regenerate_keys(self.paper_ids, self.pattern)

    def _applied_once(self, changes: db.Changes) -> None:
        self.changed = dict(changes.keys)


class MergePapersCommand(LibraryCommand):
    """Merge duplicates into ``keep`` (richer fields, all tags and notes, old keys as
    aliases); undo brings back every paper exactly as it was before."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, keep: int, others: Iterable[int]
    ) -> None:
        self.keep = keep
        self.others = [o for o in _unique(others) if o != keep]
        super().__init__(library, events, f"Merge {len(self.others) + 1} papers")

    def _apply(self) -> db.Changes:
        return self.library.merge_papers(self.keep, self.others)


class ImportCommand(LibraryCommand):
    """Make an import that has already happened undoable.

    The first step writes nothing: it announces ``report.changes`` so views show the new
    papers. Undo takes the import back whole (papers, @strings, comments, tags it made);
    redo restores it exactly.
    """

    def __init__(self, library: db.Library, events: LibraryEvents, report: db.ImportReport) -> None:
        super().__init__(library, events, f"Import {_plural(len(report.changes.added), 'paper')}")
        self.report = report

    def _apply(self) -> db.Changes:
        return self.report.changes  # done already by the importer: only announce it


# -- attached files ---------------------------------------------------------------------------


class AttachFilesCommand(LibraryCommand):
    """Attach files to a paper (stored: copied into the files folder); undo detaches them
    and puts a stored copy in the files folder's trash, redo takes it back."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_id: int,
        paths: Iterable[str],
        store: bool = True,
    ) -> None:
        self.paths = list(dict.fromkeys(str(p) for p in paths))
        label = (
            f"Attach {_file_name(self.paths[0])}"
            if len(self.paths) == 1
            else f"Attach {_plural(len(self.paths), 'file')}"
        )
        super().__init__(library, events, label)
        self.paper_id = paper_id
        self.store = store

    def _apply(self) -> db.Changes:
        return self.library.attach(self.paper_id, self.paths, store=self.store)


class DetachFilesCommand(LibraryCommand):
    """Take files off their paper (a stored file waits in the trash); undo puts them back."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, attachment_ids: Iterable[int], name: str
    ) -> None:
        self.attachment_ids = _unique(attachment_ids)
        label = (
            f"Detach {name}"
            if len(self.attachment_ids) == 1
            else f"Detach {_plural(len(self.attachment_ids), 'file')}"
        )
        super().__init__(library, events, label)

    def _apply(self) -> db.Changes:
        return self.library.detach(self.attachment_ids)


class RenameAttachmentCommand(LibraryCommand):
    """Rename a stored file; undo gives it back its old name on disk."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, attachment_id: int, name: str
    ) -> None:
        super().__init__(library, events, f"Rename file to {name}")
        self.attachment_id = attachment_id
        self.name = name

    def _apply(self) -> db.Changes:
        return self.library.rename_attachment(self.attachment_id, self.name)


class SetAttachmentRoleCommand(LibraryCommand):
    """Make a file its paper's main file (or a supplement); undo restores every role."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, attachment_id: int, role: str
    ) -> None:
        label = "Make main file" if role == "main" else "Make supplement"
        super().__init__(library, events, label)
        self.attachment_id = attachment_id
        self.role = role

    def _apply(self) -> db.Changes:
        return self.library.set_attachment_role(self.attachment_id, self.role)


class NoteFromAnnotationsCommand(LibraryCommand):
    """A PDF's highlights and comments as a note of its paper (made, or updated keeping
    what was written in it); undo puts the note back as it was."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, attachment_id: int, name: str
    ) -> None:
        super().__init__(library, events, f"Note from annotations of {name}")
        self.attachment_id = attachment_id

    def _apply(self) -> db.Changes:
        return self.library.import_annotations(self.attachment_id)


class AddPaperFromPdfCommand(LibraryCommand):
    """A new paper from what a PDF says, the PDF stored with it; undo deletes both, redo
    brings back the same paper. ``paper_id`` is the new paper's id once applied."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, path: str, read: Any = None
    ) -> None:
        super().__init__(library, events, f"Add paper from {_file_name(path)}")
        self.path = path
        self.read = read  # what db.read_pdf_paper gave, read off the GUI thread
        self.paper_id: int | None = None

    def _apply(self) -> db.Changes:
        return self.library.paper_from_pdf(self.path, read=self.read)

    def _applied_once(self, changes: db.Changes) -> None:
        if changes:
            self.paper_id = changes.new_paper


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


# -- papers from lookups --------------------------------------------------------------------


class AddFoundCommand(LibraryCommand):
    """Add looked-up records (``db.sources.Found``, previewed, so each keeps the key its
    preview showed) as one import; undo takes them all back, redo restores them exactly.
    ``paper_ids`` are the new papers once applied."""

    def __init__(self, library: db.Library, events: LibraryEvents, founds: Iterable[Found]) -> None:
        self.founds = list(founds)
        super().__init__(library, events, f"Add {_plural(len(self.founds), 'paper')} by identifier")
        self.report: db.ImportReport | None = None
        self.paper_ids: list[int] = []

    def _apply(self) -> db.Changes:
        self.report = self.library.add_found(self.founds)
        return self.report.changes

    def _applied_once(self, changes: db.Changes) -> None:
        self.paper_ids = sorted(changes.added)


class RefreshCommand(LibraryCommand):
    """Write the accepted differences of a refresh (``db.arrivals.FieldDiff``) into one
    paper in one write; undo restores its fields and type exactly. The key never changes."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        paper_id: int,
        accepted: Iterable[FieldDiff],
    ) -> None:
        self.accepted = list(accepted)
        super().__init__(library, events, f"Refresh {_plural(len(self.accepted), 'field')}")
        self.paper_id = paper_id

    def _apply(self) -> db.Changes:
        return self.library.apply_refresh(self.paper_id, self.accepted)
