"""The detail pane, driven like a person would, on a real seeded library."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QToolButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from citedesk import commands, db
from citedesk.detail import PLACEHOLDER_TEXT, DetailPane
from citedesk.hub import LibraryEvents
from citedesk.notes import SAVE_DELAY_MS
from citedesk.widgets import TagChip
from tests.desktop.helpers import child, new_note


def shown_tags(pane: DetailPane) -> list[str]:
    return [chip.property("tag") for chip in pane.findChildren(TagChip) if chip.isVisibleTo(pane)]


def notes_editor(pane: DetailPane) -> QPlainTextEdit:
    pane.tabs.setCurrentIndex(1)
    return child(pane, QPlainTextEdit, "notesEditor")


def replace_text(qtbot: QtBot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)


# -- showing ------------------------------------------------------------------------------------


def test_without_a_paper_the_pane_shows_a_placeholder(pane: DetailPane) -> None:
    pane.show_paper(None)

    placeholder = child(pane, QLabel, "detailPlaceholder")
    assert placeholder.isVisible()
    assert placeholder.text() == PLACEHOLDER_TEXT
    assert not pane.tabs.isVisible()


def test_showing_a_paper_fills_title_authors_and_abstract(
    pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)

    paper = library.paper(pid)
    assert child(pane, QLabel, "titleLabel").text() == paper.title
    assert child(pane, QLabel, "authorsLabel").text().startswith("Tongcheng Zhang, ")
    abstract = child(pane, QLabel, "abstractLabel").text()
    assert abstract == paper.abstract
    assert "\\emph" not in abstract


def test_the_bibtex_tab_shows_exactly_what_export_writes(
    pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)

    assert child(pane, QPlainTextEdit, "bibtexView").toPlainText() == library.entry_text(pid)


def test_showing_a_paper_that_no_longer_exists_shows_the_placeholder(pane: DetailPane) -> None:
    pane.show_paper(999_999)

    assert child(pane, QLabel, "detailPlaceholder").isVisible()


# -- tags ---------------------------------------------------------------------------------------


def test_tags_typed_in_the_tag_editor_are_added_on_enter(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    editor = child(pane, QLineEdit, "tagEditor")

    qtbot.keyClicks(editor, "theory, label noise")
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    assert library.paper_tags(pid) == ["label noise", "theory"]
    assert shown_tags(pane) == ["label noise", "theory"]
    assert editor.text() == ""


def test_undo_removes_a_tag_added_in_the_tag_editor(
    qtbot: QtBot, pane: DetailPane, library: db.Library, undo_stack: QUndoStack, pid: int
) -> None:
    pane.show_paper(pid)
    editor = child(pane, QLineEdit, "tagEditor")
    qtbot.keyClicks(editor, "theory")
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    undo_stack.undo()

    assert library.paper_tags(pid) == []
    assert shown_tags(pane) == []


def test_the_tag_editor_completes_existing_tag_names(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    library.add_tags([library.paper_ids()[1]], ["optimization"])
    pane.show_paper(pid)
    editor = child(pane, QLineEdit, "tagEditor")

    qtbot.keyClicks(editor, "sgd, optim")
    completer = editor.completer()
    popup = completer.popup()
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)

    assert library.paper_tags(pid) == ["optimization", "sgd"]


def test_clicking_a_tags_remove_button_untags_the_paper(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    library.add_tags([pid], ["theory", "sgd"])
    pane.show_paper(pid)
    chip = next(c for c in pane.findChildren(TagChip) if c.property("tag") == "sgd")

    qtbot.mouseClick(chip.findChild(QToolButton, "removeTagButton"), Qt.MouseButton.LeftButton)

    assert library.paper_tags(pid) == ["theory"]
    assert shown_tags(pane) == ["theory"]


# -- status and rating --------------------------------------------------------------------------


def test_the_status_selector_writes_the_reading_status(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    selector = child(pane, QComboBox, "statusSelector")

    qtbot.keyClick(selector, Qt.Key.Key_Down)

    assert selector.currentText() == "Reading"
    assert library.rows([pid])[pid].status == "reading"


def test_the_status_selector_follows_undo(
    qtbot: QtBot, pane: DetailPane, library: db.Library, undo_stack: QUndoStack, pid: int
) -> None:
    pane.show_paper(pid)
    selector = child(pane, QComboBox, "statusSelector")
    qtbot.keyClick(selector, Qt.Key.Key_Down)

    undo_stack.undo()

    assert library.rows([pid])[pid].status == "unread"
    assert selector.currentText() == "Unread"


def test_clicking_a_star_writes_the_rating(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    selector = child(pane, QWidget, "ratingSelector")

    qtbot.mouseClick(selector.findChild(QToolButton, "ratingStar4"), Qt.MouseButton.LeftButton)

    assert library.rows([pid])[pid].rating == 4


def test_clicking_the_current_rating_again_clears_it(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    library.set_rating([pid], 3)
    pane.show_paper(pid)
    selector = child(pane, QWidget, "ratingSelector")

    qtbot.mouseClick(selector.findChild(QToolButton, "ratingStar3"), Qt.MouseButton.LeftButton)

    assert library.rows([pid])[pid].rating == 0


# -- fields -------------------------------------------------------------------------------------


def test_editing_the_title_and_pressing_enter_updates_library_and_bibtex(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    field = child(pane, QLineEdit, "field_title")

    replace_text(qtbot, field, "Label Noise SGD, Revisited")
    qtbot.keyClick(field, Qt.Key.Key_Return)

    assert library.paper(pid).title == "Label Noise SGD, Revisited"
    bibtex = child(pane, QPlainTextEdit, "bibtexView").toPlainText()
    assert bibtex == library.entry_text(pid)
    assert "{Label Noise SGD, Revisited}" in bibtex
    assert child(pane, QLabel, "titleLabel").text() == "Label Noise SGD, Revisited"


def test_undo_of_a_field_edit_brings_back_the_original_entry_text(
    qtbot: QtBot, pane: DetailPane, library: db.Library, undo_stack: QUndoStack, pid: int
) -> None:
    before = library.entry_text(pid)
    pane.show_paper(pid)
    field = child(pane, QLineEdit, "field_pages")
    qtbot.keyClicks(field, "1--20")
    qtbot.keyClick(field, Qt.Key.Key_Return)

    undo_stack.undo()

    assert child(pane, QPlainTextEdit, "bibtexView").toPlainText() == before
    assert field.text() == ""


def test_an_unapplied_field_edit_is_saved_by_flush(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    qtbot.keyClicks(child(pane, QLineEdit, "field_volume"), "12")

    pane.flush()

    assert library.paper(pid).volume == "12"


def test_leaving_a_field_applies_the_edit(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow)
    field = child(pane, QLineEdit, "field_publisher")
    field.setFocus()
    qtbot.keyClicks(field, "PMLR")

    child(pane, QLineEdit, "field_note").setFocus()

    qtbot.waitUntil(lambda: library.paper(pid).text("publisher") == "PMLR")


def test_focus_field_puts_the_cursor_in_the_title_on_the_info_tab(
    qtbot: QtBot, pane: DetailPane, pid: int
) -> None:
    pane.show_paper(pid)
    pane.tabs.setCurrentIndex(2)
    pane.activateWindow()
    qtbot.waitUntil(pane.isActiveWindow)

    assert pane.focus_field("title")

    assert pane.tabs.currentIndex() == 0
    title = child(pane, QLineEdit, "field_title")
    qtbot.waitUntil(title.hasFocus)
    assert title.selectedText() == title.text()


def test_a_key_already_in_use_shows_an_error_and_changes_nothing(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    old_key = library.paper(pid).key
    taken = library.paper(library.paper_ids()[1]).key
    pane.show_paper(pid)
    field = child(pane, QLineEdit, "field_key")

    replace_text(qtbot, field, taken)
    qtbot.keyClick(field, Qt.Key.Key_Return)

    error = child(pane, QLabel, "errorLabel")
    assert error.isVisible()
    assert "already used" in error.text()
    assert library.paper(pid).key == old_key
    assert field.text() == old_key


def test_a_new_key_entered_in_the_key_field_is_set(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    field = child(pane, QLineEdit, "field_key")

    replace_text(qtbot, field, "zhang2026noise")
    qtbot.keyClick(field, Qt.Key.Key_Return)

    assert library.paper(pid).key == "zhang2026noise"
    assert "@misc{zhang2026noise," in child(pane, QPlainTextEdit, "bibtexView").toPlainText()


# -- notes --------------------------------------------------------------------------------------


def test_typing_on_a_paper_without_notes_starts_its_first_note(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)

    qtbot.keyClicks(notes_editor(pane), "Read section 3")

    assert len(library.notes(pid)) == 1
    qtbot.waitUntil(
        lambda: library.notes(pid)[0].body == "Read section 3", timeout=SAVE_DELAY_MS * 6
    )


def test_typed_note_text_is_saved_by_flush_without_waiting(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    library.add_note(pid, "Idea: ")
    pane.show_paper(pid)
    editor = notes_editor(pane)
    editor.moveCursor(editor.textCursor().MoveOperation.End)

    qtbot.keyClicks(editor, "two phases")
    pane.flush()

    assert library.notes(pid)[0].body == "Idea: two phases"


def test_switching_paper_mid_typing_saves_the_note(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    qtbot.keyClicks(notes_editor(pane), "half a thought")

    pane.show_paper(library.paper_ids()[1])

    assert library.notes(pid)[0].body == "half a thought"
    assert notes_editor(pane).toPlainText() == ""


def test_hiding_the_pane_saves_the_note(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    pane.show_paper(pid)
    qtbot.keyClicks(notes_editor(pane), "before closing")

    pane.hide()

    assert library.notes(pid)[0].body == "before closing"


def test_a_burst_of_typing_is_one_undo_step_and_undo_updates_the_editor(
    qtbot: QtBot, pane: DetailPane, library: db.Library, undo_stack: QUndoStack, pid: int
) -> None:
    note = new_note(library, pid, "Notes")
    pane.show_paper(pid)
    editor = notes_editor(pane)
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, ": first")
    pane.flush()
    qtbot.keyClicks(editor, ", second")
    pane.flush()
    assert undo_stack.count() == 1

    undo_stack.undo()

    assert library.note(note.id).body == "Notes"
    assert editor.toPlainText() == "Notes"
    assert undo_stack.count() == 1  # the refresh did not push anything


def test_the_preview_renders_the_markdown(qtbot: QtBot, pane: DetailPane, pid: int) -> None:
    pane.show_paper(pid)

    qtbot.keyClicks(notes_editor(pane), "# Summary")

    preview = child(pane, QTextBrowser, "notesPreview")
    assert preview.toPlainText().strip() == "Summary"


def test_new_note_and_delete_note_buttons(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    library.add_note(pid, "first")
    pane.show_paper(pid)
    notes_editor(pane)
    notes_list = child(pane, QListWidget, "notesList")

    qtbot.mouseClick(child(pane, QPushButton, "newNoteButton"), Qt.MouseButton.LeftButton)
    assert [n.body for n in library.notes(pid)] == ["first", ""]
    assert notes_list.count() == 2

    qtbot.mouseClick(child(pane, QPushButton, "deleteNoteButton"), Qt.MouseButton.LeftButton)
    assert [n.body for n in library.notes(pid)] == ["first"]
    assert notes_editor(pane).toPlainText() == "first"


def test_choosing_another_note_saves_the_one_being_typed(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    first, second = new_note(library, pid, "one"), new_note(library, pid, "two")
    pane.show_paper(pid)
    editor = notes_editor(pane)  # shows the latest note, "two"
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor, " and more")
    notes_list = child(pane, QListWidget, "notesList")

    notes_list.setCurrentRow(0)

    assert library.note(second.id).body == "two and more"
    assert editor.toPlainText() == "one"
    assert library.note(first.id).body == "one"
    assert notes_list.currentRow() == 0


# -- changes from elsewhere -----------------------------------------------------------------------


def test_deleting_the_shown_paper_elsewhere_shows_the_placeholder(
    pane: DetailPane, library: db.Library, undo_stack: QUndoStack, events: LibraryEvents, pid: int
) -> None:
    pane.show_paper(pid)

    commands.push(undo_stack, commands.DeletePapersCommand(library, events, [pid]))

    assert pane.paper_id is None
    assert child(pane, QLabel, "detailPlaceholder").isVisible()


def test_a_tag_colour_change_elsewhere_recolours_the_chip(
    pane: DetailPane, library: db.Library, undo_stack: QUndoStack, events: LibraryEvents, pid: int
) -> None:
    library.add_tags([pid], ["theory"])
    pane.show_paper(pid)

    commands.push(undo_stack, commands.SetTagColorCommand(library, events, "theory", "#3366cc"))

    chip = next(c for c in pane.findChildren(TagChip) if c.isVisibleTo(pane))
    assert "#3366cc" in chip.styleSheet()
