"""The conflict view of a group library: parts of papers changed here and in the group,
each with this library's value, the group's and the one both started from.

Keep Mine sends this library's value to the group; Keep Theirs takes the group's here.
Each choice is one undoable step on the window's undo stack (undo brings the conflict
back); the sync worker hears of it on ``events.changed`` like any edit and sends it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from . import commands, db
from .hub import LibraryEvents
from .widgets import muted

HEADERS = ("Paper", "Part", "Here (mine)", "Group (theirs)", "Before")
#: Longer values are cut in the cell (the tooltip has them whole).
CELL_CHARS = 400

Index = QModelIndex | QPersistentModelIndex


def readable(value: Any) -> str:
    """A part's value as people read it: BibTeX's braces and accents decoded."""
    if value is None:
        return "(none)"
    if isinstance(value, list):  # all fields as one part: [[name, raw], ...]
        return "\n".join(f"{name} = {readable(raw)}" for name, raw in value)
    text = str(value)
    try:
        text = db.display_text(text)
    except Exception:  # a value it cannot decode is shown as written
        pass
    text = " ".join(text.split())
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def raw(value: Any) -> str:
    if value is None:
        return "(none: the field is not there)"
    if isinstance(value, list):
        return "\n".join(f"{name} = {v}" for name, v in value)
    return str(value)


class ConflictModel(QAbstractTableModel):
    """The library's conflicts, one row each (few: a plain list is enough)."""

    def __init__(self, library: db.Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self.conflicts: list[db.GroupConflict] = []

    def reload(self) -> None:
        self.beginResetModel()
        self.conflicts = self._library.group_conflicts()
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.conflicts)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.conflicts):
            return None
        c = self.conflicts[index.row()]
        column = index.column()
        values = (c.paper, c.label, c.mine, c.theirs, c.base)
        if role == Qt.ItemDataRole.DisplayRole:
            return values[column] if column < 2 else readable(values[column])
        if role == Qt.ItemDataRole.ToolTipRole and column >= 2:
            return raw(values[column])
        if role == Qt.ItemDataRole.UserRole:
            return c.id
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None


class ConflictsDialog(QDialog):
    """Lists the conflicts; Keep Mine / Keep Theirs settle the selected ones (all of
    them when none is selected), each choice undoable. Not modal: the window stays usable
    and the list follows every change (a sync, an undo)."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("conflictsDialog")
        self.setWindowTitle("Group Conflicts")
        self.resize(900, 420)
        self._library = library
        self._events = events
        self._undo_stack = undo_stack

        self.model = ConflictModel(library, self)
        self.view = QTableView()
        self.view.setObjectName("conflictsTable")
        self.view.setModel(self.model)
        self.view.setWordWrap(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for column in (2, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)

        self.summary = muted(QLabel())
        self.summary.setObjectName("conflictsSummary")
        self.summary.setWordWrap(True)
        self.keep_mine_button = QPushButton("Keep &Mine")
        self.keep_mine_button.setObjectName("keepMineButton")
        self.keep_mine_button.setToolTip("Keep this library's value and send it to the group")
        self.keep_mine_button.clicked.connect(lambda: self._keep("mine"))
        self.keep_theirs_button = QPushButton("Keep &Theirs")
        self.keep_theirs_button.setObjectName("keepTheirsButton")
        self.keep_theirs_button.setToolTip("Take the group's value here")
        self.keep_theirs_button.clicked.connect(lambda: self._keep("theirs"))
        # Enter must not settle every conflict: it closes.
        self.keep_mine_button.setAutoDefault(False)
        self.keep_theirs_button.setAutoDefault(False)
        close = QPushButton("Close")
        close.setDefault(True)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.keep_mine_button)
        buttons.addWidget(self.keep_theirs_button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

        # The window's Undo and Redo work here too (its shortcuts belong to the window).
        QShortcut(QKeySequence.StandardKey.Undo, self, undo_stack.undo)
        QShortcut(QKeySequence.StandardKey.Redo, self, undo_stack.redo)
        events.changed.connect(self._on_events_changed)
        events.reloaded.connect(self.reload)
        self.reload()

    def reload(self) -> None:
        chosen = set(self.selected_ids())
        self.model.reload()
        selection = self.view.selectionModel()
        for row, c in enumerate(self.model.conflicts):
            if c.id in chosen:
                selection.select(
                    self.model.index(row, 0),
                    selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                )
        self.view.resizeRowsToContents()
        n = len(self.model.conflicts)
        self.summary.setText(
            f"{n} part{'s' if n != 1 else ''} changed both here and in the group. Choose "
            "which value to keep for the selected rows (all rows when none is selected)."
            if n
            else "No conflicts: this library and the group agree."
        )
        self._update_buttons()

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.conflicts[r].id for r in rows if r < len(self.model.conflicts)]

    def _update_buttons(self) -> None:
        has = bool(self.model.conflicts)
        self.keep_mine_button.setEnabled(has)
        self.keep_theirs_button.setEnabled(has)
        chosen = bool(self.view.selectionModel().selectedRows())
        self.keep_mine_button.setText("Keep &Mine" if chosen else "Keep All &Mine")
        self.keep_theirs_button.setText("Keep &Theirs" if chosen else "Keep All &Theirs")

    def _keep(self, side: str) -> None:
        ids = self.selected_ids() or [c.id for c in self.model.conflicts]
        if ids:
            command = commands.ResolveConflictsCommand(self._library, self._events, ids, side)
            commands.push(self._undo_stack, command, self)

    def _on_events_changed(self, changes: db.Changes) -> None:
        self.reload()
