"""One undo step is a burst of typing in a note, not a letter (desktop/notes.py autosave
with desktop/commands.py EditNoteCommand), with Ctrl+Z pressed in the window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QTabWidget

from citedesk import db
from citedesk.mainwindow import MainWindow
from citedesk.models import Column
from citedesk.notes import SAVE_DELAY_MS

SENTENCE = "Check the proof of Lemma 3 again"


def notes_editor(qtbot, window: MainWindow, row: int) -> QPlainTextEdit:
    """Click a paper's row, then its Notes tab: the editor, with the keyboard in it."""
    table = window.table
    rect = table.visualRect(window.paper_model.index(row, Column.TITLE))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    tabs = window.detail.findChild(QTabWidget, "detailTabs")
    qtbot.mouseClick(
        tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(1).center()
    )
    editor = window.findChild(QPlainTextEdit, "notesEditor")
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    return editor


def ctrl_z(qtbot, widget) -> None:
    qtbot.keyClick(widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def test_ctrl_z_after_typing_a_first_note_undoes_the_whole_sentence(
    qtbot, window: MainWindow
) -> None:
    pid = window.paper_model.paper_id(0)
    editor = notes_editor(qtbot, window, 0)
    qtbot.keyClicks(editor, SENTENCE)
    qtbot.waitUntil(
        lambda: [n.body for n in window.library.notes(pid)] == [SENTENCE],
        timeout=SAVE_DELAY_MS * 6,
    )
    window.table.setFocus()  # the typing is done; Ctrl+Z is the window's Undo

    ctrl_z(qtbot, window.table)

    assert [n.body for n in window.library.notes(pid)] in ([], [""])
    assert editor.toPlainText() == ""


def test_ctrl_z_in_the_editor_after_the_autosave_undoes_the_burst_everywhere(
    qtbot, window: MainWindow
) -> None:
    pid = window.paper_model.paper_id(1)
    note_id = window.library.add_note(pid, "Notes").new_note
    editor = notes_editor(qtbot, window, 1)
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, ": " + SENTENCE)
    qtbot.waitUntil(
        lambda: window.library.note(note_id).body == "Notes: " + SENTENCE,
        timeout=SAVE_DELAY_MS * 6,
    )

    ctrl_z(qtbot, editor)
    window.detail.flush()

    assert editor.toPlainText() == "Notes"
    note = window.library.note(note_id)
    assert isinstance(note, db.Note) and note.body == "Notes"
    assert not window.undo_stack.canUndo() or window.undo_stack.undoText() != "Edit note"
