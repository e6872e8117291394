"""The Notes tab's preview draws TeX math, and the tab lays itself out for its width
(desktop/notes.py, desktop/mathrender.py), driven through the real widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QListWidget, QPlainTextEdit, QTextBrowser, QToolButton
from pytestqt.qtbot import QtBot

from citedesk import db
from citedesk.detail import DetailPane
from tests.desktop.helpers import fragments


def type_note(qtbot: QtBot, pane: DetailPane, text: str) -> QTextBrowser:
    """Type ``text`` in the Notes tab's editor; the preview it is shown in."""
    pane.tabs.setCurrentIndex(1)
    editor = pane.findChild(QPlainTextEdit, "notesEditor")
    qtbot.keyClicks(editor, text)
    return pane.findChild(QTextBrowser, "notesPreview")


def images(document: QTextDocument) -> list[str]:
    """The TeX of each formula drawn as an image (its tooltip), in order."""
    return [f.toolTip() for _, f in fragments(document) if f.isImageFormat()]


def test_inline_and_display_math_are_drawn_as_images_with_their_tex_intact(
    qtbot: QtBot, pane: DetailPane, pid: int
) -> None:
    pane.show_paper(pid)

    preview = type_note(qtbot, pane, r"Norm $\|H\|_2$ of $x_{t+1}$: $$\frac{a}{b}$$")

    assert images(preview.document()) == [r"$\|H\|_2$", r"$x_{t+1}$", r"$$\frac{a}{b}$$"]
    assert "$" not in preview.toPlainText()  # no TeX source left as text
    image = next(f for _, f in fragments(preview.document()) if f.isImageFormat())
    drawn = preview.document().resource(
        QTextDocument.ResourceType.ImageResource, image.toImageFormat().name()
    )
    assert not drawn.isNull() and drawn.width() > 10


def test_a_formula_that_cannot_be_drawn_shows_its_tex_unchanged_in_monospace(
    qtbot: QtBot, pane: DetailPane, pid: int
) -> None:
    pane.show_paper(pid)

    preview = type_note(qtbot, pane, r"Broken: $\frac{\|x\|_1}{2$ end")

    assert preview.toPlainText().strip() == r"Broken: $\frac{\|x\|_1}{2$ end"
    source = next(f for text, f in fragments(preview.document()) if text.startswith("$"))
    assert source.font().fixedPitch() or "mono" in source.font().family().lower()


def test_dollars_in_code_and_in_prices_stay_text(qtbot: QtBot, pane: DetailPane, pid: int) -> None:
    pane.show_paper(pid)

    preview = type_note(qtbot, pane, "It costs $5 and $10; `$x$` is code")

    assert images(preview.document()) == []
    assert preview.toPlainText().strip() == "It costs $5 and $10; $x$ is code"


def test_markdown_around_math_is_still_rendered(qtbot: QtBot, pane: DetailPane, pid: int) -> None:
    pane.show_paper(pid)

    preview = type_note(qtbot, pane, "**Bound** $a_1 * b_2$ and _more_")

    assert images(preview.document()) == [r"$a_1 * b_2$"]
    bold = next(f for text, f in fragments(preview.document()) if text == "Bound")
    assert bold.fontWeight() >= 600
    assert preview.toPlainText().strip().endswith("and more")


# -- layout -------------------------------------------------------------------------------------


def test_a_wide_pane_shows_editor_and_preview_side_by_side(
    qtbot: QtBot, pane: DetailPane, pid: int
) -> None:
    pane.show_paper(pid)
    pane.tabs.setCurrentIndex(1)

    pane.resize(1100, 700)

    editor = pane.findChild(QPlainTextEdit, "notesEditor")
    preview = pane.findChild(QTextBrowser, "notesPreview")
    qtbot.waitUntil(lambda: editor.isVisible() and preview.isVisible())
    editor_box = editor.rect().translated(editor.mapTo(pane, editor.rect().topLeft()))
    preview_box = preview.rect().translated(preview.mapTo(pane, preview.rect().topLeft()))
    assert editor_box.right() < preview_box.left()
    assert editor_box.top() == preview_box.top()
    assert editor_box.width() > 300 and preview_box.width() > 300
    assert not pane.findChild(QToolButton, "notesEditToggle").isVisible()


def test_a_narrow_pane_toggles_between_editor_and_preview(
    qtbot: QtBot, pane: DetailPane, pid: int
) -> None:
    pane.show_paper(pid)
    pane.tabs.setCurrentIndex(1)
    editor = pane.findChild(QPlainTextEdit, "notesEditor")
    preview = pane.findChild(QTextBrowser, "notesPreview")
    edit = pane.findChild(QToolButton, "notesEditToggle")
    show_preview = pane.findChild(QToolButton, "notesPreviewToggle")
    assert edit.isVisible() and show_preview.isVisible()

    qtbot.mouseClick(show_preview, Qt.MouseButton.LeftButton)
    assert editor.isVisible() and not preview.isVisible()

    qtbot.mouseClick(show_preview, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    assert preview.isVisible() and not editor.isVisible()

    qtbot.mouseClick(show_preview, Qt.MouseButton.LeftButton)  # never neither: Edit comes back
    assert editor.isVisible() and not preview.isVisible()


def test_the_list_of_several_notes_stays_a_few_lines_high(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    for i in range(6):
        library.add_note(pid, f"Note {i}\n\nbody")
    pane.show_paper(pid)
    pane.tabs.setCurrentIndex(1)

    notes_list = pane.findChild(QListWidget, "notesList")
    qtbot.waitUntil(notes_list.isVisible)

    pane.resize(600, 1200)  # a taller pane gives the editor and preview the room
    pane.resize(420, 1200)  # (and a narrower one too)

    qtbot.waitUntil(lambda: pane.notes.height() > 900)
    assert notes_list.count() == 6
    assert 2 * notes_list.sizeHintForRow(0) <= notes_list.height() < pane.notes.height() / 8
    editor = pane.findChild(QPlainTextEdit, "notesEditor")
    gap = (
        editor.mapTo(pane, editor.rect().topLeft()).y()
        - notes_list.mapTo(pane, notes_list.rect().bottomLeft()).y()
    )
    assert gap <= pane.notes.splitter.handleWidth() + 2  # the editor takes what is left


def test_a_single_note_needs_no_list(
    qtbot: QtBot, pane: DetailPane, library: db.Library, pid: int
) -> None:
    library.add_note(pid, "Only note")
    pane.show_paper(pid)
    pane.tabs.setCurrentIndex(1)

    assert not pane.findChild(QListWidget, "notesList").isVisible()
    assert pane.findChild(QPlainTextEdit, "notesEditor").toPlainText() == "Only note"
