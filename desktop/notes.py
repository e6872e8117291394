"""The Notes tab of the detail pane: a paper's notes, a Markdown editor and its preview.

Note text is saved as it is typed (:class:`NoteAutosave`), so nothing typed is lost and a
burst of typing is one undo step. The panel writes only through the ``push`` it is given
(the pane's: it puts a command on the undo stack and shows a failure); the pane hears of
each change on ``events.changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from . import db
from .commands import AddNoteCommand, DeleteNoteCommand, EditNoteCommand, LibraryCommand
from .hub import LibraryEvents
from .widgets import muted, open_link

#: Milliseconds after the last keystroke before a note is saved.
SAVE_DELAY_MS = 500

#: Puts a command on the undo stack; False (the failure shown) when it did not apply.
Push = Callable[[LibraryCommand], bool]


def _note_title(note: db.Note) -> str:
    for line in note.body.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= 60 else line[:59] + "…"
    return "(empty note)"


def _local_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


class NotesEditor(QPlainTextEdit):
    """The Markdown editor of a note; says when it loses focus so the note is saved then.

    Signals:
        focus_lost(): keyboard focus left the editor.
    """

    focus_lost = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_lost.emit()


class NoteAutosave(QObject):
    """Which note the editor holds, and whether what it shows is on disk yet.

    States:
        no paper: ``paper_id`` is None; there is nothing to save into.
        no note: a paper is shown but no note is current (it has none yet, or the last
            one was deleted); the first keystroke creates a note at once, so the text has
            a note to be saved into.
        saved: the editor holds note ``note_id`` as it is on disk (``saved_body``).
        pending: the editor's text differs from ``saved_body``. It is written
            ``SAVE_DELAY_MS`` after the last keystroke, or at once by :meth:`save` (the
            editor lost focus, another note or paper is shown, the pane is flushed or
            hidden). A change from elsewhere (an undo) does not overwrite pending text:
            it is saved on top of what is then on disk.

    ``saved_body`` is the note's text as last read from or written to disk, so an edit
    records the text it replaces (its undo).
    """

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        editor: QPlainTextEdit,
        push: Push,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._events = events
        self._editor = editor
        self._push = push
        self.paper_id: int | None = None
        self.note_id: int | None = None
        self.saved_body = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def pending(self) -> bool:
        return self._editor.toPlainText() != self.saved_body

    def forget(self) -> None:
        """No paper any more (another is about to be shown, or it was deleted)."""
        self._timer.stop()
        self.paper_id = None
        self.note_id = None
        self.saved_body = ""

    def choose(self, notes: dict[int, db.Note], new_paper: bool) -> str | None:
        """The paper's notes as now on disk: keep the current note unless it is gone.

        Returns the text the editor should show: the note's on disk ('' without a note),
        or None to keep pending typing, which is saved soon on top of that text.
        """
        pending = not new_paper and self.pending
        if self.note_id not in notes and not pending:
            # First showing, or the note was deleted/undone: take the latest edited one.
            latest = max(notes.values(), key=lambda n: (n.updated, n.id), default=None)
            self.note_id = latest.id if latest is not None else None
        body = notes[self.note_id].body if self.note_id in notes else ""
        if pending:
            self._timer.start()
        self.saved_body = body
        return None if pending else body

    def open(self, note_id: int, body: str) -> None:
        """The editor now shows this note, as it is on disk."""
        self.note_id = note_id
        self.saved_body = body

    def typed(self) -> None:
        """The person typed: a paper's first note starts now, anything else waits a bit."""
        if self.paper_id is None:
            return
        if self.note_id is None:
            text = self._editor.toPlainText()
            if text:
                self.add(text)
            return
        self._timer.start()

    def save(self) -> None:
        """Write the editor's text to its note now (creating the note if it has none)."""
        self._timer.stop()
        if self.paper_id is None or not self.pending:
            return
        text = self._editor.toPlainText()
        if self.note_id is not None and self._library.note(self.note_id) is not None:
            self._push(
                EditNoteCommand(self._library, self._events, self.note_id, self.saved_body, text)
            )
        else:
            self.add(text)

    def start_new(self) -> bool:
        """A new, empty note, current from now on (the editor has just been cleared)."""
        self.note_id = None
        self.saved_body = ""
        return self.add("")

    def add(self, body: str) -> bool:
        """A new note of the paper with this text, current from now on."""
        assert self.paper_id is not None
        command = AddNoteCommand(self._library, self._events, self.paper_id, body)
        ok = self._push(command)
        if ok and command.note_id is not None:
            self.note_id = command.note_id
            self.saved_body = body
        return ok

    def delete(self) -> None:
        """Delete the current note, saved first so undo brings back the text as typed."""
        if self.paper_id is None or self.note_id is None:
            return
        self.save()
        note_id = self.note_id
        self.note_id = None
        self.saved_body = self._editor.toPlainText()
        ok = self._push(DeleteNoteCommand(self._library, self._events, note_id))
        if not ok:
            self.note_id = note_id

    def _on_timer_timeout(self) -> None:
        self.save()


