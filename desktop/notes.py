"""The Notes tab of the detail pane: a paper's notes, a Markdown editor and its preview.

The preview draws TeX math (``$…$``, ``$$…$$``) with ``desktop/mathrender.py`` and marks
the window's search words.

Note text is saved as it is typed (:class:`NoteAutosave`), so nothing typed is lost and a
burst of typing is one undo step. The panel writes only through the ``push`` it is given
(the pane's: it puts a command on the undo stack and shows a failure); the pane hears of
each change on ``events.changed``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QRegularExpression, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFontInfo,
    QPalette,
    QResizeEvent,
    QShowEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import db
from .commands import (
    AddNoteCommand,
    DeleteNoteCommand,
    EditNoteCommand,
    LibraryCommand,
    SetNoteSharedCommand,
)
from .hub import LibraryEvents
from .mathrender import MathRenderer, set_markdown_with_math, warm_up
from .widgets import muted, open_link

#: Milliseconds after the last keystroke before a note is saved.
SAVE_DELAY_MS = 500

#: The panel is at least this wide: editor and preview side by side.
SIDE_BY_SIDE_MIN_WIDTH = 700

#: Rows of the notes list shown above the editor before it scrolls; its width beside it.
LIST_ROWS = 3
LIST_WIDTH = 200

HINT_TEXT = "Markdown · saved as you type"

#: Search words in a note are marked with this background.
HIT_BACKGROUND = "#ffe27a"

#: Search fields (``notes:word``) whose terms can be in a note.
NOTE_FIELDS = {"note", "notes"}

QWIDGETSIZE_MAX = (1 << 24) - 1

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
            one was deleted); the first keystroke creates an empty note at once, so the
            text has a note to be saved into, and the burst is saved into it as one edit.
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
            # The note starts empty and the typing is saved into it as an edit, like any
            # other burst: Undo then takes back the whole burst, not all but its first letter.
            if not self._editor.toPlainText() or not self.add(""):
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
    """The paper's notes (a compact list when there are several), the editor and the preview.

    Editor and preview stand side by side when the panel is at least
    ``SIDE_BY_SIDE_MIN_WIDTH`` wide; narrower, they are stacked and the Edit and Preview
    toggles show either or both. :meth:`highlight` marks the window's search words in the
    notes and opens the note they are in.
    """

    def __init__(
        self, library: db.Library, events: LibraryEvents, push: Push, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self._events = events
        self._push = push
        # Read once: a library joins a group only from the command line.
        self._in_group = library.group_server() is not None
        self._loading = False  # filling widgets: their change signals are not typing
        self._math = MathRenderer()
        self._search_text = ""
        self._search: list[QRegularExpression] = []
        self._build()
        self.autosave = NoteAutosave(library, events, self.notes_editor, push, self)

    def show_notes(self, paper: db.Paper, new_paper: bool) -> None:
        """Show the paper's notes as now on disk; typing not yet saved stays in the editor."""
        self._loading = True
        try:
            self.autosave.paper_id = paper.id
            notes = {n.id: n for n in paper.notes}
            body = self.autosave.choose(notes, new_paper)
            if new_paper and self._search:
                hit = self._note_with_hits(paper.notes)
                if hit is not None:
                    self.autosave.open(hit.id, hit.body)
                    body = hit.body
            self._fill_list(paper.notes)
            self.delete_note_button.setEnabled(self.autosave.note_id in notes)
            self._show_shared(notes.get(self.autosave.note_id))
            self.notes_editor.setPlaceholderText(
                "Start typing to add a note (Markdown)…" if not notes else ""
            )
            if new_paper:
                self.notes_editor.setPlainText(body or "")
            elif body is not None and self.notes_editor.toPlainText() != body:
                self._replace_editor_text(body)
            self._render_preview()
            if new_paper and self._search:
                self._scroll_to_first_hit()
        finally:
            self._loading = False

    def forget(self) -> None:
        """No paper any more: nothing left to save into."""
        self.autosave.forget()

    def save(self) -> None:
        """Write the note being typed now."""
        self.autosave.save()

    def highlight(self, text: str) -> None:
        """Mark the words of the window's search ``text`` in the notes ('' for none).

        The paper's note with the most of them is opened (the current one when it ties),
        and so is every paper's shown later.
        """
        if text == self._search_text:
            return
        self._search_text = text
        self._search = _search_patterns(text)
        paper_id = self.autosave.paper_id
        if self._search and paper_id is not None:
            hit = self._note_with_hits(self.library.notes(paper_id))
            if hit is not None and hit.id != self.autosave.note_id:
                self._open_note(hit.id)
        self._render_preview()
        if self._search:
            self._scroll_to_first_hit()

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
        self.edit_toggle = _toggle("Edit", "notesEditToggle", "Show the Markdown editor")
        self.preview_toggle = _toggle("Preview", "notesPreviewToggle", "Show the rendered note")
        self.edit_toggle.toggled.connect(self._on_edit_toggle_toggled)
        self.preview_toggle.toggled.connect(self._on_preview_toggle_toggled)
        buttons.addWidget(self.new_note_button)
        buttons.addWidget(self.delete_note_button)
        # A group library's notes are personal unless the member shares them (issue 17).
        self.shared_check = QCheckBox("Shared with group")
        self.shared_check.setObjectName("noteSharedCheck")
        self.shared_check.setToolTip(
            "Share this note with the group's other members (unshared notes stay yours)"
        )
        self.shared_check.hide()
        self.shared_check.clicked.connect(self._on_shared_check_clicked)
        buttons.addWidget(self.shared_check)
        self._hint = muted(QLabel(HINT_TEXT))
        # Only where there is room: it must not widen the pane's minimum width.
        self._hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        buttons.addWidget(self._hint, 1)
        buttons.addWidget(self.edit_toggle)
        buttons.addWidget(self.preview_toggle)
        layout.addLayout(buttons)

        self.notes_list = QListWidget()
        self.notes_list.setObjectName("notesList")
        self.notes_list.setAlternatingRowColors(True)
        self.notes_list.setUniformItemSizes(True)
        self.notes_list.setTextElideMode(Qt.TextElideMode.ElideRight)
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

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("notesSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.notes_list)
        self.splitter.addWidget(self.notes_editor)
        self.splitter.addWidget(self.notes_preview)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setSizes([LIST_ROWS * 24, 260, 260])
        layout.addWidget(self.splitter, 1)
        self._fit_list()

    # -- laying out ---------------------------------------------------------------------------

    @property
    def side_by_side(self) -> bool:
        return self.splitter.orientation() == Qt.Orientation.Horizontal

    def _update_layout(self) -> None:
        wide = self.width() >= SIDE_BY_SIDE_MIN_WIDTH
        if wide != self.side_by_side:
            self.splitter.setOrientation(
                Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
            )
            self._fit_list()
            total = max(0, sum(self.splitter.sizes()) - self.splitter.sizes()[0])
            first = LIST_WIDTH if wide else self.notes_list.maximumHeight()
            self.splitter.setSizes([first, total // 2, total - total // 2])
        self._clamp_list()
        self.edit_toggle.setVisible(not wide)
        self.preview_toggle.setVisible(not wide)
        others = (
            (self.new_note_button, self.delete_note_button)
            + (() if self.shared_check.isHidden() else (self.shared_check,))
            + (() if wide else (self.edit_toggle, self.preview_toggle))
        )
        room = self.width() - sum(w.sizeHint().width() + 6 for w in others)
        self._hint.setText(
            HINT_TEXT if room >= self._hint.fontMetrics().horizontalAdvance(HINT_TEXT) else ""
        )
        self.notes_editor.setVisible(wide or self.edit_toggle.isChecked())
        self.notes_preview.setVisible(wide or self.preview_toggle.isChecked())

    def _fit_list(self) -> None:
        """A few one-line rows above the editor (a column beside it when side by side)."""
        if self.side_by_side:
            self.notes_list.setMaximumHeight(QWIDGETSIZE_MAX)
            self.notes_list.setMaximumWidth(LIST_WIDTH)
            return
        rows = min(max(self.notes_list.count(), 1), LIST_ROWS)
        row = self.notes_list.sizeHintForRow(0)
        if row <= 0:
            row = self.notes_list.fontMetrics().height() + 4
        frame = 2 * self.notes_list.frameWidth()
        self.notes_list.setMaximumWidth(QWIDGETSIZE_MAX)
        self.notes_list.setMaximumHeight(rows * row + frame)
        self._clamp_list()

    def _clamp_list(self) -> None:
        """QSplitter keeps a slot's old size when its widget's maximum shrinks: give the
        room the list cannot use to the editor."""
        sizes = self.splitter.sizes()
        extra = sizes[0] - self.notes_list.maximumHeight()
        if not self.side_by_side and extra > 0:
            self.splitter.setSizes([sizes[0] - extra, sizes[1] + extra, sizes[2]])

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
                title, when = _note_title(note), _local_time(note.updated)
                item.setText(f"{title}  ·  {when}")
                item.setToolTip(f"{title}\n{when}")
                if note.id == self.autosave.note_id:
                    self.notes_list.setCurrentItem(item)
            if self.autosave.note_id not in {n.id for n in notes}:
                self.notes_list.setCurrentItem(None)
            # One note needs no list: the editor shows it.
            self.notes_list.setVisible(len(notes) > 1)
            self._fit_list()
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
        preview = self.notes_preview
        set_markdown_with_math(
            preview.document(),
            self.notes_editor.toPlainText(),
            self._math,
            QFontInfo(preview.font()).pixelSize(),
            preview.palette().color(QPalette.ColorRole.Text),
            preview.devicePixelRatioF(),
        )
        bar.setValue(scroll)
        self._mark_hits()

    def _open_note(self, note_id: int) -> None:
        """Show another note of the paper in the editor, saving the one being left first."""
        paper_id = self.autosave.paper_id
        if paper_id is None:
            return
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
        self._show_shared(note)
        self._render_preview()

    def _show_shared(self, note: db.Note | None) -> None:
        """The Shared box: only in a group library, for the note in the editor."""
        self.shared_check.setVisible(self._in_group and note is not None)
        self.shared_check.setChecked(bool(note is not None and note.shared))

    # -- search hits --------------------------------------------------------------------------

    def _note_with_hits(self, notes: list[db.Note]) -> db.Note | None:
        """The note with the most search words (the current one when it ties), if any."""

        def score(note: db.Note) -> tuple[int, bool]:
            found = sum(p.match(note.body).hasMatch() for p in self._search)
            return found, note.id == self.autosave.note_id

        best = max(notes, key=score, default=None)
        return best if best is not None and score(best)[0] else None

    def _hits(self, document: QTextDocument) -> list[QTextCursor]:
        hits: list[QTextCursor] = []
        for pattern in self._search:
            cursor = QTextCursor(document)
            while not (cursor := document.find(pattern, cursor)).isNull():
                if not cursor.hasSelection():
                    break
                hits.append(cursor)
        return sorted(hits, key=QTextCursor.selectionStart)

    def _mark_hits(self) -> None:
        """Search words: a highlight in the editor (not part of the text) and the preview."""
        mark = QTextCharFormat()
        mark.setBackground(QColor(HIT_BACKGROUND))
        mark.setForeground(QColor("black"))
        selections = []
        for cursor in self._hits(self.notes_editor.document()):
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor  # type: ignore[attr-defined]
            selection.format = mark  # type: ignore[attr-defined]
            selections.append(selection)
        self.notes_editor.setExtraSelections(selections)
        for cursor in self._hits(self.notes_preview.document()):
            cursor.mergeCharFormat(mark)

    def _scroll_to_first_hit(self) -> None:
        for view in (self.notes_editor, self.notes_preview):
            hits = self._hits(view.document())
            if hits:
                cursor = QTextCursor(view.document())
                cursor.setPosition(hits[0].selectionStart())
                view.setTextCursor(cursor)
                view.ensureCursorVisible()

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
        if self._loading or current is None or self.autosave.paper_id is None:
            return
        self._open_note(int(current.data(Qt.ItemDataRole.UserRole)))

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

    def _on_shared_check_clicked(self, checked: bool) -> None:
        note_id = self.autosave.note_id
        if note_id is None:
            return
        self.autosave.save()  # the note is shared as typed
        command = SetNoteSharedCommand(self.library, self._events, note_id, checked)
        if not self._push(command):
            self.shared_check.setChecked(not checked)

    def _on_delete_note_button_clicked(self) -> None:
        self.autosave.delete()

    def _on_edit_toggle_toggled(self, checked: bool) -> None:
        if not checked and not self.preview_toggle.isChecked():
            self.preview_toggle.setChecked(True)  # one of the two is always shown
        self._update_layout()

    def _on_preview_toggle_toggled(self, checked: bool) -> None:
        if not checked and not self.edit_toggle.isChecked():
            self.edit_toggle.setChecked(True)
        self._update_layout()

    # -- Qt events ----------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_layout()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        warm_up()  # matplotlib loads in the background before a formula needs it
        self._update_layout()


def _toggle(text: str, name: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setObjectName(name)
    button.setToolTip(tip)
    button.setCheckable(True)
    button.setChecked(True)
    button.setAutoRaise(True)
    return button


_QUERY_TERM = re.compile(r'(-?)(?:([A-Za-z]+):)?(?:"([^"]*)"?|(\S+))')


def _search_patterns(text: str) -> list[QRegularExpression]:
    """What of the window's search can be in a note: its words (as prefixes, the way the
    search reads them) and quoted phrases; not excluded words, nor other fields' terms."""
    patterns: list[QRegularExpression] = []
    options = (
        QRegularExpression.PatternOption.CaseInsensitiveOption
        | QRegularExpression.PatternOption.UseUnicodePropertiesOption
    )
    for m in _QUERY_TERM.finditer(text):
        negative, field, quoted, bare = m.groups()
        if negative or (field and field.lower() not in NOTE_FIELDS):
            continue
        if quoted is not None:
            words = [re.escape(w) for w in quoted.split()]
            pattern = r"\b" + r"\s+".join(words) + r"\b" if words else ""
        else:
            word = bare.strip("*").strip()
            pattern = r"\b" + re.escape(word) + r"\w*" if word else ""
        if pattern:
            patterns.append(QRegularExpression(pattern, options))
    return patterns
