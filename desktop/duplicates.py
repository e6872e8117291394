"""Finding and merging duplicate papers.

``Library.find_duplicates`` groups papers that share a DOI, an arXiv id, or a normalised
title with year and first author. The dialog shows each group with the first-added paper
chosen to keep; merging a group is one ``MergePapersCommand`` on the window's undo stack
("Merge all", after asking, is one undo step for all of them), so Ctrl+Z in the window
brings the papers back with their tags and notes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from . import commands, db, messages
from .commands import MergePapersCommand
from .dialogs import muted
from .geometry import PreserveGeometry
from .hub import LibraryEvents
from .settings import Settings

YEAR_WIDTH = 40
VENUE_WIDTH = 190


class DuplicateGroup(QGroupBox):
    """One group of probable duplicates: a radio button per paper picks the one to keep.

    Signals:
        merge_requested(int, object): the paper to keep and the list of the others.
    """

    merge_requested = Signal(int, object)

    def __init__(
        self,
        library: db.Library,
        ids: list[int],
        keep: int | None = None,
        title: str = "",
        key_width: int = 0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, parent)
        self.setObjectName("duplicateGroup")
        self.ids = list(ids)
        rows = library.rows(self.ids)
        self.choice = QButtonGroup(self)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(8)
        # The same column widths in every group, so the groups line up as one table.
        grid.setColumnMinimumWidth(0, key_width)
        grid.setColumnMinimumWidth(2, YEAR_WIDTH)
        grid.setColumnMinimumWidth(3, VENUE_WIDTH)
        for column, header in enumerate(("Keep", "Title", "Year", "Venue")):
            label = muted(QLabel(header))
            label.setWordWrap(False)
            grid.addWidget(label, 0, column)
        for r, pid in enumerate(self.ids, start=1):
            row = rows.get(pid)
            if row is None:
                continue
            radio = QRadioButton(row.key)
            radio.setObjectName("keepPaper")
            radio.setToolTip(
                f"Keep {row.key}; the others become its aliases. Added {row.added[:10]}."
            )
            self.choice.addButton(radio, pid)
            title = QLabel(f"{row.title}\n{row.authors}" if row.authors else row.title)
            title.setWordWrap(True)
            title.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            year = QLabel(str(row.year or ""))
            venue = QLabel(row.venue)
            venue.setWordWrap(True)
            venue.setFixedWidth(VENUE_WIDTH)
            for label in (title, year, venue):
                label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            grid.addWidget(radio, r, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(title, r, 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(year, r, 2, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(venue, r, 3, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(1, 1)
        first = keep if keep in self.ids else self.ids[0]
        button = self.choice.button(first)
        if button is not None:
            button.setChecked(True)
        self.merge_button = QPushButton("Merge")
        self.merge_button.setObjectName("mergeGroup")
        self.merge_button.setToolTip(
            "Merge the others into the paper chosen to keep: richer "
            "fields, all tags and notes, their keys as aliases "
            "(undoable)"
        )
        self.merge_button.clicked.connect(self._on_merge_button_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.merge_button)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(buttons)

    def keep(self) -> int:
        return self.choice.checkedId() if self.choice.checkedId() != -1 else self.ids[0]

    def others(self) -> list[int]:
        keep = self.keep()
        return [pid for pid in self.ids if pid != keep]

    def choose(self, paper_id: int) -> None:
        button = self.choice.button(paper_id)
        if button is not None:
            button.setChecked(True)

    def _on_merge_button_clicked(self) -> None:
        self.merge_requested.emit(self.keep(), self.others())


class DuplicatesDialog(PreserveGeometry, QDialog):
    """Every group of probable duplicates, each mergeable on its own or all at once.

    The list follows the library: after a merge (or an undo in the window) it is found
    again, keeping the paper chosen to keep in groups that are still there.
    """

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        parent: QWidget | None = None,
        *,
        settings: Settings,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("duplicatesDialog")
        self.setWindowTitle("Duplicates")
        self._library = library
        self._events = events
        self._undo_stack = undo_stack
        self._groups: list[DuplicateGroup] = []
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self.summary = QLabel()
        self.summary.setObjectName("duplicatesSummary")
        self.summary.setWordWrap(True)
        self._container = QWidget()
        self._list = QVBoxLayout(self._container)
        self._list.setContentsMargins(0, 0, 4, 0)
        self._list.setSpacing(10)
        scroll = QScrollArea()
        scroll.setObjectName("duplicatesScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._container)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.merge_all_button = self.buttons.addButton(
            "Merge all", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.merge_all_button.setObjectName("mergeAllDuplicates")
        self.merge_all_button.setToolTip("Merge every group into its chosen paper (one undo step)")
        self.merge_all_button.clicked.connect(self._on_merge_all_button_clicked)
        self.buttons.rejected.connect(self.reject)
        note = muted(
            QLabel(
                "Merging keeps the richer value of each field, every tag and "
                "note, and the other keys as aliases, so documents citing them "
                "still compile. Undo (Ctrl+Z) in the window separates them "
                "again."
            )
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        events.changed.connect(self._on_events_changed)
        events.reloaded.connect(self._on_events_changed)
        self.refresh()
        self.resize(960, 580)
        self.restore_geometry(settings)

    def groups(self) -> list[DuplicateGroup]:
        return list(self._groups)

    def refresh(self) -> None:
        """Find the duplicates again; a group still there keeps the paper chosen to keep."""
        chosen = {frozenset(g.ids): g.keep() for g in self._groups}
        for group in self._groups:
            self._list.removeWidget(group)
            group.deleteLater()
        self._groups = []
        while self._list.count():
            item = self._list.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        found = self._library.find_duplicates()
        keys = [row.key for row in self._library.rows([p for g in found for p in g]).values()]
        style = self.style()
        key_width = (
            max((self.fontMetrics().horizontalAdvance(k) for k in keys), default=0)
            + style.pixelMetric(QStyle.PixelMetric.PM_ExclusiveIndicatorWidth)
            + style.pixelMetric(QStyle.PixelMetric.PM_RadioButtonLabelSpacing)
            + 4
        )
        for i, ids in enumerate(found, start=1):
            group = DuplicateGroup(
                self._library,
                ids,
                chosen.get(frozenset(ids)),
                f"Group {i} of {len(found)}",
                min(key_width, 320),
            )
            group.merge_requested.connect(self._on_group_merge_requested)
            self._list.addWidget(group)
            self._groups.append(group)
        self._list.addStretch(1)
        n = len(found)
        if n:
            papers = sum(len(g) for g in found)
            self.summary.setText(
                f"{n} group{'s' if n != 1 else ''} of probable duplicates "
                f"({papers} papers). In each, the paper added first is "
                "chosen to keep; choose another if you like."
            )
        else:
            self.summary.setText(
                "No duplicates found: no two papers share a DOI, an arXiv "
                "id, or a title with the same year and first author."
            )
        self.merge_all_button.setEnabled(bool(n))

    def merge(self, keep: int, others: list[int]) -> bool:
        """Merge one group (undoable in the window); False if the library refused."""
        command = MergePapersCommand(self._library, self._events, keep, others)
        return commands.push(self._undo_stack, command, self) is None

    def _on_group_merge_requested(self, keep: int, others: list[int]) -> None:
        self.merge(keep, others)

    def _on_merge_all_button_clicked(self) -> None:
        groups = [(g.keep(), g.others()) for g in self._groups]
        if not groups:
            return
        papers = sum(len(others) + 1 for _, others in groups)
        gone = sum(len(others) for _, others in groups)
        if not messages.confirm(
            self,
            "Merge all duplicates",
            f"Merge {papers} papers in {len(groups)} group{'s' if len(groups) != 1 else ''} "
            f"into {len(groups)}? {gone} paper{'s' if gone != 1 else ''} "
            f"{'go' if gone != 1 else 'goes'}, their keys kept as aliases of the paper "
            "chosen to keep in each group. Undo (Ctrl+Z) separates them again.",
        ):
            return
        self._undo_stack.beginMacro(f"Merge {len(groups)} groups of duplicates")
        try:
            for keep, others in groups:
                if not self.merge(keep, others):
                    break
        finally:
            self._undo_stack.endMacro()

    def _on_events_changed(self, *_: object) -> None:
        # Not at once: a "Merge all" is still walking the groups.
        if self.isVisible():
            self._refresh_timer.start()
