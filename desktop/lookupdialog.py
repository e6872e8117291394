"""File ▸ Add by Identifier: type or paste DOIs, arXiv ids and ISBNs (or a whole reference
list, .bib file or e-mail), look them up, check what to add, add it as one undo step.

The count of identifiers under the text box follows typing on a short timer, so a large
paste never makes typing lag. The lookup runs in a :class:`~desktop.lookup.LookupTask`
with a progress bar and a Cancel button; the results list has one row per identifier: the
record found (checked, unless the library seems to have it already) or the one-line reason
it was not. The row selected shows its entry exactly as it will be stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import commands, db
from .db import Preview
from .geometry import PreserveGeometry
from .lookup import CANCELLED, Lookups, LookupTask, Progress, describe_identifiers
from .widgets import muted

if TYPE_CHECKING:  # the lookup modules (httpx) load with the first lookup
    from .db import Found, Lookup, Outcome

#: Milliseconds after the last keystroke before the identifiers are counted again.
COUNT_DELAY_MS = 150
#: Where a result row keeps its index in ``AddByIdentifierDialog.rows``.
ROW_ROLE = Qt.ItemDataRole.UserRole
#: Rows previewed and listed per turn of the event loop.
LIST_CHUNK = 15
#: The key and authors columns grow to their longest text, up to these.
KEY_WIDTH = 280
BYLINE_WIDTH = 200


class Column:
    TITLE, BYLINE, SOURCE, KEY = range(4)


HEADERS = ("Title", "Authors, year", "Source", "Key")


def byline(found: Found) -> str:
    """ "Frank 1970", "Stanley and Windisch 2016", "Gould et al. 2006" """
    names = [n.strip() for n in found.get("author").split(" and ") if n.strip()]
    families = [n.split(",")[0].strip() if "," in n else n.split()[-1] for n in names]
    families = [f.strip("{}") for f in families]
    if len(families) > 2:
        who = f"{families[0]} et al."
    else:
        who = " and ".join(families)
    return " ".join(p for p in (who, found.get("year")) if p)


def version_label(found: Found, published: bool) -> str:
    """What the version choice says: the journal and DOI, or the arXiv id."""
    if published:
        venue = found.get("journal") or found.get("booktitle") or found.get("publisher")
        bits = ", ".join(b for b in (venue, found.get("doi")) if b)
        return f"Published version ({bits})" if bits else "Published version"
    eprint = found.get("eprint")
    return f"Preprint (arXiv {eprint})" if eprint else "Preprint"


def error_color(palette: QPalette) -> QColor:
    """A muted red that reads on the palette's background, light or dark."""
    return (
        QColor("#ff8a80")
        if palette.color(QPalette.ColorRole.Base).lightness() < 128
        else (QColor("#b3261e"))
    )


@dataclass
class ResultRow:
    """One identifier's result: the versions to choose from (published first), the one
    chosen, and its preview; or the error."""

    outcome: Outcome
    versions: list[Found] = field(default_factory=list)
    chosen: int = 0
    preview: Preview | None = None

    @property
    def found(self) -> Found | None:
        return self.versions[self.chosen] if self.versions else None


