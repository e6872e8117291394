"""The Paper menu and the table's right-click menu act on every selected paper."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu

from citedesk.mainwindow import MainWindow


def select_rows(qtbot, window: MainWindow, first: int, last: int) -> list[int]:
    window.activateWindow()  # shortcuts go to the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.table.setFocus()
    first_id = window.paper_model.paper_id(first)
    assert first_id is not None
    window.table.select_papers([first_id], first_id)
    for _ in range(last - first):
        qtbot.keyClick(window.table, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    ids = window.table.selected_ids()
    assert len(ids) == last - first + 1
    return ids


def test_ctrl_2_marks_every_selected_paper_reading_in_one_undo_step(
    qtbot, window: MainWindow
) -> None:
    ids = select_rows(qtbot, window, 0, 3)
    steps = window.undo_stack.count()

    qtbot.keyClick(window.table, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)

    rows = window.library.rows(ids)
    assert {rows[pid].status for pid in ids} == {"reading"}
    assert window.undo_stack.count() == steps + 1
    window.undo_stack.undo()
    rows = window.library.rows(ids)
    assert {rows[pid].status for pid in ids} == {"unread"}


def test_rating_shortcut_rates_the_selection(qtbot, window: MainWindow) -> None:
    ids = select_rows(qtbot, window, 2, 4)
    qtbot.keyClick(
        window.table,
        Qt.Key.Key_4,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )
    rows = window.library.rows(ids)
    assert {rows[pid].rating for pid in ids} == {4}


def test_the_paper_menu_is_in_the_menu_bar_with_status_rating_and_tags(
    window: MainWindow,
) -> None:
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Paper") == titles.index("&View") - 1
    menu = window.findChild(QMenu, "paperMenu")
    texts = [a.text() for a in menu.actions()]
    assert "Add Tag…" in texts and "Open Link" in texts
    submenus = [a.menu().title() for a in menu.actions() if a.menu() is not None]
    assert submenus == ["Reading &Status", "&Rating", "Remove T&ag", "Entry &Type"]


def test_entry_type_for_the_selection_is_one_undo_step(qtbot, window: MainWindow) -> None:
    ids = select_rows(qtbot, window, 0, 2)
    menu = window.findChild(QMenu, "entryTypeMenu")
    [article] = [a for a in menu.actions() if a.text() == "@article"]
    article.trigger()
    assert {window.library.paper(pid).entry_type for pid in ids} == {"article"}
    window.undo_stack.undo()
    assert {window.library.paper(pid).entry_type for pid in ids} == {"misc"}


def test_the_right_click_menu_holds_the_edits_and_the_selection_actions(
    qtbot, window: MainWindow
) -> None:
    select_rows(qtbot, window, 0, 1)
    menu = window.selection_menu.context_menu(
        [window.actions_by_id[a] for a in window.actions_by_id][:0]
    )
    assert [a.menu().title() for a in menu.actions() if a.menu() is not None][:2] == [
        "Reading &Status",
        "&Rating",
    ]
    window.table.customContextMenuRequested.emit(window.table.viewport().rect().center())
    shown = window.findChildren(QMenu, "paperContextMenu")
    assert shown and any(m.isVisible() for m in shown)
    texts = [a.text() for a in shown[-1].actions()]
    assert any("cite" in t.lower() for t in texts)
    assert any("delete" in t.lower() for t in texts)
    for m in shown:
        m.close()


def test_remove_tag_lists_the_selections_tags_and_removes_from_all(
    qtbot, window: MainWindow
) -> None:
    ids = select_rows(qtbot, window, 0, 2)
    window.events.changed.emit(window.library.add_tags(ids, ["survey"]))
    menu = window.findChild(QMenu, "removeTagMenu")
    menu.aboutToShow.emit()
    survey = [a for a in menu.actions() if a.text() == "survey"]
    assert survey
    survey[0].trigger()
    assert all(window.library.paper_tags(pid) == [] for pid in ids)


def test_with_nothing_selected_a_shortcut_says_why(qtbot, window: MainWindow) -> None:
    window.table.clearSelection()
    window.selection_menu.set_status("read")
    assert "No papers are selected" in window.status_bar.currentMessage()
