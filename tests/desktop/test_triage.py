"""Triage keeps your place: a paper an edit takes out of the view stays until you move on.

Setting a paper to Reading in the Unread view used to make it vanish from under the cursor
and blank the detail pane. As mail programs keep a read message in an Unread view, the paper
stays listed (marked) and shown; the next key moves on, and then it leaves.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from citedesk.mainwindow import MainWindow
from citedesk.models import NodeKind, SidebarFilter


def unread_view(qtbot, window: MainWindow) -> None:
    assert window.sidebar.select_filter(SidebarFilter(NodeKind.STATUS, "unread"))
    qtbot.waitUntil(lambda: window.paper_model.query.status == "unread")


def test_a_paper_marked_reading_stays_in_the_unread_view_until_you_move_on(
    qtbot, window: MainWindow
) -> None:
    unread_view(qtbot, window)
    window.table.setFocus()
    window.table.selectRow(2)
    pid = window.detail.paper_id
    after = window.paper_model.paper_id(3)
    assert pid is not None and after is not None

    selector = window.detail.findChild(QComboBox, "statusSelector")
    qtbot.keyClick(selector, Qt.Key.Key_Down)  # Unread -> Reading

    assert window.library.rows([pid])[pid].status == "reading"
    assert window.paper_model.row_of(pid) == 2  # still listed, where it was
    assert window.paper_model.is_stale(pid)
    assert window.detail.paper_id == pid  # and still shown
    assert window.table.current_paper == pid
    assert window.paper_model.rowCount() == 25

    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Down)  # the next paper is one key away

    assert window.detail.paper_id == after
    assert window.paper_model.row_of(pid) is None  # now it has left the view
    assert window.paper_model.rowCount() == 24
    assert window.table.current_paper == after


def test_choosing_another_view_drops_the_kept_paper(qtbot, window: MainWindow) -> None:
    unread_view(qtbot, window)
    window.table.selectRow(0)
    pid = window.detail.paper_id
    assert pid is not None
    window.library.set_status([pid], "read")
    window.events.reloaded.emit()
    assert window.paper_model.is_stale(pid)

    assert window.sidebar.select_filter(SidebarFilter(NodeKind.STATUS, "read"))
    assert window.sidebar.select_filter(SidebarFilter(NodeKind.STATUS, "unread"))

    assert window.paper_model.row_of(pid) is None


def test_a_kept_paper_deleted_elsewhere_leaves_at_once(qtbot, window: MainWindow) -> None:
    window.table.selectRow(1)
    pid = window.detail.paper_id
    assert pid is not None
    window.events.changed.emit(window.library.delete_papers([pid]))
    assert window.paper_model.row_of(pid) is None
