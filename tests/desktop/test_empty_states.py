"""What the window says when there is nothing to show, and what a double-click does."""

from __future__ import annotations

from PySide6.QtCore import Qt

from citedesk import mainwindow
from citedesk.models import HINT_ROLE, NO_TAGS_HINT, NodeKind
from citedesk.sidebar import SidebarDelegate


def tags_heading(window):
    model = window.sidebar.sidebar_model
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        if index.data(Qt.ItemDataRole.UserRole + 12) == NodeKind.TAG_GROUP:
            return index
    raise AssertionError("no Tags heading")


def test_an_empty_library_says_how_to_add_papers(qtbot, open_window) -> None:
    window = open_window(seed=False)
    assert window.paper_model.rowCount() == 0
    assert window.table.empty_text.startswith("Your library is empty.")
    assert "Ctrl+I" in window.table.empty_text
    assert tags_heading(window).data(HINT_ROLE) == NO_TAGS_HINT
    window.table.grab()  # the text is painted (no error, no warning)


def test_the_tags_hint_goes_once_a_tag_exists(qtbot, window) -> None:
    assert tags_heading(window).data(HINT_ROLE) == NO_TAGS_HINT
    delegate = window.sidebar.itemDelegate()
    assert isinstance(delegate, SidebarDelegate)
    window.events.changed.emit(window.library.add_tags([1], ["theory"]))
    assert tags_heading(window).data(HINT_ROLE) is None


def test_a_search_with_no_hits_says_so(qtbot, window) -> None:
    window.search.search_box.setFocus()
    qtbot.keyClicks(window.search.search_box, "zzqqxx")
    qtbot.keyClick(window.search.search_box, Qt.Key.Key_Return)
    assert window.paper_model.rowCount() == 0
    assert window.table.empty_text == "No papers match “zzqqxx” in all papers."
    window.search.search_box.clear()
    qtbot.keyClick(window.search.search_box, Qt.Key.Key_Return)
    assert window.table.empty_text == ""


def test_double_clicking_a_paper_opens_its_link(qtbot, window, monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(mainwindow, "open_link", lambda url: opened.append(url) or True)
    pid = window.paper_model.paper_id(0)
    assert pid is not None
    window.events.changed.emit(
        window.library.update_fields(pid, {"url": "https://example.org/paper"})
    )
    rect = window.table.visualRect(window.paper_model.index(0, 0))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == ["https://example.org/paper"]


def test_double_clicking_a_paper_without_a_link_says_so(qtbot, window, monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(mainwindow, "open_link", lambda url: opened.append(url) or True)
    rect = window.table.visualRect(window.paper_model.index(0, 0))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == []
    assert "no link" in window.status_bar.currentMessage()
