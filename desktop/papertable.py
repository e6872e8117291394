"""The paper table: one row a paper, tags drawn as chips, the selection kept by paper id.

The model (``desktop/models.py``) holds ids and queries the library; this view keeps what
the person selected across every re-query (a search, a sort, a change elsewhere) and says
which paper is current, so the window can show it in the detail pane. Files dropped on a
row are for that paper; PDFs dropped below the rows are for new papers (the window does
both); dropped .bib files go on to the window, which imports them.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import (
    QByteArray,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from .attachments import dropped_files, dropped_pdfs
from .models import COLUMNS, SORT_KEY_COLUMN, TAG_LIST_ROLE, Column, PaperTableModel
from .widgets import readable_chip_colors

#: The title never gets narrower than this while the other columns can still give way.
TITLE_MIN_WIDTH = 210
#: How narrow each other column may get, giving way to the title in a small window.
MIN_WIDTHS: dict[Column, int] = {
    Column.AUTHORS: 80,
    Column.YEAR: 44,
    Column.VENUE: 60,
    Column.TAGS: 60,
    Column.STATUS: 60,
    Column.RATING: 64,
    Column.ADDED: 80,
    Column.KEY: 80,
    Column.OPENED: 80,
}
#: Columns that widen to their content when the window has room (up to this width),
#: unless the person set their width.
GROW_TO_CONTENT: dict[Column, int] = {Column.AUTHORS: 220, Column.VENUE: 160}


class TagChipsDelegate(QStyledItemDelegate):
    """Draws a paper's tags as small rounded chips tinted with each tag's colour."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        # The owning view rather than opt.widget (see SidebarDelegate.paint).
        widget = self.parent() if isinstance(self.parent(), QWidget) else None
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        tags = index.data(TAG_LIST_ROLE) or []
        if not tags:
            return
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        text_color = opt.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        font = opt.font
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.92))
        painter.save()
        painter.setFont(font)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = painter.fontMetrics()
        height = fm.height() + 2
        x = opt.rect.left() + 4
        y = opt.rect.top() + (opt.rect.height() - height) // 2
        right = opt.rect.right() - 4
        for i, (name, color) in enumerate(tags):
            width = fm.horizontalAdvance(name) + 12
            rest = len(tags) - i - 1
            more = f"+{rest}" if rest else ""
            room = right - x - (fm.horizontalAdvance(more) + 6 if more else 0)
            if width > room and i > 0:
                # No room for this chip: say how many are left instead.
                painter.setPen(text_color)
                painter.drawText(
                    QRect(x, opt.rect.top(), right - x + 1, opt.rect.height()),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"+{rest + 1}",
                )
                break
            width = min(width, max(room, 24))
            fill = QColor(color) if color and QColor(color).isValid() else QColor(text_color)
            fill.setAlpha(70 if color else 30)
            chip = readable_chip_colors(color, opt.palette, QPalette.ColorRole.Base)
            painter.setPen(chip.border if color and chip.outlined else Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(x, y, width, height, height / 2, height / 2)
            painter.setPen(text_color)
            label = name
            if fm.horizontalAdvance(name) + 12 > width:
                label = fm.elidedText(name, Qt.TextElideMode.ElideRight, width - 10)
            painter.drawText(QRect(x, y, width, height), Qt.AlignmentFlag.AlignCenter, label)
            x += width + 4
        painter.restore()


class PaperTable(QTableView):
    """The paper table; keeps the selection by paper id whenever the model is re-queried.

    Signals:
        current_paper_changed(object): the paper id under the cursor, or None.
    """

    current_paper_changed = Signal(object)
    edit_requested = Signal()
    #: A paper was double-clicked: open it (its main file, else its link).
    open_requested = Signal(int)
    #: Files were dropped on a paper's row: (paper id, paths) to attach.
    files_dropped = Signal(int, list)
    #: PDFs were dropped below the rows: paths to make new papers of.
    pdfs_dropped = Signal(list)
    #: The width the table needs changed (a column was shown or hidden).
    needed_width_changed = Signal()

    def __init__(self, model: PaperTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paperTable")
        self.setAccessibleName("Papers")
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.paper_model = model
        self._current: int | None = None
        self._saved_ids: list[int] = []
        self._saved_current: int | None = None
        #: Column widths as the person (or the defaults) chose them; a small window shows
        #: them narrower (:meth:`_fit_columns`), a larger one as chosen again.
        self._preferred: dict[Column, int] = {}
        self._user_sized: set[Column] = set()
        self._fitting = False
        self._empty_text = ""
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setCornerButtonEnabled(False)
        self.setFrameShape(QTableView.Shape.NoFrame)
        self.setTabKeyNavigation(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setItemDelegateForColumn(Column.TAGS, TagChipsDelegate(self))
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        # A selection of its own, always empty: painting a section asks the selection
        # whether the columns beside it are selected, which walks every selected row
        # (7 s per paint with the 100,000 papers an import selects). The header never
        # shows or makes a selection here (no highlight; a click sorts).
        header.setSelectionModel(QItemSelectionModel(model, header))
        header.setSectionsMovable(True)
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._on_header_custom_context_menu_requested)
        header.sectionResized.connect(self._on_header_section_resized)
        self.apply_default_columns()
        # The indicator first: enabling sorting sorts by whatever the indicator says.
        header.setSortIndicator(
            SORT_KEY_COLUMN[model.sort_key],
            Qt.SortOrder.DescendingOrder if model.descending else Qt.SortOrder.AscendingOrder,
        )
        self.setSortingEnabled(True)
        model.modelAboutToBeReset.connect(self._on_model_about_to_be_reset)
        model.modelReset.connect(self._on_model_reset)
        # Not ``activated``: on desktops set to open on single click it fires on every click.
        self.doubleClicked.connect(self._on_self_double_clicked)
        self.selectionModel().currentRowChanged.connect(self._on_selection_current_row_changed)

    def apply_default_columns(self) -> None:
        header = self.horizontalHeader()
        self._fitting = True
        try:
            for column, spec in COLUMNS.items():
                header.setSectionHidden(column, spec.hidden)
                self.setColumnWidth(column, spec.width)
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        finally:
            self._fitting = False
        self._preferred = {c: spec.width for c, spec in COLUMNS.items() if c != Column.TITLE}
        self._user_sized.clear()
        self._title_takes_the_rest()

    def needed_width(self) -> int:
        """The narrowest the table can be with every shown column at its minimum and the
        title at :data:`TITLE_MIN_WIDTH`."""
        header = self.horizontalHeader()
        others = sum(MIN_WIDTHS[c] for c in MIN_WIDTHS if not header.isSectionHidden(c))
        scroll = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return TITLE_MIN_WIDTH + others + scroll + 2 * self.frameWidth()

    def _title_takes_the_rest(self) -> None:
        # Fixed: only the fitter sizes the title (it takes what the others leave, as a
        # stretching section would, but never less than its minimum).
        header = self.horizontalHeader()
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Fixed)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Size the columns to the viewport: the title takes what is left; when that is
        less than its minimum the other columns give way (down to theirs); with room to
        spare the authors and venue widen to their content."""
        if self._fitting:
            return
        header = self.horizontalHeader()
        shown = [c for c in self._preferred if not header.isSectionHidden(c)]
        avail = self.viewport().width()
        preferred = {c: self._preferred[c] for c in shown}
        widths = dict(preferred)
        if avail - sum(widths.values()) >= TITLE_MIN_WIDTH:
            # Room to spare: widen the cut columns to their content, as far as it goes.
            spare = avail - sum(widths.values()) - TITLE_MIN_WIDTH
            for c in shown:
                if c in GROW_TO_CONTENT and c not in self._user_sized:
                    hint = max(self._content_width(c), header.sectionSizeHint(c))
                    grow = min(max(0, min(hint, GROW_TO_CONTENT[c]) - widths[c]), spare)
                    widths[c] += grow
                    spare -= grow
        else:
            # Too narrow: every other column gives up the same share of what it can give.
            give = {c: max(0, preferred[c] - MIN_WIDTHS[c]) for c in shown}
            short = TITLE_MIN_WIDTH - (avail - sum(widths.values()))
            total = sum(give.values())
            ratio = min(1.0, short / total) if total else 0.0
            widths = {c: preferred[c] - round(give[c] * ratio) for c in shown}
        title = max(TITLE_MIN_WIDTH, avail - sum(widths.values()))
        self._fitting = True
        try:
            for c, width in widths.items():
                if header.sectionSize(c) != width:
                    header.resizeSection(c, width)
            if header.sectionSize(Column.TITLE) != title:
                header.resizeSection(Column.TITLE, title)
        finally:
            self._fitting = False

    def _content_width(self, column: Column) -> int:
        """How wide the column's text is in the rows in view. (Qt's sizeHintForColumn
        reads every row while the table is hidden or not laid out yet: 100,000 rows from
        the library at open, 0.4 s.)"""
        rows = self.paper_model.rowCount()
        if not rows:
            return 0
        first = max(0, self.rowAt(0))
        last = self.rowAt(self.viewport().height() - 1)
        if last < 0:
            last = min(rows - 1, first + 60)
        widths = (
            self.sizeHintForIndex(self.paper_model.index(r, column)).width()
            for r in range(first, last + 1)
        )
        return max(widths, default=0) + (1 if self.showGrid() else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _on_header_section_resized(self, logical: int, old: int, new: int) -> None:
        if self._fitting or logical == Column.TITLE:
            return
        column = Column(logical)
        hidden = self.horizontalHeader().isSectionHidden(logical)
        if new > 0 and not hidden and (old > 0 or new != self._preferred.get(column)):
            # Dragged by the person (showing a column starts at 0; Qt's own relayouts
            # happen with no button down).
            if old > 0:
                self._preferred[column] = new
                self._user_sized.add(column)
        if (old == 0) != (new == 0):
            self.needed_width_changed.emit()
        self._fit_columns()

    def add_column_menu(self, menu: QMenu) -> QMenu:
        """A Columns submenu of ``menu``, filled each time it opens."""
        columns = menu.addMenu("&Columns")
        columns.setObjectName("menuColumns")
        columns.aboutToShow.connect(partial(self.fill_column_menu, columns))
        return columns

    def restore_columns(self, state: QByteArray, saved_columns: int = len(COLUMNS)) -> None:
        """Column order, widths, hidden columns and sort as saved (``header_state``), by a
        table of ``saved_columns`` columns: those added since are shown or hidden as their
        defaults say (Qt would show them)."""
        header = self.horizontalHeader()
        self._fitting = True
        try:
            restored = not state.isEmpty() and header.restoreState(state)
            if restored:
                for column, spec in COLUMNS.items():
                    if column >= saved_columns:
                        header.setSectionHidden(column, spec.hidden)
        finally:
            self._fitting = False
        if not restored:
            return
        # The widths saved are the person's choice; the title takes the rest, whatever an
        # old state says (a saved narrow title must not come back).
        for column, spec in COLUMNS.items():
            if column == Column.TITLE:
                continue
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            size = header.sectionSize(column) if not header.isSectionHidden(column) else 0
            if size > 0:
                self._preferred[column] = max(size, MIN_WIDTHS[column])
                if size != spec.width:
                    self._user_sized.add(column)
        self.needed_width_changed.emit()
        self._title_takes_the_rest()

    def columns_state(self) -> QByteArray:
        """The header as saved: the widths the person chose, not those a small window
        narrowed them to for the title."""
        header = self.horizontalHeader()
        self._fitting = True
        try:
            for column, width in self._preferred.items():
                if not header.isSectionHidden(column):
                    header.resizeSection(column, width)
            state = header.saveState()
        finally:
            self._fitting = False
        self._fit_columns()
        return state

    def fill_column_menu(self, menu: QMenu) -> None:
        """Show or hide columns (the title always shows)."""
        menu.clear()
        header = self.horizontalHeader()
        for column, spec in COLUMNS.items():
            if column == Column.TITLE:
                continue
            action = menu.addAction(spec.header)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(
                lambda on, c=column: self.horizontalHeader().setSectionHidden(c, not on)
            )
        menu.addSeparator()
        menu.addAction("Reset Columns", self.apply_default_columns)

    @property
    def current_paper(self) -> int | None:
        return self._current

    def selected_rows(self) -> list[int]:
        """Selected rows, in order.

        Read from the selection's ranges: ``selectedRows()`` asks the model for the flags
        of every cell, seconds for the 100,000 papers an import has just selected.
        """
        ranges = self.selectionModel().selection()
        if len(ranges) == 1:
            return list(range(ranges[0].top(), ranges[0].bottom() + 1))
        rows: set[int] = set()
        for r in ranges:
            rows.update(range(r.top(), r.bottom() + 1))
        return sorted(rows)

    def selected_ids(self) -> list[int]:
        """Selected papers in table order (what copy and export use)."""
        ids = [self.paper_model.paper_id(r) for r in self.selected_rows()]
        return [pid for pid in ids if pid is not None]

    def select_papers(self, ids: list[int], current: int | None = None) -> bool:
        """Select these papers (those still shown); True if any of them is shown."""
        model = self.paper_model
        selection = QItemSelection()
        last = model.columnCount() - 1
        shown = model.rows_of(ids)
        rows = sorted(shown)  # ids come in table order, usually: cheap to sort
        # One range per run of adjacent rows: an import's papers are usually one run.
        if rows and rows[-1] - rows[0] + 1 == len(rows):
            selection.select(model.index(rows[0], 0), model.index(rows[-1], last))
        else:
            start = 0
            for i in range(1, len(rows) + 1):
                if i == len(rows) or rows[i] != rows[i - 1] + 1:
                    selection.select(model.index(rows[start], 0), model.index(rows[i - 1], last))
                    start = i
        sm = self.selectionModel()
        flags = QItemSelectionModel.SelectionFlag
        current_row = model.row_of(current) if current is not None else None
        if current_row is None and shown:
            current_row = shown[0]
        if current_row is not None:
            sm.setCurrentIndex(model.index(current_row, 0), flags.NoUpdate)
        sm.select(selection, flags.ClearAndSelect | flags.Rows)
        if current_row is not None:
            self.scrollTo(
                model.index(current_row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
            )
        return bool(rows)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._current is not None:
            self.edit_requested.emit()
            return
        super().keyPressEvent(event)

    # -- dropped files -------------------------------------------------------------------------

    def _drop_target(self, event: QDragMoveEvent | QDropEvent) -> tuple[int | None, list[str]]:
        """(the paper under the drop, the files for it); (None, PDFs) below the rows;
        (None, []) when this drop is not the table's to take."""
        mime = event.mimeData()
        index = self.indexAt(event.position().toPoint())
        pid = self.paper_model.paper_id(index.row()) if index.isValid() else None
        if pid is not None:
            return pid, dropped_files(mime)
        return None, dropped_pdfs(mime)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_files(event.mimeData()):
            event.acceptProposedAction()  # where it may land is for the moves to say
        else:
            event.ignore()  # .bib files and text: the window imports them

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._drop_target(event)[1]:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        pid, files = self._drop_target(event)
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        if pid is not None:
            self.files_dropped.emit(pid, files)
        else:
            self.pdfs_dropped.emit(files)

    # -- keeping the selection by id ---------------------------------------------------------------

    def _on_model_about_to_be_reset(self) -> None:
        self._saved_ids = self.selected_ids()
        self._saved_current = self._current

    def _on_model_reset(self) -> None:
        if self._saved_ids or self._saved_current is not None:
            self.select_papers(self._saved_ids, self._saved_current)
        self._announce_current()

    def _on_selection_current_row_changed(
        self, current: QModelIndex, previous: QModelIndex
    ) -> None:
        self._announce_current()

    def _announce_current(self) -> None:
        index = self.currentIndex()
        pid = self.paper_model.paper_id(index.row()) if index.isValid() else None
        if pid != self._current:
            self._current = pid
            self.current_paper_changed.emit(pid)

    def _on_self_double_clicked(self, index: QModelIndex) -> None:
        pid = self.paper_model.paper_id(index.row())
        if pid is not None:
            self.open_requested.emit(pid)

    # -- when there is nothing to show ---------------------------------------------------------

    def set_empty_text(self, text: str) -> None:
        """What the table says when it shows no papers (how to add some, or that a search
        found none)."""
        if text != self._empty_text:
            self._empty_text = text
            self.viewport().update()

    @property
    def empty_text(self) -> str:
        return self._empty_text

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.paper_model.rowCount() or not self._empty_text:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        area = self.viewport().rect().adjusted(24, 24, -24, -24)
        painter.drawText(
            area,
            int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            | int(Qt.TextFlag.TextWordWrap),
            self._empty_text,
        )
        painter.end()

    def _on_header_custom_context_menu_requested(self, pos: QPoint) -> None:
        menu = QMenu(self)
        self.fill_column_menu(menu)
        menu.exec(self.horizontalHeader().mapToGlobal(pos))
        menu.deleteLater()
