"""Saved searches and the reading queue in the window's sidebar."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMenu

from citedesk import db
from citedesk.mainwindow import MainWindow
from citedesk.models import COUNT_ROLE, HINT_ROLE, NodeKind, SidebarFilter

CTRL = Qt.KeyboardModifier.ControlModifier


def saved_entry(window: MainWindow, name: str):
    return window.sidebar.sidebar_model.index_for(SidebarFilter(NodeKind.SAVED, name))


def shown_ids(window: MainWindow) -> list[int]:
    model = window.paper_model
    return [model.paper_id(r) for r in range(model.rowCount())]


def context_menu(qtbot, window: MainWindow, name: str) -> QMenu:
    sidebar = window.sidebar
    rect = sidebar.visualRect(saved_entry(window, name))
    sidebar.customContextMenuRequested.emit(rect.center())
    menu = sidebar.findChild(QMenu, "savedSearchMenu")
    assert menu is not None
    return menu


def choose(menu: QMenu, object_name: str) -> None:
    next(a for a in menu.actions() if a.objectName() == object_name).trigger()
    menu.close()


def answer(qtbot, window: MainWindow, object_name: str, text: str) -> None:
    dialog = window.sidebar.findChild(QInputDialog, object_name)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.setTextValue(text)
    dialog.accept()


def ctrl_z(qtbot, window: MainWindow) -> None:
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Z, CTRL)


def test_the_saved_searches_group_lists_each_with_its_live_count(qtbot, window: MainWindow) -> None:
    model = window.sidebar.sidebar_model
    assert model.saved_group_index().data(HINT_ROLE)  # empty: says how to fill it
    window.sidebar.save_search(db.Query(search="sgd"))
    answer(qtbot, window, "saveSearchDialog", "Noise")
    expected = window.library.count(db.Query(search="sgd"))
    assert saved_entry(window, "noise").data(COUNT_ROLE) == expected
    assert model.saved_group_index().data(HINT_ROLE) is None

    pid = window.library.paper_ids(db.Query(search="yolo"))[0]
    window.events.changed.emit(window.library.update_fields(pid, {"title": "SGD for YOLO"}))
    assert saved_entry(window, "Noise").data(COUNT_ROLE) == expected + 1


def test_choosing_a_saved_search_shows_what_the_search_finds(qtbot, window: MainWindow) -> None:
    window.library.save_search("noise", db.Query(search="sgd", status="unread"))
    window.events.reloaded.emit()
    assert window.sidebar.select_filter(SidebarFilter(NodeKind.SAVED, "noise"))
    qtbot.waitUntil(lambda: window.paper_model.query.search == "sgd")
    wanted = window.library.paper_ids(
        db.Query(search="sgd", status="unread"),
        sort=window.paper_model.sort_key,
        descending=window.paper_model.descending,
    )
    assert shown_ids(window) == wanted and len(wanted) > 1


def test_rename_from_the_context_menu_is_undone_by_ctrl_z(qtbot, window: MainWindow) -> None:
    window.library.save_search("noise", db.Query(search="sgd"))
    window.events.reloaded.emit()
    choose(context_menu(qtbot, window, "noise"), "renameSavedSearchAction")
    answer(qtbot, window, "renameSavedSearchDialog", "Flat minima")
    assert window.sidebar.sidebar_model.saved_names() == ["Flat minima"]
    ctrl_z(qtbot, window)
    assert window.sidebar.sidebar_model.saved_names() == ["noise"]
    assert window.library.saved_query("noise") == db.Query(search="sgd")


def test_edit_from_the_context_menu_refilters_the_table_and_undoes(
    qtbot, window: MainWindow
) -> None:
    window.library.save_search("noise", db.Query(search="sgd"))
    window.events.reloaded.emit()
    assert window.sidebar.select_filter(SidebarFilter(NodeKind.SAVED, "noise"))
    choose(context_menu(qtbot, window, "noise"), "editSavedSearchAction")
    answer(qtbot, window, "editSavedSearchDialog", "yolo")
    assert shown_ids(window) == window.library.paper_ids(db.Query(search="yolo"))
    ctrl_z(qtbot, window)
    assert window.paper_model.query.search == "sgd"


def test_delete_from_the_context_menu_is_undone_by_ctrl_z(qtbot, window: MainWindow) -> None:
    window.library.save_search("noise", db.Query(search="sgd"))
    window.events.reloaded.emit()
    choose(context_menu(qtbot, window, "noise"), "deleteSavedSearchAction")
    assert window.sidebar.sidebar_model.saved_names() == []
    ctrl_z(qtbot, window)
    assert window.sidebar.sidebar_model.saved_names() == ["noise"]


def test_the_reading_queue_lists_unread_and_reading_by_priority_then_oldest(
    qtbot, window: MainWindow
) -> None:
    lib = window.library
    ids = lib.paper_ids(sort="added")
    lib.set_status(ids[:20], "read")
    lib.set_status([ids[20]], "reading")
    lib.set_rating([ids[23]], 4)
    lib.set_rating([ids[0]], 5)  # read: not in the queue
    window.events.reloaded.emit()
    queue = SidebarFilter(NodeKind.QUEUE)
    assert window.sidebar.sidebar_model.index_for(queue).data(COUNT_ROLE) == 5

    assert window.sidebar.select_filter(queue)
    qtbot.waitUntil(lambda: window.paper_model.query.queue)
    assert shown_ids(window) == [ids[23], ids[20], ids[21], ids[22], ids[24]]


def test_marking_the_current_paper_read_in_the_queue_moves_on(qtbot, window: MainWindow) -> None:
    assert window.sidebar.select_filter(SidebarFilter(NodeKind.QUEUE))
    qtbot.waitUntil(lambda: window.paper_model.query.queue)
    window.table.selectRow(0)
    first, after = window.paper_model.paper_id(0), window.paper_model.paper_id(1)
    assert first is not None and after is not None
    window.events.changed.emit(window.library.set_status([first], "read"))
    assert window.paper_model.is_stale(first)  # kept until you move on (triage)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    assert window.table.current_paper == after
    assert window.paper_model.row_of(first) is None
