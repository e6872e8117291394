"""Ctrl+Z in a field: its own typing first, then the window's edits; Ctrl+Y redoes.

Once an edit was applied the field had nothing of its own to undo but still took Ctrl+Z:
pressed twice, the edit stayed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from citedesk.mainwindow import MainWindow


def select_first(window: MainWindow) -> None:
    """Select row 0 alone (selectRow would heed modifiers a previous key left behind)."""
    first = window.paper_model.paper_id(0)
    assert first is not None
    window.table.select_papers([first], first)


def title_field(window: MainWindow) -> QLineEdit:
    field = window.detail.findChild(QLineEdit, "field_title")
    assert field is not None
    return field


def test_ctrl_z_in_a_field_after_enter_undoes_the_edit(qtbot, window: MainWindow) -> None:
    select_first(window)
    pid = window.detail.paper_id
    assert pid is not None
    before = window.library.paper(pid).title
    field = title_field(window)
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "A new title")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.library.paper(pid).title == "A new title"

    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    assert window.library.paper(pid).title == before
    assert title_field(window).text() == before

    qtbot.keyClick(title_field(window), Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.library.paper(pid).title == "A new title"


def test_ctrl_z_while_typing_undoes_the_typing_only(qtbot, window: MainWindow) -> None:
    select_first(window)
    pid = window.detail.paper_id
    assert pid is not None
    window.library.set_rating([pid], 3)  # an earlier edit the window could undo
    field = title_field(window)
    field.setFocus()
    before = field.text()
    qtbot.keyClicks(field, " (draft)")

    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    assert field.text() != before + " (draft)"  # the field undid its typing
    assert window.library.rows([pid])[pid].rating == 3  # and the window undid nothing


def test_ctrl_y_redoes_in_the_window(qtbot, window: MainWindow) -> None:
    window.activateWindow()  # shortcuts go to the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    select_first(window)
    pid = window.detail.paper_id
    assert pid is not None
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.library.rows([pid])[pid].status == "read"
    window.undo_stack.undo()
    assert window.library.rows([pid])[pid].status == "unread"
    qtbot.keyClick(window.table, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.library.rows([pid])[pid].status == "read"
