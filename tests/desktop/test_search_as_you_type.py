"""The search box searches at each keystroke while searches are fast, and gathers keystrokes
into one search after a slow one (desktop/searchbar.py)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from citedesk import db
from citedesk.mainwindow import MainWindow


def search_box(window: MainWindow) -> QLineEdit:
    box = window.findChild(QLineEdit, "searchBox")
    box.setFocus()
    return box


def ids_of(window: MainWindow, text: str) -> list[int]:
    """The papers a search for ``text`` finds, in the table's order, asked of the library."""
    find = db.Library.paper_ids  # the class's, past a slowed instance
    return find(window.library, db.Query(search=text), sort="added", descending=True)


def shown_ids(window: MainWindow) -> list[int]:
    model = window.paper_model
    return [model.paper_id(row) for row in range(model.rowCount())]


@pytest.fixture
def searched(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Makes every search of the window slow, and lists the texts searched."""
    real_paper_ids = window.library.paper_ids
    texts: list[str] = []

    def slow_paper_ids(query: db.Query | None = None, **kwargs):
        texts.append(query.search if query else "")
        time.sleep(0.06)  # slower than a search that may run at every keystroke
        return real_paper_ids(query, **kwargs)

    monkeypatch.setattr(window.library, "paper_ids", slow_paper_ids)
    return texts


def test_each_keystroke_filters_the_table_without_a_pause_or_return(
    qtbot, window: MainWindow
) -> None:
    box = search_box(window)
    typed = ""
    for ch in "sgd":
        qtbot.keyClick(box, ch)
        QApplication.processEvents()  # no waiting: the search ran within the keystroke
        typed += ch
        assert shown_ids(window) == ids_of(window, typed), typed
    assert window.paper_model.rowCount() == 8


def test_keystrokes_after_a_slow_search_are_searched_once_not_one_by_one(
    qtbot, window: MainWindow, searched: list[str]
) -> None:
    box = search_box(window)
    qtbot.keyClicks(box, "transformer")
    expected = ids_of(window, "transformer")
    qtbot.waitUntil(lambda: shown_ids(window) == expected)
    # The first key searched at once and was slow: the ten keys typed meanwhile were
    # gathered into one search of the whole word.
    assert searched == ["t", "transformer"]


def test_a_key_typed_a_while_after_a_slow_search_searches_at_once(
    qtbot, window: MainWindow, searched: list[str]
) -> None:
    box = search_box(window)
    qtbot.keyClick(box, "s")
    qtbot.wait(200)  # the person pauses for longer than the search took
    qtbot.keyClick(box, "g")
    QApplication.processEvents()
    assert searched == ["s", "sg"]


def test_return_searches_at_once_even_while_keystrokes_are_gathered(
    qtbot, window: MainWindow, searched: list[str]
) -> None:
    box = search_box(window)
    qtbot.keyClicks(box, "sg")
    qtbot.keyClick(box, "d")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert searched == ["s", "sgd"]
    assert window.paper_model.rowCount() == 8
