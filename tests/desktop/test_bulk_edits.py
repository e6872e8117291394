"""Several papers selected: the detail pane says so, shows what they share, and its
status, rating and tag editor act on all of them, one undo step each."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QToolButton, QWidget

from citedesk.mainwindow import MainWindow
from citedesk.selection import SelectionPane
from citedesk.widgets import TagChip


def select_three(qtbot, window: MainWindow) -> list[int]:
    ids = [window.paper_model.paper_id(r) for r in (1, 2, 3)]
    assert all(pid is not None for pid in ids)
    window.table.setFocus()
    window.table.selectRow(1)
    for _ in range(2):
        qtbot.keyClick(window.table, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert sorted(window.table.selected_ids()) == sorted(ids)  # type: ignore[type-var]
    return ids  # type: ignore[return-value]


def pane(window: MainWindow) -> SelectionPane:
    found = window.detail.findChild(SelectionPane, "selectionPane")
    assert found is not None and found.isVisible()
    return found


def test_the_pane_says_how_many_papers_are_selected(qtbot, window: MainWindow) -> None:
    ids = select_three(qtbot, window)
    heading = pane(window).findChild(QLabel, "selectionHeading")
    assert heading.text() == "3 papers selected"
    assert sorted(window.detail.selected_ids) == sorted(ids)
    rect = window.table.visualRect(window.paper_model.index(5, 0))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    # One paper again: its details.
    assert not pane_visible(window)
    assert window.detail.paper_id == window.paper_model.paper_id(5)


def pane_visible(window: MainWindow) -> bool:
    found = window.detail.findChild(SelectionPane, "selectionPane")
    return found is not None and found.isVisible()


def test_status_for_all_selected_is_one_undo_step(qtbot, window: MainWindow) -> None:
    ids = select_three(qtbot, window)
    selector = pane(window).findChild(QComboBox, "selectionStatus")
    steps = window.undo_stack.count()

    selector.setFocus()
    qtbot.keyClick(selector, Qt.Key.Key_Down)  # Unread -> Reading, for all three

    rows = window.library.rows(ids)
    assert {rows[pid].status for pid in ids} == {"reading"}
    assert window.undo_stack.count() == steps + 1
    window.undo_stack.undo()
    rows = window.library.rows(ids)
    assert {rows[pid].status for pid in ids} == {"unread"}


def test_tags_typed_for_a_selection_tag_all_and_a_shared_chip_removes_from_all(
    qtbot, window: MainWindow
) -> None:
    ids = select_three(qtbot, window)
    editor = pane(window).findChild(QLineEdit, "selectionTagEditor")
    qtbot.keyClicks(editor, "group reading")
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    assert all(window.library.paper_tags(pid) == ["group reading"] for pid in ids)
    chips = [c for c in pane(window).findChildren(TagChip) if c.isVisible()]
    assert [c.property("tag") for c in chips] == ["group reading"]

    remove = chips[0].findChild(QToolButton, "removeTagButton")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert all(window.library.paper_tags(pid) == [] for pid in ids)
    window.undo_stack.undo()  # one step puts the tag back on all three
    assert all(window.library.paper_tags(pid) == ["group reading"] for pid in ids)


def test_a_rating_for_the_selection_rates_them_all(qtbot, window: MainWindow) -> None:
    ids = select_three(qtbot, window)
    stars = pane(window).findChild(QWidget, "selectionRating")
    qtbot.mouseClick(stars.findChild(QToolButton, "ratingStar4"), Qt.MouseButton.LeftButton)
    rows = window.library.rows(ids)
    assert {rows[pid].rating for pid in ids} == {4}
