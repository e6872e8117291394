"""Paths a person takes with the keyboard alone, key by key on the real window: completing
a tag in the detail pane, and the README's search-then-cite path (issue 13, points 1-2).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from citedesk import db
from citedesk.actions import ActionId
from citedesk.mainwindow import MainWindow
from citedesk.models import KEY_ROLE, Column

#: Listed alphabetically, so "transformers" is not the third tag of the unfiltered list:
#: a completion read against the wrong model shows as the wrong tag.
TAGS = ["attention", "flat-minima", "sgd", "theory", "training", "transformers"]


@pytest.fixture
def library_path(lib_path: Path) -> Path:
    """The seeded library, with tags on its oldest paper for the editor to complete (the
    window opens on the newest, which has none)."""
    lib = db.Library.open(lib_path)
    try:
        lib.add_tags([lib.paper_ids()[0]], TAGS)
    finally:
        lib.close()
    return lib_path


def tag_editor(window: MainWindow) -> QLineEdit:
    editor = window.findChild(QLineEdit, "tagEditor")
    assert editor is not None
    return editor


def current_tags(window: MainWindow) -> list[str]:
    pid = window.table.current_paper
    assert pid is not None
    return window.library.paper_tags(pid)


def highlight_completion(qtbot: QtBot, editor: QLineEdit, typed: str, downs: int) -> str:
    """Type, wait for the popup, press Down ``downs`` times; the highlighted completion."""
    qtbot.keyClicks(editor, typed)
    popup = editor.completer().popup()
    qtbot.waitUntil(popup.isVisible)
    for _ in range(downs):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    return popup.currentIndex().data()


def test_enter_on_a_completion_chosen_with_down_adds_that_tag(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert current_tags(window) == []
    editor = tag_editor(window)

    chosen = highlight_completion(qtbot, editor, "tra", downs=2)
    qtbot.keyClick(editor.completer().popup(), Qt.Key.Key_Return)

    assert chosen == "transformers"
    qtbot.waitUntil(lambda: current_tags(window) != [])
    assert current_tags(window) == ["transformers"]


def test_a_completion_chosen_with_down_completes_only_the_last_tag_typed(
    qtbot: QtBot, window: MainWindow
) -> None:
    editor = tag_editor(window)

    chosen = highlight_completion(qtbot, editor, "sgd, tra", downs=2)
    qtbot.keyClick(editor.completer().popup(), Qt.Key.Key_Enter)

    assert chosen == "transformers"
    qtbot.waitUntil(lambda: current_tags(window) != [])
    assert current_tags(window) == ["sgd", "transformers"]


def test_search_down_then_ctrl_shift_k_copies_the_cite_of_the_first_result(
    qtbot: QtBot, window: MainWindow
) -> None:
    QGuiApplication.clipboard().setText("before")
    window.table.clearSelection()
    assert not window.action(ActionId.COPY_CITE).isEnabled()

    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    box = window.findChild(QLineEdit, "searchBox")
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClicks(box, "noise geometry")
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 1)
    qtbot.keyClick(box, Qt.Key.Key_Down)
    qtbot.waitUntil(window.table.hasFocus)
    qtbot.keyClick(
        window.table,
        Qt.Key.Key_K,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )

    key = window.paper_model.index(0, Column.TITLE).data(KEY_ROLE)
    assert QGuiApplication.clipboard().text() == f"\\cite{{{key}}}"
    assert window.selected_ids() == [window.paper_model.paper_id(0)]


def test_down_from_the_search_box_selects_the_row_it_moves_to(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.table.clearSelection()  # the current row stays: it is not selected any more
    assert window.table.currentIndex().isValid()
    box = window.findChild(QLineEdit, "searchBox")
    box.setFocus()

    qtbot.keyClick(box, Qt.Key.Key_Down)

    row = window.table.currentIndex().row()
    assert window.selected_ids() == [window.paper_model.paper_id(row)]
    assert window.action(ActionId.COPY_CITE).isEnabled()


def test_copy_cite_with_nothing_selected_says_why(qtbot: QtBot, window: MainWindow) -> None:
    window.table.clearSelection()
    QGuiApplication.clipboard().setText("before")
    action = window.action(ActionId.COPY_CITE)
    assert not action.isEnabled()

    window.paper_actions.copy_cite()  # as a stale shortcut or a script would

    assert QGuiApplication.clipboard().text() == "before"
    assert "select" in window.status_bar.currentMessage().lower()
