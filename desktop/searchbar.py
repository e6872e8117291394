"""The search box over the paper table, with the hint under it when a search is only partly
usable; searches as you type.

Each keystroke searches at once while searches are fast (the last one took under
``INSTANT_SEARCH_MS``). A search runs on the GUI thread, so keys typed during a slow one
arrive together just after it: a key that comes within as long as that search took (at most
``SEARCH_DEBOUNCE_MS``) after it ended waits out the rest of that time, the keys after it
join it, and the text they leave is searched once. Typing thus never queues a search per
key, and a key typed at leisure after a slow search still searches at once. Enter searches
now.

The window runs the search (``db/search.py`` reads the text) within ``search_requested``,
and tells the bar how it went; the bar times that signal to know how long searches take.
"""

from __future__ import annotations

import time

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
#: A search faster than this lets the next keystroke search at once (a person notices
#: about 50 ms between a key and the table; a search this fast leaves room for painting).
INSTANT_SEARCH_MS = 25
#: The longest a keystroke waits for others after a slow search.
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
        search_requested(): search the text now (a keystroke, keystrokes gathered after a
            slow search, or Enter). Connected directly: the search runs within the emit,
            which is how the bar learns how long searches take.
    """

    search_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: The text of the last search that ran ('' before any).
        self.last_run = ""
        #: How long the last search took, in ms (what decides whether typing waits).
        self.last_search_ms = 0.0
        self._searching = False
        self._search_ended = 0.0  # time.perf_counter() when the last search returned
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

    def _search_now(self) -> None:
        self._timer.stop()
        self._searching = True
        started = time.perf_counter()
        try:
            self.search_requested.emit()
        finally:
            self._searching = False
            self._search_ended = time.perf_counter()
            self.last_search_ms = (self._search_ended - started) * 1000

    def _on_search_box_text_changed(self, text: str) -> None:
        if self._timer.isActive():
            return  # keystrokes are being gathered: the timer searches the latest text
        wait = 0.0
        if self.last_search_ms >= INSTANT_SEARCH_MS:
            since_ms = (time.perf_counter() - self._search_ended) * 1000
            wait = min(SEARCH_DEBOUNCE_MS, self.last_search_ms) - since_ms
        if self._searching or wait > 0:
            self._timer.start(max(1, round(wait)))
            return
        self._search_now()

    def _on_search_box_return_pressed(self) -> None:
        self._search_now()

    def _on_timer_timeout(self) -> None:
        self._search_now()