class NotesPanel(QWidget):
    """The paper's notes (a list when there are any), the editor and the live preview."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, push: Push, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self._loading = False  # filling widgets: their change signals are not typing
        self._build()
        self.autosave = NoteAutosave(library, events, self.notes_editor, push, self)

    def show_notes(self, paper: db.Paper, new_paper: bool) -> None:
        """Show the paper's notes as now on disk; typing not yet saved stays in the editor."""
        self._loading = True
        try:
            self.autosave.paper_id = paper.id
            notes = {n.id: n for n in paper.notes}
            body = self.autosave.choose(notes, new_paper)
            self._fill_list(paper.notes)
            self.delete_note_button.setEnabled(self.autosave.note_id in notes)
            self.notes_editor.setPlaceholderText(
                "Start typing to add a note (Markdown)…" if not notes else ""
            )
            if new_paper:
                self.notes_editor.setPlainText(body or "")
            elif body is not None and self.notes_editor.toPlainText() != body:
                self._replace_editor_text(body)
            self._render_preview()
        finally:
            self._loading = False

    def forget(self) -> None:
        """No paper any more: nothing left to save into."""
        self.autosave.forget()

    def save(self) -> None:
        """Write the note being typed now."""
        self.autosave.save()

    # -- building -----------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(6)

        buttons = QHBoxLayout()
        self.new_note_button = QPushButton("New note")
        self.new_note_button.setObjectName("newNoteButton")
        self.new_note_button.clicked.connect(self._on_new_note_button_clicked)
        self.delete_note_button = QPushButton("Delete note")
        self.delete_note_button.setObjectName("deleteNoteButton")
        self.delete_note_button.clicked.connect(self._on_delete_note_button_clicked)
        buttons.addWidget(self.new_note_button)
        buttons.addWidget(self.delete_note_button)
        buttons.addStretch(1)
        buttons.addWidget(muted(QLabel("Markdown · saved as you type")))
        layout.addLayout(buttons)

        self.notes_list = QListWidget()
        self.notes_list.setObjectName("notesList")
        self.notes_list.setAlternatingRowColors(True)
        self.notes_list.setWordWrap(True)
        self.notes_list.setSpacing(2)
        self.notes_list.currentItemChanged.connect(self._on_notes_list_current_item_changed)

        self.notes_editor = NotesEditor()
        self.notes_editor.setObjectName("notesEditor")
        self.notes_editor.setTabChangesFocus(True)
        self.notes_editor.textChanged.connect(self._on_notes_editor_text_changed)
        self.notes_editor.focus_lost.connect(self._on_notes_editor_focus_lost)

        self.notes_preview = QTextBrowser()
        self.notes_preview.setObjectName("notesPreview")
        self.notes_preview.setOpenLinks(False)
        self.notes_preview.setPlaceholderText("The rendered note appears here.")
        self.notes_preview.anchorClicked.connect(self._on_notes_preview_anchor_clicked)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("notesSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.notes_list)
        splitter.addWidget(self.notes_editor)
        splitter.addWidget(self.notes_preview)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 3)
        splitter.setSizes([90, 260, 260])
        layout.addWidget(splitter, 1)

    # -- filling ------------------------------------------------------------------------------

    def _fill_list(self, notes: list[db.Note]) -> None:
        self.notes_list.blockSignals(True)
        try:
            ids = [
                self.notes_list.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.notes_list.count())
            ]
            if ids != [n.id for n in notes]:
                self.notes_list.clear()
                for note in notes:
                    item = QListWidgetItem()
                    item.setData(Qt.ItemDataRole.UserRole, note.id)
                    self.notes_list.addItem(item)
            for row, note in enumerate(notes):
                item = self.notes_list.item(row)
                item.setText(f"{_note_title(note)}\n{_local_time(note.updated)}")
                if note.id == self.autosave.note_id:
                    self.notes_list.setCurrentItem(item)
            if self.autosave.note_id not in {n.id for n in notes}:
                self.notes_list.setCurrentItem(None)
            self.notes_list.setVisible(bool(notes))
        finally:
            self.notes_list.blockSignals(False)

    def _replace_editor_text(self, body: str) -> None:
        """Put new text in the editor keeping the cursor and scroll where they were."""
        cursor = self.notes_editor.textCursor()
        position = cursor.position()
        scroll = self.notes_editor.verticalScrollBar().value()
        self.notes_editor.setPlainText(body)
        cursor = self.notes_editor.textCursor()
        cursor.setPosition(min(position, len(body)))
        self.notes_editor.setTextCursor(cursor)
        self.notes_editor.verticalScrollBar().setValue(scroll)

    def _render_preview(self) -> None:
        bar = self.notes_preview.verticalScrollBar()
        scroll = bar.value()
        self.notes_preview.setMarkdown(self.notes_editor.toPlainText())
        bar.setValue(scroll)

    # -- slots --------------------------------------------------------------------------------

    def _on_notes_editor_text_changed(self) -> None:
        self._render_preview()
        if not self._loading:
            self.autosave.typed()

    def _on_notes_editor_focus_lost(self) -> None:
        self.autosave.save()

    def _on_notes_preview_anchor_clicked(self, url: QUrl) -> None:
        open_link(url.toString())

    def _on_notes_list_current_item_changed(
        self, current: QListWidgetItem | None, previous: QListWidgetItem | None
    ) -> None:
        paper_id = self.autosave.paper_id
        if self._loading or current is None or paper_id is None:
            return
        note_id = int(current.data(Qt.ItemDataRole.UserRole))
        self.autosave.save()  # into the note being left, before the editor shows another
        note = self.library.note(note_id)
        if note is None:
            return
        self.autosave.open(note_id, note.body)
        self._loading = True
        try:
            self.notes_editor.setPlainText(note.body)
            # Saving the old note refreshed the list with the old note current; fix that.
            self._fill_list(self.library.notes(paper_id))
        finally:
            self._loading = False
        self.delete_note_button.setEnabled(True)
        self._render_preview()

    def _on_new_note_button_clicked(self) -> None:
        if self.autosave.paper_id is None:
            return
        self.autosave.save()
        self._loading = True
        try:
            self.notes_editor.clear()
        finally:
            self._loading = False
        if self.autosave.start_new():
            self.notes_editor.setFocus()

    def _on_delete_note_button_clicked(self) -> None:
        self.autosave.delete()
