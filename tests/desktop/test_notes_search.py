"""A search hit in a note opens that note with the words marked (desktop/notes.py
``NotesPanel.highlight``, fed by the window's search box)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QLineEdit, QListWidget, QPlainTextEdit, QTabWidget, QTextBrowser

from citedesk import db
from citedesk.mainwindow import MainWindow
from citedesk.models import Column
from tests.desktop.helpers import fragments

KEY = "wang2022generalizationerrorbounds"


@pytest.fixture
def library_path(lib_path: Path) -> Path:
    """The seeded library, one paper with three notes; the middle one says "Lemma"."""
    with db.Library.open(lib_path) as lib:
        pid = lib.id_for_key(KEY)
        lib.add_note(pid, "First reading: the setting")
        lib.add_note(pid, "# Proof\n\nThe step size bound of Lemma 3 needs $\\eta < 2/L$.")
        lib.add_note(pid, "Latest: compare with the SGD paper")
    return lib_path


def search(qtbot, window: MainWindow, text: str) -> None:
    box = window.findChild(QLineEdit, "searchBox")
    box.clear()
    qtbot.keyClicks(box, text)
    qtbot.waitUntil(lambda: window.search.last_run == text)


def open_first_result_notes(qtbot, window: MainWindow) -> None:
    table = window.table
    rect = table.visualRect(window.paper_model.index(0, Column.TITLE))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    tabs = window.detail.findChild(QTabWidget, "detailTabs")
    qtbot.mouseClick(
        tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(1).center()
    )


def marked_in_editor(window: MainWindow) -> list[str]:
    editor = window.findChild(QPlainTextEdit, "notesEditor")
    return [s.cursor.selectedText() for s in editor.extraSelections()]


def marked_in_preview(window: MainWindow) -> list[str]:
    preview = window.findChild(QTextBrowser, "notesPreview")
    return [
        text
        for text, text_format in fragments(preview.document())
        if text_format.background().style() != Qt.BrushStyle.NoBrush
    ]


def test_a_search_word_found_in_a_note_opens_that_note_with_the_word_marked(
    qtbot, window: MainWindow
) -> None:
    search(qtbot, window, "lemma")
    assert window.paper_model.rowCount() == 1

    open_first_result_notes(qtbot, window)

    editor = window.findChild(QPlainTextEdit, "notesEditor")
    assert editor.toPlainText().startswith("# Proof")
    assert window.findChild(QListWidget, "notesList").currentRow() == 1
    assert marked_in_editor(window) == ["Lemma"]
    assert marked_in_preview(window) == ["Lemma"]


def test_searching_while_the_paper_is_shown_switches_to_the_note_with_the_words(
    qtbot, window: MainWindow
) -> None:
    assert window.select_key(KEY)
    window.detail.findChild(QTabWidget, "detailTabs").setCurrentIndex(1)
    editor = window.findChild(QPlainTextEdit, "notesEditor")
    assert editor.toPlainText().startswith("Latest")

    search(qtbot, window, "size lemm")  # every prefix typed still finds the paper

    assert window.detail.paper_id == window.library.id_for_key(KEY)
    assert editor.toPlainText().startswith("# Proof")
    assert marked_in_editor(window) == ["size", "Lemma"]
    cursor: QTextCursor = editor.textCursor()
    assert editor.toPlainText()[cursor.position() :].startswith("size")


def test_a_quoted_phrase_is_marked_whole(qtbot, window: MainWindow) -> None:
    assert window.select_key(KEY)
    window.detail.findChild(QTabWidget, "detailTabs").setCurrentIndex(1)

    window.detail.set_search_text('"step  size" proof')

    assert marked_in_editor(window) == ["Proof", "step size"]
    assert marked_in_preview(window) == ["Proof", "step size"]


def test_clearing_the_search_removes_the_marks_and_keeps_the_note(
    qtbot, window: MainWindow
) -> None:
    search(qtbot, window, "lemma")
    open_first_result_notes(qtbot, window)

    search(qtbot, window, "")

    assert window.findChild(QPlainTextEdit, "notesEditor").toPlainText().startswith("# Proof")
    assert marked_in_editor(window) == []
    assert marked_in_preview(window) == []


def test_excluded_words_and_other_fields_are_not_marked(qtbot, window: MainWindow) -> None:
    assert window.select_key(KEY)
    window.detail.findChild(QTabWidget, "detailTabs").setCurrentIndex(1)

    search(qtbot, window, "author:wang -lemma")

    assert marked_in_editor(window) == []
    assert window.findChild(QPlainTextEdit, "notesEditor").toPlainText().startswith("Latest")
