"""The Details form of the Info tab: the entry type's fields, every field the entry has,
adding a field by name, the abstract, and the entry's BibTeX edited as text."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from citedesk import db
from citedesk.detail import DetailPane
from tests.desktop.helpers import child

BIBLATEX_ARTICLE = (
    "@article{bl, author = {Doe, Jane}, title = {On Things}, journaltitle = {Old Journal},"
    " date = {2024-03-05}, langid = {english}}\n"
)


@pytest.fixture
def pane_size() -> tuple[int, int]:
    """The form is laid out in a narrow pane (the conftest's ``pane``)."""
    return (420, 900)


def field(pane: DetailPane, name: str) -> QLineEdit:
    return child(pane, QLineEdit, f"field_{name}")


def replace_text(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)


def _imported(library: db.Library, text: str, key: str) -> int:
    library.import_text(text)
    pid = library.id_for_key(key)
    assert pid is not None
    return pid


def _row_names(pane: DetailPane) -> list[str]:
    """The form's field editors, top to bottom."""
    edits = [
        w
        for w in pane.info.findChildren(QWidget)
        if w.objectName().startswith("field_") and w.isVisibleTo(pane)
    ]
    edits.sort(key=lambda w: w.mapTo(pane, w.rect().topLeft()).y())
    return [w.objectName().removeprefix("field_") for w in edits]


# -- year and date -------------------------------------------------------------------------------


def test_editing_the_year_writes_the_dates_year_too(
    qtbot: QtBot, pane: DetailPane, library: db.Library
) -> None:
    pid = library.paper_ids()[0]  # seeded: year 2026, date 2026-03-11
    pane.show_paper(pid)

    replace_text(qtbot, field(pane, "year"), "2025")
    qtbot.keyClick(field(pane, "year"), Qt.Key.Key_Return)

    paper = library.paper(pid)
    assert (paper.text("year"), paper.text("date")) == ("2025", "2025-03-11")
    assert field(pane, "date").text() == "2025-03-11"


# -- which rows ------------------------------------------------------------------------------------


def test_a_biblatex_article_shows_its_journal_and_date_and_editing_adds_no_bibtex_twin(
    qtbot: QtBot, pane: DetailPane, library: db.Library
) -> None:
    pid = _imported(library, BIBLATEX_ARTICLE, "bl")
    pane.show_paper(pid)

    assert _row_names(pane)[:6] == ["entrytype", "key", "author", "title", "journaltitle", "date"]
    assert child(pane, QLabel, "label_journaltitle").text() == "Journal"
    assert field(pane, "journaltitle").text() == "Old Journal"
    assert "langid" in _row_names(pane)  # every other field the entry has

    replace_text(qtbot, field(pane, "journaltitle"), "New Journal")
    qtbot.keyClick(field(pane, "journaltitle"), Qt.Key.Key_Return)

    paper = library.paper(pid)
    assert paper.text("journaltitle") == "New Journal"
    assert paper.raw("journal") is None


def test_a_new_phdthesis_gets_a_school_row(
    qtbot: QtBot, pane: DetailPane, library: db.Library
) -> None:
    pid = library.add_paper({"title": "A Thesis", "author": "Doe, Jane"}, "phdthesis").new_paper
    pane.show_paper(pid)

    assert _row_names(pane)[2:6] == ["author", "title", "school", "year"]
    qtbot.keyClicks(field(pane, "school"), "Uni of Somewhere")
    qtbot.keyClick(field(pane, "school"), Qt.Key.Key_Return)

    assert library.paper(pid).text("school") == "Uni of Somewhere"


def test_changing_the_type_shows_the_new_types_fields(
    qtbot: QtBot, pane: DetailPane, library: db.Library
) -> None:
    pid = library.paper_ids()[0]
    pane.show_paper(pid)
    assert pane.findChild(QLineEdit, "field_booktitle") is None

    replace_text(qtbot, field(pane, "entrytype"), "inproceedings")
    qtbot.keyClick(field(pane, "entrytype"), Qt.Key.Key_Return)

    assert _row_names(pane)[2:6] == ["author", "title", "booktitle", "year"]


def test_a_field_being_typed_in_keeps_its_text_when_the_rows_change(
    qtbot: QtBot, pane: DetailPane, library: db.Library
) -> None:
    pid = library.paper_ids()[0]
    pane.show_paper(pid)
    qtbot.keyClicks(field(pane, "volume"), "7")

    library.set_entry_type(pid, "book")
    pane.refresh()

    assert field(pane, "volume").text() == "7"
    assert "publisher" in _row_names(pane)


# -- adding a field ------------------------------------------------------------------------------


def test_add_field_makes_a_row_for_any_field_and_its_value_is_written(
    qtbot: QtBot, pane: DetailPane, library: db.Library
) -> None:
    pid = library.paper_ids()[0]
    pane.show_paper(pid)
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow)
    adder = child(pane, QLineEdit, "addFieldEdit")

    adder.setFocus()
    qtbot.keyClicks(adder, "isbn")
    qtbot.keyClick(adder, Qt.Key.Key_Return)

    isbn = field(pane, "isbn")
    qtbot.waitUntil(isbn.hasFocus)
    qtbot.keyClicks(isbn, "978-3-16-148410-0")
    qtbot.keyClick(isbn, Qt.Key.Key_Return)
    assert library.paper(pid).text("isbn") == "978-3-16-148410-0"


