"""Paper ▸ Refresh from Sources: look the selected papers up again, one after another,
and choose field by field what to take from the record found.

A paper with a DOI, arXiv id or ISBN is looked up by it; one without is searched by title,
first author and year at arXiv and Crossref, and the best match is offered only when it
scores at least ``db.lookup.GOOD_MATCH`` (else the dialog says so and lets the person pick a
candidate). Each paper's accepted fields are one ``RefreshCommand``: one undo step. The
key never changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
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
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import commands, db
from .db import GOOD_MATCH, FieldDiff, Identifier
from .geometry import PreserveGeometry
from .lookup import CANCELLED, Lookups, LookupTask, Progress
from .widgets import heading, muted

if TYPE_CHECKING:  # the lookup modules (httpx) load with the first lookup
    from .db import Found, Lookup

#: A value longer than this is cut in the table (the tooltip has it whole).
SHOWN_CHARS = 240


class Column:
    FIELD, CURRENT, NEW = range(3)


@dataclass
class Finding:
    """What the lookup of one paper gave: records to choose from (best first), whether
    they came from a search by title, and what went wrong on the way."""

    choices: list[Found] = field(default_factory=list)
    by_search: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def good(self) -> bool:
        """The first choice is the paper: found by identifier, or a search's good match."""
        return bool(self.choices) and (not self.by_search or self.choices[0].score >= GOOD_MATCH)


def find_paper(
    lookup: Lookup, ids: list[Identifier], title: str, author: str, year: str
) -> Finding:
    """The lookup job (runs in a LookupTask's thread): by identifiers, else by search."""
    out = Finding()
    if ids:
        for outcome in lookup.run(ids, fresh=True):
            if outcome.found is not None:
                if outcome.found.published is not None:
                    out.choices.append(outcome.found.published)
                out.choices.append(outcome.found)
            elif outcome.error:
                out.problems.append(outcome.error)
        if out.choices:
            return out
    if not title:
        return out
    candidates = lookup.search(title, author, year)
    out.by_search = True
    out.problems += candidates.problems
    out.choices = list(candidates.found)
    if out.choices and out.choices[0].score >= GOOD_MATCH:
        best = lookup.complete(out.choices[0])
        if best.published is not None:
            best.published.score = best.score
            out.choices.insert(0, best.published)
    return out


def choice_label(found: Found, by_search: bool, published: bool) -> str:
    title = found.title if len(found.title) <= 70 else found.title[:69] + "…"
    year = found.get("year")
    what = "Published version" if published else found.source
    if published:
        venue = found.get("journal") or found.get("booktitle")
        what += f" ({venue})" if venue else f" ({found.source})"
    score = f"{found.score:.2f} · " if by_search else ""
    return f"{score}{what}: {title}" + (f" ({year})" if year else "")


