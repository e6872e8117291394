"""Paper titles stay readable at every window size from 1024 x 640 up: the title column
takes what is left and keeps a minimum, the other columns and the side panes give way
first, and a wide window gives the detail pane and the cut columns room (issue 13,
point 3). Screenshots of each size go to /tmp/layout-*.png for a person to look at.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QSize
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from citedesk.mainwindow import MainWindow
from citedesk.models import Column
from citedesk.papertable import TITLE_MIN_WIDTH

EXTRA = ("Status", "Rating", "Added")


def show_columns(qtbot: QtBot, window: MainWindow, names: tuple[str, ...]) -> None:
    """Tick columns in View > Columns, as a person would."""
    menu = window.findChild(QMenu, "menuColumns")
    menu.popup(window.mapToGlobal(QPoint(40, 40)))
    qtbot.waitUntil(menu.isVisible)
    for action in menu.actions():
        if action.text() in names and not action.isChecked():
            action.trigger()
    menu.close()


def sized(qtbot: QtBot, window: MainWindow, width: int, height: int) -> None:
    window.resize(QSize(width, height))
    qtbot.waitUntil(lambda: window.width() == width)
    # The splitter and the header lay out on the events the resize posts.
    qtbot.waitUntil(lambda: window.splitter.width() == width)


def title_width(window: MainWindow) -> int:
    return window.table.horizontalHeader().sectionSize(Column.TITLE)


@pytest.mark.parametrize(
    ("width", "height", "extra"),
    [(1024, 640, ()), (1024, 640, EXTRA), (1280, 800, ()), (1280, 800, EXTRA)],
)
def test_titles_keep_their_minimum_width(
    qtbot: QtBot, window: MainWindow, width: int, height: int, extra: tuple[str, ...]
) -> None:
    show_columns(qtbot, window, extra)
    sized(qtbot, window, width, height)

    qtbot.waitUntil(lambda: title_width(window) >= TITLE_MIN_WIDTH)
    assert TITLE_MIN_WIDTH >= 200
    _sidebar, _middle, detail = window.splitter.sizes()
    assert detail >= window.detail_min_width()
    window.grab().save(f"/tmp/layout-{width}x{height}{'-all' if extra else ''}.png")


def test_showing_columns_in_a_1280_window_takes_room_from_the_panes_not_the_title(
    qtbot: QtBot, window: MainWindow
) -> None:
    sized(qtbot, window, 1280, 800)
    detail_before = window.splitter.sizes()[2]

    show_columns(qtbot, window, EXTRA)

    header = window.table.horizontalHeader()
    assert not any(header.isSectionHidden(c) for c in (Column.STATUS, Column.RATING))
    assert title_width(window) >= TITLE_MIN_WIDTH
    assert window.splitter.sizes()[2] < detail_before


def test_a_1920_window_grows_the_detail_pane_and_shows_authors_and_venue_whole(
    qtbot: QtBot, window: MainWindow
) -> None:
    sized(qtbot, window, 1280, 800)
    detail_at_1280 = window.splitter.sizes()[2]

    sized(qtbot, window, 1920, 1080)

    qtbot.waitUntil(lambda: window.splitter.sizes()[2] > detail_at_1280)
    table, header = window.table, window.table.horizontalHeader()
    for column in (Column.AUTHORS, Column.VENUE):
        hint = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
        assert header.sectionSize(column) >= hint, column.name
    assert title_width(window) >= 500
    window.grab().save("/tmp/layout-1920x1080.png")


def test_remembered_panes_that_would_squeeze_the_titles_give_them_room(
    qtbot: QtBot, open_window
) -> None:
    window = open_window()
    window.resize(QSize(1280, 800))
    window.splitter.setSizes([300, 300, 680])  # dragged, then closed
    window.close()

    again = open_window()
    sized(qtbot, again, 1024, 640)

    assert title_width(again) >= TITLE_MIN_WIDTH
    sidebar, middle, detail = again.splitter.sizes()
    assert middle >= again.table.needed_width()
    assert sidebar >= again.sidebar.minimumWidth() and detail >= again.detail_min_width()
