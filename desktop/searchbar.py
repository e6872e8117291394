"""The search box over the paper table, with the hint under it when a search is only partly
usable; searches as you type, a moment after the last keystroke (``SEARCH_DEBOUNCE_MS``).

The window runs the search (``db/search.py`` reads the text) and tells the bar how it went.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from .actions import glyph_icon

SEARCH_PLACEHOLDER = (
    "Search title, authors, abstract, tags, notes — author: title: tag: year:2020..2024"
)
#: The search syntax, on hovering the box (db/search.py reads it).
SEARCH_HELP = (
    "<b>Words</b> match the start of words as you type: <code>transf</code><br>"
    '<code>"exact phrase"</code> &nbsp; <code>-word</code> leaves papers out<br>'
    "<code>author:</code> <code>title:</code> <code>abstract:</code> <code>venue:</code> "
    "<code>keyword:</code> <code>note:</code> <code>tag:</code> <code>key:</code> "
    "<code>year:2023</code> <code>year:2020..2024</code><br>"
    "In abstracts, words of one or two letters match whole words only "
    "(<code>ML</code>); from three letters on, the start of words too."
)
SEARCH_DEBOUNCE_MS = 150
#: The hint when the search cannot run at all.
CANNOT_RUN = "This search cannot run; showing the last results."


class SearchBox(QLineEdit):
    """A line edit where Down leaves for the results and Esc clears the text.

    Signals:
        down_pressed(): the person pressed Down (to move into the results).
    """

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class SearchBar(QWidget):
    """The search box and its hint.

    Signals:
        search_requested(): the text settled (a pause in typing, or Enter): search now.
    """

    search_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: The text of the last search that ran ('' before any).
        self.last_run = ""
        self.search_box = SearchBox()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText(SEARCH_PLACEHOLDER)
        self.search_box.setToolTip(SEARCH_HELP)
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Search papers")
        self._search_icon = self.search_box.addAction(
            glyph_icon("search", self.palette()), QLineEdit.ActionPosition.LeadingPosition
        )
        self.search_hint = QLabel()
        self.search_hint.setObjectName("searchHint")
        self.search_hint.setWordWrap(True)
        self.search_hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.search_hint.setContentsMargins(4, 0, 4, 0)
        self.search_hint.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(2)
        layout.addWidget(self.search_box)
        layout.addWidget(self.search_hint)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.search_box.textChanged.connect(self._on_search_box_text_changed)
        self.search_box.returnPressed.connect(self._on_search_box_return_pressed)

    def text(self) -> str:
        return self.search_box.text().strip()

    def show_result(self, text: str, ran: bool, hint: str | None) -> None:
        """How the search for ``text`` went: whether it ran, and what to tell about it."""
        if ran:
            self.last_run = text
        else:
            hint = hint or CANNOT_RUN
        self.search_hint.setText(hint or "")
        self.search_hint.setVisible(bool(hint))

    def stop(self) -> None:
        """No search is due any more (the window is closing)."""
        self._timer.stop()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._search_icon.setIcon(glyph_icon("search", self.palette()))  # light or dark
        super().changeEvent(event)

    def _on_search_box_text_changed(self, text: str) -> None:
        self._timer.start()

    def _on_search_box_return_pressed(self) -> None:
        self._timer.stop()
        self.search_requested.emit()

    def _on_timer_timeout(self) -> None:
        self.search_requested.emit()