def test_add_field_refuses_a_name_bibtex_cannot_read(
    qtbot: QtBot, pane: DetailPane, library: db.Library
) -> None:
    pid = library.paper_ids()[0]
    pane.show_paper(pid)
    adder = child(pane, QLineEdit, "addFieldEdit")

    qtbot.keyClicks(adder, "my field")
    qtbot.keyClick(adder, Qt.Key.Key_Return)

    assert child(pane, QLabel, "addFieldError").isVisible()
    assert pane.findChild(QLineEdit, "field_my field") is None


# -- the abstract ----------------------------------------------------------------------------------


def test_the_abstract_is_edited_in_place_applied_by_ctrl_enter_and_undoable(
    qtbot: QtBot, pane: DetailPane, library: db.Library, undo_stack: QUndoStack
) -> None:
    pid = library.paper_ids()[0]
    before = library.paper(pid).abstract
    pane.show_paper(pid)
    editor = child(pane, QPlainTextEdit, "field_abstract")
    editor.setFocus()
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)

    qtbot.keyClicks(editor, "A shorter abstract.")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    assert library.paper(pid).abstract == "A shorter abstract."
    assert child(pane, QLabel, "abstractLabel").text() == "A shorter abstract."
    undo_stack.undo()
    assert library.paper(pid).abstract == before


# -- the entry's BibTeX as text --------------------------------------------------------------------


def _source_dialog(qtbot: QtBot, pane: DetailPane) -> QDialog:
    qtbot.mouseClick(child(pane, QPushButton, "editSourceButton"), Qt.MouseButton.LeftButton)
    dialog = child(pane, QDialog, "editEntryDialog")
    qtbot.waitExposed(dialog)
    return dialog


def test_edit_bibtex_applies_type_key_and_fields_in_one_undoable_step(
    qtbot: QtBot, pane: DetailPane, library: db.Library, undo_stack: QUndoStack
) -> None:
    pid = _imported(library, BIBLATEX_ARTICLE, "bl")
    pane.show_paper(pid)
    before = library.entry_text(pid)
    dialog = _source_dialog(qtbot, pane)
    editor = child(dialog, QPlainTextEdit, "entrySourceEditor")
    assert editor.toPlainText() == before

    editor.setPlainText("@book{doe2024,\n  title = {On Things},\n  publisher = {P},\n}\n")
    qtbot.mouseClick(child(dialog, QPushButton, "entrySourceApply"), Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: not dialog.isVisible())
    paper = library.paper(pid)
    assert (paper.entry_type, paper.key, paper.text("publisher")) == ("book", "doe2024", "P")
    assert field(pane, "publisher").text() == "P"
    assert undo_stack.count() == 1
    undo_stack.undo()
    assert library.entry_text(pid) == before


def test_edit_bibtex_shows_what_is_wrong_and_where_and_changes_nothing(
    qtbot: QtBot, pane: DetailPane, library: db.Library
) -> None:
    pid = _imported(library, BIBLATEX_ARTICLE, "bl")
    pane.show_paper(pid)
    before = library.entry_text(pid)
    dialog = _source_dialog(qtbot, pane)
    editor = child(dialog, QPlainTextEdit, "entrySourceEditor")

    editor.setPlainText("@article{bl,\n  title = {Unclosed,\n  year = 2024\n}\n")
    qtbot.mouseClick(child(dialog, QPushButton, "entrySourceApply"), Qt.MouseButton.LeftButton)

    error = child(dialog, QLabel, "errorLabel")
    assert dialog.isVisible() and error.isVisible()
    assert "line 2" in error.text() or "entry:2" in error.text()
    assert library.entry_text(pid) == before
    dialog.reject()