class RefreshDialog(PreserveGeometry, QDialog):
    """One paper at a time: its differences from the record found, Apply or Skip."""

    def __init__(self, lookups: Lookups, paper_ids: list[int], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("refreshDialog")
        self.setWindowTitle("Refresh from Sources")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._lookups = lookups
        self._library = lookups.library
        self.paper_ids = list(dict.fromkeys(paper_ids))
        self.position = 0
        self.finding: Finding | None = None
        self.diffs: list[FieldDiff] = []
        self._task: LookupTask | None = None

        self.step = heading("")
        self.step.setObjectName("refreshStep")
        self.step.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("refreshProgress")
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        top = QHBoxLayout()
        top.addWidget(self.step, 1)
        top.addWidget(self.progress)
        self.status = QLabel()
        self.status.setObjectName("refreshStatus")
        self.status.setWordWrap(True)
        self.candidates = QComboBox()
        self.candidates.setObjectName("refreshCandidates")
        self.candidates.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.candidates.setMinimumContentsLength(60)
        self.candidates.hide()
        self.candidates_label = QLabel("&Record:")
        self.candidates_label.setBuddy(self.candidates)
        self.candidates_label.hide()
        pick = QHBoxLayout()
        pick.addWidget(self.candidates_label)
        pick.addWidget(self.candidates, 1)

        self.diff = QTreeWidget()
        self.diff.setObjectName("refreshDiff")
        self.diff.setRootIsDecorated(False)
        self.diff.setAlternatingRowColors(True)
        self.diff.setWordWrap(True)
        self.diff.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.diff.setHeaderLabels(["Field", "Current", "New"])
        header = self.diff.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(Column.FIELD, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.CURRENT, QHeaderView.ResizeMode.Interactive)
        fm = self.diff.fontMetrics()
        self.diff.setColumnWidth(Column.FIELD, fm.horizontalAdvance("eprintclass (added)") + 48)
        self.diff.setColumnWidth(Column.CURRENT, fm.horizontalAdvance("x" * 48))
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("refreshFieldDetail")
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText("The field selected, whole: its value now and the new one.")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("refreshSplitter")
        self.splitter.addWidget(self.diff)
        self.splitter.addWidget(self.detail)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.note = muted(
            QLabel(
                "Checked fields are written (one undo step per paper); the entry type only "
                "when checked. Fields the record lacks, the key, keywords, files and notes "
                "stay as they are."
            )
        )
        self.note.setWordWrap(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.addButton("&Apply", QDialogButtonBox.ButtonRole.ApplyRole)
        self.apply_button.setObjectName("applyRefresh")
        self.apply_button.setToolTip("Write the checked fields into the paper (undoable)")
        self.skip_button = self.buttons.addButton("&Skip", QDialogButtonBox.ButtonRole.ActionRole)
        self.skip_button.setObjectName("skipRefresh")
        self.skip_button.setToolTip("Leave this paper as it is")
        self.apply_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(pick)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)

        self.apply_button.clicked.connect(self.apply)
        self.skip_button.clicked.connect(self.skip)
        self.buttons.rejected.connect(self.reject)
        self.candidates.currentIndexChanged.connect(self._on_candidates_current_index_changed)
        self.diff.itemChanged.connect(self._on_diff_item_changed)
        self.diff.currentItemChanged.connect(self._on_diff_current_item_changed)
        self.resize(960, 620)
        self.splitter.setSizes([330, 130])
        self.restore_geometry(lookups.settings)

    # -- what scripts and tests use -----------------------------------------------------------

    @property
    def paper_id(self) -> int:
        return self.paper_ids[self.position]

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Look the present paper up."""
        pid = self.paper_id
        row = self._library.rows([pid]).get(pid)
        title = row.title if row else ""
        count = (
            f"Paper {self.position + 1} of {len(self.paper_ids)}: "
            if len(self.paper_ids) > 1
            else ""
        )
        self.step.setText(f"{count}{row.key if row else pid} — {title}")
        self.finding = None
        self._show_diffs([])
        self.candidates.hide()
        self.candidates_label.hide()
        self.progress.show()
        self.apply_button.setEnabled(False)
        try:
            wanted = self._library.search_for(pid)
        except db.LibraryError as exc:  # deleted meanwhile (an undo in the window, say)
            self.progress.hide()
            self.status.setText(f"Cannot look this paper up: {exc}")
            return
        by = ", ".join(str(i) for i in wanted.identifiers) or "title, first author and year"
        self.status.setText(f"Looking up by {by}…")
        ids = list(wanted.identifiers)

        def job(lookup: Lookup, _progress: Progress) -> Finding:
            return find_paper(lookup, ids, wanted.title, wanted.author, wanted.year)

        task = self._lookups.start(job)
        task.done.connect(self._on_task_done)
        self._task = task

    def checked_diffs(self) -> list[FieldDiff]:
        out = []
        for i in range(self.diff.topLevelItemCount()):
            item = self.diff.topLevelItem(i)
            if item.checkState(Column.FIELD) == Qt.CheckState.Checked:
                out.append(self.diffs[i])
        return out

    def apply(self) -> None:
        """Write the checked fields into the paper (one undo step), then the next paper."""
        accepted = self.checked_diffs()
        if accepted:
            self._lookups.flush()
            command = commands.RefreshCommand(
                self._library, self._lookups.events, self.paper_id, accepted
            )
            if commands.push(self._lookups.undo_stack, command, self) is not None:
                return
        self._next()

    def skip(self) -> None:
        """Leave the paper as it is; on to the next one."""
        self._next()

    # -- Qt ---------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        self._cancel()
        super().done(result)

    # -- steps ------------------------------------------------------------------------------

    def _next(self) -> None:
        self._cancel()
        if self.position + 1 >= len(self.paper_ids):
            self._lookups.papers_chosen.emit(self.paper_ids)
            self.accept()
            return
        self.position += 1
        self.start()

    def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.done.disconnect(self._on_task_done)
            task.cancel()
        self.progress.hide()

    def _on_task_done(self, finding: Finding | None, error: str) -> None:
        if self.sender() is not self._task:
            return
        self._task = None
        self.progress.hide()
        if finding is None:
            self.status.setText("Stopped." if error == CANCELLED else error)
            return
        self.finding = finding
        if not finding.choices:
            problems = "; ".join(finding.problems)
            self.status.setText(
                "No record found" + (f": {problems}" if problems else " at arXiv or Crossref.")
            )
            return
        self.candidates.blockSignals(True)
        self.candidates.clear()
        published = self._published_flags(finding)
        if not finding.good:
            self.candidates.addItem("Choose a candidate if one is this paper…")
        for found, is_published in zip(finding.choices, published, strict=True):
            self.candidates.addItem(choice_label(found, finding.by_search, is_published))
        self.candidates.setCurrentIndex(0)
        self.candidates.blockSignals(False)
        several = len(finding.choices) > 1 or not finding.good
        self.candidates.setVisible(several)
        self.candidates_label.setVisible(several)
        if finding.good:
            self._choose(finding.choices[0])
        else:
            best = finding.choices[0]
            self.status.setText(
                f"No good match: the best candidate scores {best.score:.2f} "
                f"(“{best.title}”, {best.source}); under {GOOD_MATCH:.2f} it may be another "
                "paper. Choose one below if it is this paper."
            )

    @staticmethod
    def _published_flags(finding: Finding) -> list[bool]:
        """Which choices are a preprint's published version (the one before its preprint)."""
        flags = []
        for i, found in enumerate(finding.choices):
            after = finding.choices[i + 1] if i + 1 < len(finding.choices) else None
            flags.append(after is not None and after.published is found)
        return flags

    def _choose(self, found: Found | None) -> None:
        finding = self.finding
        if found is None or finding is None:
            self._show_diffs([])
            return
        how = f"Match by title and author: score {found.score:.2f}" if finding.by_search else ""
        source = f"From {found.source}" + (f" · {how}" if how else "")
        try:
            diffs = self._library.refresh_diff(self.paper_id, found)
        except db.LibraryError as exc:  # the paper was deleted meanwhile, say
            self.status.setText(f"{source}. Cannot compare: {exc}")
            self._show_diffs([])
            return
        self._show_diffs(diffs)
        if diffs:
            n = len(diffs)
            self.status.setText(f"{source}. {n} field{'s' if n != 1 else ''} differ.")
        else:
            self.status.setText(f"{source}. The paper already agrees with this record.")

    def _show_diffs(self, diffs: list[FieldDiff]) -> None:
        self.diffs = list(diffs)
        self.diff.blockSignals(True)
        self.diff.clear()
        italic = QFont(self.diff.font())
        italic.setItalic(True)
        for d in self.diffs:
            item = QTreeWidgetItem()
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
            )
            name = "entry type" if d.name == "@type" else d.name
            item.setText(Column.FIELD, f"{name} (added)" if d.added else name)
            item.setCheckState(
                Column.FIELD,
                Qt.CheckState.Unchecked if d.name == "@type" else Qt.CheckState.Checked,
            )
            if d.added:
                item.setText(Column.CURRENT, "(none)")
                item.setFont(Column.CURRENT, italic)
                item.setForeground(Column.CURRENT, self.palette().placeholderText())
            else:
                item.setText(Column.CURRENT, _shown(d.old))
                item.setToolTip(Column.CURRENT, d.old)
            item.setText(Column.NEW, _shown(d.new))
            item.setToolTip(Column.NEW, d.new)
            self.diff.addTopLevelItem(item)
        self.diff.blockSignals(False)
        self.detail.clear()
        if self.diffs:
            self.diff.setCurrentItem(self.diff.topLevelItem(0))
        self._update_apply_button()

    def _update_apply_button(self) -> None:
        self.apply_button.setEnabled(bool(self.checked_diffs()) and self._task is None)

    def _on_diff_item_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if column == Column.FIELD:
            self._update_apply_button()

    def _on_diff_current_item_changed(
        self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None
    ) -> None:
        index = self.diff.indexOfTopLevelItem(current) if current is not None else -1
        if not 0 <= index < len(self.diffs):
            self.detail.clear()
            return
        d = self.diffs[index]
        self.detail.setPlainText(f"Now:  {d.old or '(none)'}\n\nNew:  {d.new}")

    def _on_candidates_current_index_changed(self, index: int) -> None:
        finding = self.finding
        if finding is None:
            return
        if not finding.good:
            index -= 1  # the first item asks to choose
        self._choose(finding.choices[index] if 0 <= index < len(finding.choices) else None)


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