class _IdentifierBox(QPlainTextEdit):
    """The text box: Enter looks up, Shift+Enter starts a new line.

    Signals:
        submitted(): Enter was pressed.
    """

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class NoteCell(QWidget):
    """The line under a result row, as wide as the list: the version choice of a
    published preprint, and "Already in the library as KEY" with an Open existing button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(22, 0, 2, 2)
        layout.setSpacing(6)
        self.version = QComboBox()
        self.version.setObjectName("versionChoice")
        self.version.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.version.hide()
        self.same = QLabel()
        self.same.setObjectName("sameNote")
        self.same.hide()
        self.open_existing = QToolButton()
        self.open_existing.setObjectName("openExisting")
        self.open_existing.setText("Open existing")
        self.open_existing.hide()
        layout.addWidget(self.version)
        layout.addWidget(self.same)
        layout.addWidget(self.open_existing)
        layout.addStretch(1)


class AddByIdentifierDialog(PreserveGeometry, QDialog):
    """Look identifiers up and add the records chosen (see the module docstring)."""

    def __init__(self, lookups: Lookups, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("addByIdentifierDialog")
        self.setWindowTitle("Add by Identifier")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._lookups = lookups
        self._library = lookups.library
        self._task: LookupTask | None = None
        self.rows: list[ResultRow] = []
        self._notes: dict[int, NoteCell] = {}

        self.text_box = _IdentifierBox()
        self.text_box.setObjectName("identifierText")
        self.text_box.setPlaceholderText(
            "A DOI, arXiv id or ISBN (10.1126/science.169.3946.635, 1605.08386, "
            "978-0-262-03384-8), or paste a reference list, a .bib file or an e-mail: "
            "every identifier in it is looked up. Enter looks up; Shift+Enter is a new line."
        )
        self.text_box.setTabChangesFocus(True)
        line = self.text_box.fontMetrics().lineSpacing()
        self.text_box.setFixedHeight(5 * line + 12)
        self.found_label = muted(QLabel(describe_identifiers([])))
        self.found_label.setObjectName("identifiersFound")
        # Results are listed a few rows per turn of the event loop: previewing a row asks
        # the library (key, duplicates), and 100 at once would stop the window ~130 ms.
        self._list_timer = QTimer(self)
        self._list_timer.setSingleShot(True)
        self._list_timer.setInterval(0)
        self._list_timer.timeout.connect(self._list_more)
        self._listed = 0
        self._taken: set[str] = set()
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(COUNT_DELAY_MS)

        self.look_up_button = QPushButton("&Look Up")
        self.look_up_button.setObjectName("lookUpButton")
        self.look_up_button.setToolTip("Look every identifier up (Enter in the text box)")
        self.progress = QProgressBar()
        self.progress.setObjectName("lookupProgress")
        self.progress.setFormat("%v of %m")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelLookupButton")
        self.cancel_button.setToolTip("Stop the lookup; nothing is added")
        self.cancel_button.hide()
        self.status = QLabel()
        self.status.setObjectName("lookupStatus")
        self.status.setWordWrap(True)
        action_row = QHBoxLayout()
        action_row.addWidget(self.found_label, 1)
        action_row.addWidget(self.progress)
        action_row.addWidget(self.cancel_button)
        action_row.addWidget(self.look_up_button)

        self.results = QTreeWidget()
        self.results.setObjectName("lookupResults")
        self.results.setRootIsDecorated(False)
        self.results.setItemsExpandable(False)
        self.results.setIndentation(0)
        self.results.setAlternatingRowColors(True)
        self.results.setColumnCount(len(HEADERS))
        self.results.setHeaderLabels(list(HEADERS))
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.results.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        for column in (Column.BYLINE, Column.SOURCE, Column.KEY):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        fm = self.results.fontMetrics()
        self.results.setColumnWidth(Column.BYLINE, fm.horizontalAdvance("Gould et al. 2006") + 24)
        self.results.setColumnWidth(Column.SOURCE, fm.horizontalAdvance("Open Library") + 24)
        self.results.setColumnWidth(Column.KEY, fm.horizontalAdvance("x" * 24) + 16)

        self.preview = QPlainTextEdit()
        self.preview.setObjectName("lookupPreview")
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.preview.setPlaceholderText("The entry of the row selected, as it will be stored.")

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("lookupSplitter")
        self.splitter.addWidget(self.results)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.add_button = self.buttons.addButton(
            "Add Papers", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.add_button.setObjectName("addFoundButton")
        self.add_button.setToolTip("Add the checked records (one undo step)")
        self.add_button.setEnabled(False)
        self.add_button.setAutoDefault(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.text_box)
        layout.addLayout(action_row)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self.text_box.textChanged.connect(self._count_timer.start)
        self.text_box.submitted.connect(self.look_up)
        self._count_timer.timeout.connect(self._on_count_timer_timeout)
        self.look_up_button.clicked.connect(self.look_up)
        self.cancel_button.clicked.connect(self.cancel)
        self.results.currentItemChanged.connect(self._on_results_current_item_changed)
        self.results.itemChanged.connect(self._on_results_item_changed)
        self.add_button.clicked.connect(self.add_checked)
        self.buttons.rejected.connect(self.reject)
        self.look_up_button.setDefault(True)

        self.resize(1100, 720)
        self.splitter.setSizes([400, 240])
        self.restore_geometry(lookups.settings)

    # -- what scripts and tests use -----------------------------------------------------------

    @property
    def running(self) -> bool:
        """Looking up, or still listing what was found."""
        return self._task is not None or self._listed < len(self.rows)

    def set_text(self, text: str) -> None:
        self.text_box.setPlainText(text)
        self._on_count_timer_timeout()

    def look_up(self) -> None:
        """Look up every identifier in the text box (again, if looked up before)."""
        if self._task is not None:
            return
        self._count_timer.stop()
        ids = db.identifiers_in(self.text_box.toPlainText())
        self.found_label.setText(describe_identifiers(ids))
        if not ids:
            self.status.setText("The text holds no DOI, arXiv id or ISBN to look up.")
            return
        self._clear_results()
        self.status.setText(f"Looking up {len(ids)} identifier{'s' if len(ids) != 1 else ''}…")
        self.progress.setRange(0, len(ids))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.look_up_button.setEnabled(False)

        def job(lookup: Lookup, progress: Progress) -> list[Outcome]:
            return lookup.run(ids, progress)

        task = self._lookups.start(job)
        task.progressed.connect(self._on_task_progressed)
        task.done.connect(self._on_task_done)
        self._task = task

    def cancel(self) -> None:
        """Stop the lookup now; its thread ends at its next request (results dropped)."""
        task = self._task
        if task is None:
            return
        self._drop_task()
        task.cancel()
        self._idle()
        self.status.setText("Lookup cancelled; nothing was added.")

    def note_cell(self, item: QTreeWidgetItem) -> NoteCell | None:
        """The line under a result row (version choice, already in the library), if any."""
        if not item.childCount():
            return None
        widget = self.results.itemWidget(item.child(0), 0)
        return widget if isinstance(widget, NoteCell) else None

    def checked_rows(self) -> list[ResultRow]:
        out = []
        for i in range(self.results.topLevelItemCount()):
            item = self.results.topLevelItem(i)
            row = self.rows[item.data(Column.TITLE, ROW_ROLE)]
            if row.found is not None and item.checkState(Column.TITLE) == Qt.CheckState.Checked:
                out.append(row)
        return out

    def add_checked(self) -> None:
        """Add the checked records as one undo step, select them in the window, close."""
        founds = [r.found for r in self.checked_rows() if r.found is not None]
        if not founds:
            return
        self._lookups.flush()
        command = commands.AddFoundCommand(self._library, self._lookups.events, founds)
        if commands.push(self._lookups.undo_stack, command, self) is not None:
            return
        if command.paper_ids:
            self._lookups.papers_chosen.emit(command.paper_ids)
        self.accept()

    def open_existing(self, paper_id: int) -> None:
        """Select the paper the library has already and close."""
        self._lookups.papers_chosen.emit([paper_id])
        self.reject()

    # -- Qt ---------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        self.cancel()
        super().done(result)

    # -- the lookup -------------------------------------------------------------------------

    def _drop_task(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.progressed.disconnect(self._on_task_progressed)
            task.done.disconnect(self._on_task_done)

    def _idle(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.look_up_button.setEnabled(True)

    def _on_task_progressed(self, done: int, total: int, outcome: Outcome) -> None:
        if self.sender() is not self._task:
            return
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.status.setText(f"Looking up {done} of {total}: {outcome.asked}")

    def _on_task_done(self, outcomes: list[Outcome] | None, error: str) -> None:
        if self.sender() is not self._task:
            return
        self._drop_task()
        self._idle()
        if outcomes is None:
            self.status.setText(
                "Lookup cancelled; nothing was added." if error == CANCELLED else error
            )
            return
        self._show_outcomes(outcomes)

    # -- the results ------------------------------------------------------------------------

    def _clear_results(self) -> None:
        self._list_timer.stop()
        self._listed = 0
        self._taken = set()
        self.rows = []
        self._notes.clear()
        self.results.clear()
        self.preview.clear()
        self._update_add_button()

    def _show_outcomes(self, outcomes: list[Outcome]) -> None:
        self._clear_results()
        for outcome in outcomes:
            row = ResultRow(outcome)
            if outcome.found is not None:
                published = outcome.found.published
                row.versions = [published, outcome.found] if published else [outcome.found]
            self.rows.append(row)
        self._list_more()

    def _list_more(self) -> None:
        """Preview and list the next rows; the last part sums up and sizes the columns."""
        start = self._listed
        end = min(start + LIST_CHUNK, len(self.rows))
        with_found = [r for r in self.rows[start:end] if r.found is not None]
        previews = self._library.preview_found(
            [r.found for r in with_found if r.found], self._taken
        )
        for row, preview in zip(with_found, previews, strict=True):
            row.preview = preview
        self.results.blockSignals(True)
        for index in range(start, end):
            self._add_item(index, self.rows[index])
        self.results.blockSignals(False)
        self._listed = end
        if start == 0 and self.results.topLevelItemCount():
            self.results.setCurrentItem(self.results.topLevelItem(0))
        if end < len(self.rows):
            self.status.setText(f"Listing {end} of {len(self.rows)}…")
            self._list_timer.start()
            return
        ok = sum(1 for r in self.rows if r.found is not None)
        failed = len(self.rows) - ok
        same = sum(1 for r in self.rows if r.preview is not None and r.preview.same)
        parts = [f"Found {ok} of {len(self.rows)}"]
        if same:
            parts.append(f"{same} already in the library (unchecked)")
        if failed:
            parts.append(f"{failed} not found (in red)")
        self.status.setText("; ".join(parts) + ".")
        for column, widest in ((Column.BYLINE, BYLINE_WIDTH), (Column.KEY, KEY_WIDTH)):
            self.results.resizeColumnToContents(column)
            self.results.setColumnWidth(column, min(widest, self.results.columnWidth(column) + 8))
        self._update_add_button()
        if self.add_button.isEnabled():
            self.look_up_button.setDefault(False)
            self.add_button.setDefault(True)
            self.results.setFocus(Qt.FocusReason.OtherFocusReason)

    def _preview_all(self) -> None:
        """Previews of every chosen record at once: keys unique among them too."""
        with_found = [r for r in self.rows if r.found is not None]
        previews = self._library.preview_found([r.found for r in with_found if r.found])
        for row, preview in zip(with_found, previews, strict=True):
            row.preview = preview

    def _add_item(self, index: int, row: ResultRow) -> None:
        item = QTreeWidgetItem()
        item.setData(Column.TITLE, ROW_ROLE, index)
        self.results.addTopLevelItem(item)
        found, preview = row.found, row.preview
        if found is None or preview is None:
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setText(Column.TITLE, f"{row.outcome.asked}: {row.outcome.error}")
            item.setToolTip(Column.TITLE, row.outcome.error)
            item.setForeground(Column.TITLE, error_color(self.palette()))
            item.setFirstColumnSpanned(True)
            return
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
        )
        item.setCheckState(
            Column.TITLE, Qt.CheckState.Unchecked if preview.same else Qt.CheckState.Checked
        )
        self._fill_item(item, row)
        if len(row.versions) > 1 or preview.same:
            cell = NoteCell()
            if len(row.versions) > 1:
                for n, version in enumerate(row.versions):
                    cell.version.addItem(version_label(version, n == 0 and len(row.versions) > 1))
                cell.version.setCurrentIndex(row.chosen)
                cell.version.setToolTip(
                    "Add the journal's record (keeping the arXiv id) or the preprint"
                )
                cell.version.show()
                cell.version.currentIndexChanged.connect(
                    lambda chosen, i=index: self._on_version_chosen(i, chosen)
                )
            cell.open_existing.clicked.connect(lambda _c=False, i=index: self._on_open_existing(i))
            self._notes[index] = cell
            self._fill_same(index)
            line = QTreeWidgetItem(item)
            line.setFlags(Qt.ItemFlag.ItemIsEnabled)
            line.setFirstColumnSpanned(True)
            line.setSizeHint(0, cell.sizeHint())
            item.setExpanded(True)
            self.results.setItemWidget(line, 0, cell)

    def _fill_item(self, item: QTreeWidgetItem, row: ResultRow) -> None:
        found, preview = row.found, row.preview
        assert found is not None and preview is not None
        item.setText(Column.TITLE, found.title)
        item.setToolTip(Column.TITLE, f"{found.title}\n{row.outcome.asked}")
        item.setText(Column.BYLINE, byline(found))
        item.setText(Column.SOURCE, found.source)
        item.setText(Column.KEY, preview.key)

    def _fill_same(self, index: int) -> None:
        cell, row = self._notes.get(index), self.rows[index]
        if cell is None or row.preview is None:
            return
        same = row.preview.same
        if same:
            first = same[0]
            more = f" and {len(same) - 1} more" if len(same) > 1 else ""
            cell.same.setText(f"Already in the library as {first.key}{more} ({first.why})")
            cell.same.setToolTip(first.title)
        cell.same.setVisible(bool(same))
        cell.open_existing.setVisible(bool(same))

    def _item_of(self, index: int) -> QTreeWidgetItem | None:
        for i in range(self.results.topLevelItemCount()):
            item = self.results.topLevelItem(i)
            if item.data(Column.TITLE, ROW_ROLE) == index:
                return item
        return None

    def _on_version_chosen(self, index: int, chosen: int) -> None:
        row = self.rows[index]
        had_same = bool(row.preview and row.preview.same)
        row.chosen = chosen
        self._preview_all()
        self.results.blockSignals(True)
        for i in range(self.results.topLevelItemCount()):
            item = self.results.topLevelItem(i)
            other = self.rows[item.data(Column.TITLE, ROW_ROLE)]
            if other.found is not None:
                self._fill_item(item, other)
        item = self._item_of(index)
        if item is not None and row.preview is not None and bool(row.preview.same) != had_same:
            item.setCheckState(
                Column.TITLE,
                Qt.CheckState.Unchecked if row.preview.same else Qt.CheckState.Checked,
            )
        self.results.blockSignals(False)
        self._fill_same(index)
        self._show_preview(self.results.currentItem())
        self._update_add_button()

    def _on_open_existing(self, index: int) -> None:
        preview = self.rows[index].preview
        if preview is not None and preview.same:
            self.open_existing(preview.same[0].paper_id)

    def _show_preview(self, item: QTreeWidgetItem | None) -> None:
        if item is None:
            self.preview.clear()
            return
        if item.parent() is not None:
            item = item.parent()
        row = self.rows[item.data(Column.TITLE, ROW_ROLE)]
        if row.preview is None:
            self.preview.setPlainText(f"{row.outcome.asked}\n\n{row.outcome.error}")
        else:
            self.preview.setPlainText(row.preview.text)

    def _update_add_button(self) -> None:
        n = len(self.checked_rows())
        self.add_button.setText(f"Add {n} Paper{'s' if n != 1 else ''}" if n else "Add Papers")
        self.add_button.setEnabled(bool(n) and self._task is None)

    def _on_results_current_item_changed(
        self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None
    ) -> None:
        self._show_preview(current)

    def _on_results_item_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if column == Column.TITLE:
            self._update_add_button()

    def _on_count_timer_timeout(self) -> None:
        self.found_label.setText(
            describe_identifiers(db.identifiers_in(self.text_box.toPlainText()))
        )
        if self._task is None:
            self.add_button.setDefault(False)
            self.look_up_button.setDefault(True)
