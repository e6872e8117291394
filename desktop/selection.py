"""What the detail pane shows when several papers are selected: what they share, and the
edits that act on all of them.

"3 papers selected", their titles (the first few), the tags every one of them has (× takes
a tag off all of them), a tag editor that tags all of them, and the reading status and
rating, shown when they all agree. Each edit is one undo step for the whole selection.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from . import db
from .commands import (
    AddTagsCommand,
    LibraryCommand,
    RemoveTagsCommand,
    SetRatingCommand,
    SetStatusCommand,
)
from .hub import LibraryEvents
from .widgets import FlowLayout, RatingSelector, TagChip, muted, tag_editor

#: Titles listed by name; the rest are counted.
TITLES_SHOWN = 5
#: Above this many papers the shared tags, status and rating are not worked out (reading
#: that many rows would make selecting all feel slow); the edits still act on all.
SUMMARY_MAX = 5000
#: What the status selector shows when the papers' statuses differ.
MIXED = "Mixed"

Push = Callable[[LibraryCommand], bool]


class SelectionPane(QWidget):
    """Several papers at once. The pane gives ``push`` (its undo stack and error bar)."""

    def __init__(
        self, library: db.Library, events: LibraryEvents, push: Push, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("selectionPane")
        self.library = library
        self.events = events
        self._push = push
        self.ids: list[int] = []
        self._build()

    # -- what the pane asks ---------------------------------------------------------------------

    def show_papers(self, ids: list[int]) -> None:
        """Show these papers (two or more) and what they share."""
        self.ids = list(ids)
        self.refresh()

    def refresh(self) -> None:
        n = len(self.ids)
        self.heading.setText(f"{n} papers selected")
        summary = n <= SUMMARY_MAX
        rows = self.library.rows(self.ids) if summary else {}
        shown = [rows[pid] for pid in self.ids[:TITLES_SHOWN] if pid in rows]
        lines = [f"• {row.title or row.key}" for row in shown]
        if n > len(shown):
            lines.append(f"… and {n - len(shown)} more")
        self.titles.setText("\n".join(lines))
        infos = self.library.tags()  # one read: the completion and the chips' colours
        self._tag_names.setStringList([t.name for t in infos])
        self._fill_tags(rows if summary else None, {t.name.lower(): t.color for t in infos})
        statuses = {row.status for row in rows.values()}
        ratings = {row.rating for row in rows.values()}
        self.status_selector.blockSignals(True)
        if len(statuses) == 1:
            self._mixed_item(False)
            self.status_selector.setCurrentIndex(
                self.status_selector.findData(next(iter(statuses)))
            )
        else:
            self._mixed_item(True)
            self.status_selector.setCurrentIndex(self.status_selector.findData(MIXED))
        self.status_selector.blockSignals(False)
        self.rating_selector.set_rating(next(iter(ratings)) if len(ratings) == 1 else 0)

    def shared_tags(self) -> list[str]:
        return list(self._shared)

    # -- building -------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 10)
        layout.setSpacing(6)
        self.heading = QLabel()
        self.heading.setObjectName("selectionHeading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        self.titles = muted(QLabel())
        self.titles.setObjectName("selectionTitles")
        self.titles.setWordWrap(True)
        layout.addWidget(self.titles)
        layout.addSpacing(10)

        layout.addWidget(QLabel("<b>Tags they all have</b>"))
        self._chips = QWidget()
        self._chips_layout = FlowLayout(self._chips)
        layout.addWidget(self._chips)
        self._no_shared = muted(QLabel("None in common"))
        layout.addWidget(self._no_shared)
        self.tag_editor, self._tag_names = tag_editor(
            "selectionTagEditor", "Tag all of them: tags separated by commas, Enter", self
        )
        self.tag_editor.tags_entered.connect(self._on_tag_editor_tags_entered)
        layout.addWidget(self.tag_editor)
        layout.addSpacing(10)

        layout.addWidget(QLabel("<b>Reading</b>"))
        reading = QHBoxLayout()
        reading.setSpacing(8)
        self.status_selector = QComboBox()
        self.status_selector.setObjectName("selectionStatus")
        self.status_selector.setAccessibleName("Reading status of the selected papers")
        for status in db.STATUSES:
            self.status_selector.addItem(db.STATUS_LABELS[status], status)
        self.status_selector.activated.connect(self._on_status_selector_activated)
        self.rating_selector = RatingSelector()
        self.rating_selector.setObjectName("selectionRating")
        self.rating_selector.rating_chosen.connect(self._on_rating_selector_rating_chosen)
        status_label = QLabel("Status")
        status_label.setBuddy(self.status_selector)
        reading.addWidget(status_label)
        reading.addWidget(self.status_selector)
        reading.addSpacing(16)
        reading.addWidget(QLabel("Rating"))
        reading.addWidget(self.rating_selector)
        reading.addStretch(1)
        layout.addLayout(reading)
        layout.addSpacing(10)
        note = muted(
            QLabel(
                "Each change here is one undo step for all of them. Delete, copy \\cite "
                "and export act on the whole selection too."
            )
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)
        self._shared: list[str] = []

    def _mixed_item(self, wanted: bool) -> None:
        at = self.status_selector.findData(MIXED)
        if wanted and at < 0:
            self.status_selector.addItem(MIXED, MIXED)
        elif not wanted and at >= 0:
            self.status_selector.removeItem(at)

    def _fill_tags(self, rows: dict[int, db.Row] | None, colors: dict[str, str | None]) -> None:
        shared: set[str] | None = None
        for row in (rows or {}).values():
            names = {n.strip() for n in row.tags.split(",") if n.strip()}
            shared = names if shared is None else shared & names
        self._shared = sorted(shared or set(), key=str.lower)
        while (item := self._chips_layout.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        for name in self._shared:
            chip = TagChip(name, colors.get(name.lower()))
            chip.remove_clicked.connect(self._on_chip_remove_clicked)
            self._chips_layout.addWidget(chip)
            chip.show()
        self._chips.setVisible(bool(self._shared))
        self._no_shared.setVisible(not self._shared)

    # -- slots ----------------------------------------------------------------------------------

    def _on_tag_editor_tags_entered(self, text: str) -> None:
        names = [n.strip() for n in text.split(",") if n.strip()]
        if names and self._push(AddTagsCommand(self.library, self.events, self.ids, names)):
            self.tag_editor.clear()

    def _on_chip_remove_clicked(self, name: str) -> None:
        self._push(RemoveTagsCommand(self.library, self.events, self.ids, [name]))

    def _on_status_selector_activated(self, index: int) -> None:
        status = self.status_selector.itemData(index)
        if status in db.STATUSES:
            self._push(SetStatusCommand(self.library, self.events, self.ids, status))

    def _on_rating_selector_rating_chosen(self, rating: int) -> None:
        self._push(SetRatingCommand(self.library, self.events, self.ids, rating))
