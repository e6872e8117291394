"""How the window's three panes share its width: sidebar, paper table, detail pane.

The side panes keep the widths the person chose (a drag, or as they left them; by default
the sidebar at :data:`SIDEBAR_WIDTH` and the detail pane at :data:`DETAIL_SHARE` of the
window, at least :data:`DETAIL_WIDTH`), the table gets the rest. When that leaves the table
narrower than its shown columns need (titles at their minimum), the detail pane and then the
sidebar give way, down to their own minimums; the widths chosen come back when the window
grows again. Nothing collapses by a drag (View hides a pane).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QSplitter, QWidget

from .detail import DetailPane
from .papertable import PaperTable

SIDEBAR_WIDTH = 200
DETAIL_WIDTH = 420
#: The side panes give way down to these before the paper titles get narrow (the detail
#: pane no narrower than its content either: its form would be cut, not squeezed).
SIDEBAR_MIN_WIDTH = 150
DETAIL_MIN_WIDTH = 300
#: The share of a wide window the detail pane takes by default.
DETAIL_SHARE = 0.28


class PaneLayout(QObject):
    """Lays out ``splitter`` (sidebar | table | detail) for ``window``'s width."""

    def __init__(
        self,
        window: QWidget,
        splitter: QSplitter,
        sidebar: QWidget,
        table: PaperTable,
        detail: DetailPane,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._splitter = splitter
        self._sidebar = sidebar
        self._table = table
        self._detail = detail
        #: The side panes' widths the person chose; None: the defaults for the window.
        self.chosen: tuple[int, int] | None = None
        self._fitting = False
        # The table takes what a resize gives or takes; the panes are fitted after.
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        for pane in range(3):
            splitter.setCollapsible(pane, False)
        sidebar.setMinimumWidth(SIDEBAR_MIN_WIDTH)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.fit)
        splitter.installEventFilter(self)
        splitter.splitterMoved.connect(self._on_splitter_splitter_moved)
        table.needed_width_changed.connect(self.fit)

    def reset(self) -> None:
        """The default widths for the window's present width."""
        self.chosen = None
        self.fit()

    def restore(self, saved: str) -> None:
        """The widths as :meth:`saved` wrote them ("" for the defaults), fitted."""
        parts = saved.split(",")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            self.chosen = (int(parts[0]), int(parts[1]))
        self.fit()

    def saved(self) -> str:
        """The widths to remember: those chosen, or those set otherwise than by :meth:`fit`
        (a script, a test), as "sidebar,detail"; "" for the defaults."""
        widths = self.chosen
        sizes = self._splitter.sizes()
        if widths is None and self._fitted() not in (None, sizes) and sizes[0] and sizes[2]:
            widths = (sizes[0], sizes[2])
        return f"{widths[0]},{widths[1]}" if widths else ""

    def fit(self) -> None:
        sizes = self._fitted()
        if sizes is None or sizes == self._splitter.sizes():
            return
        self._fitting = True
        try:
            self._splitter.setSizes(sizes)
        finally:
            self._fitting = False

    def detail_min_width(self) -> int:
        """The narrowest the detail pane gets without cutting its content: the Info tab
        scrolls only up and down, so its content's own minimum, its scroll bar and the
        pane's margins."""
        info = self._detail.info
        inner = info.widget()
        content = inner.minimumSizeHint().width() if inner is not None else 0
        scroll = info.verticalScrollBar().sizeHint().width()
        margins = (
            self._detail.width() - info.viewport().width() - scroll if info.isVisible() else 40
        )
        return max(
            DETAIL_MIN_WIDTH,
            self._detail.minimumSizeHint().width(),
            content + scroll + max(0, margins),
        )

    def _fitted(self) -> list[int] | None:
        sizes = self._splitter.sizes()
        total = sum(sizes) if sum(sizes) > 0 else self._window.width()
        if len(sizes) != 3 or total <= 0:
            return None
        sidebar, detail = self.chosen or (
            SIDEBAR_WIDTH,
            max(DETAIL_WIDTH, round(self._window.width() * DETAIL_SHARE)),
        )
        sidebar = sidebar if self._sidebar.isVisibleTo(self._window) else 0
        detail = detail if self._detail.isVisibleTo(self._window) else 0
        short = self._table.needed_width() - (total - sidebar - detail)
        if short > 0:
            give = min(short, max(0, detail - self.detail_min_width()))
            detail, short = detail - give, short - give
            sidebar -= min(short, max(0, sidebar - SIDEBAR_MIN_WIDTH))
        return [sidebar, max(0, total - sidebar - detail), detail]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._splitter and event.type() == QEvent.Type.Resize:
            # After the splitter has handled its new size (filters run before it does).
            self._timer.start()
        return super().eventFilter(watched, event)

    def _on_splitter_splitter_moved(self, pos: int, index: int) -> None:
        if not self._fitting:  # the person dragged a handle: these are their widths now
            sizes = self._splitter.sizes()
            self.chosen = (sizes[0], sizes[2])
