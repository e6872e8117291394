"""What the window says in its status bar: how many papers show, whether auto-exports are
failing, and how background work (backups, auto-exports, failed writes) went.

Messages that scroll away are for news; what a person must not miss stays: a failing
auto-export keeps a label until it works again, a failed write also opens a message box.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from . import messages


class StatusBar(QStatusBar):
    """The window's status bar, with the paper count, the auto-export warning and, in a
    group library, the sync state.

    Signals:
        group_clicked(): the sync state was clicked (conflicts to see, or sync now).
    """

    group_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A group library's sync state (groupsync.py); hidden in a library of one's own.
        self.group_button = QToolButton()
        self.group_button.setObjectName("groupStatus")
        self.group_button.setAutoRaise(True)
        self.group_button.clicked.connect(self.group_clicked)
        self.group_button.hide()
        self.addPermanentWidget(self.group_button)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        # Stays while an auto-export is failing (a status message would scroll away).
        self.autoexport_label = QLabel()
        self.autoexport_label.setObjectName("autoExportStatus")
        self.autoexport_label.hide()
        self.addPermanentWidget(self.autoexport_label)
        self.addPermanentWidget(self.count_label)
        self.setSizeGripEnabled(False)

    def show_counts(self, shown: int, total: int | None, selected: int) -> None:
        """Papers shown, of ``total`` when a view or search narrows them (else None)."""
        if total is None:
            label = f"{shown} paper{'s' if shown != 1 else ''}"
        else:
            label = f"{shown} of {total} papers"
        if selected > 1:
            label += f" · {selected} selected"
        self.count_label.setText(label)

    def show_group_state(self, text: str, tooltip: str) -> None:
        self.group_button.setText(text)
        self.group_button.setToolTip(tooltip)
        # A tool button keeps the width it was laid out with and elides a longer text
        # ("Group: u…ate (v6)"): it asks for the room its new text needs.
        self.group_button.setMinimumWidth(self.group_button.sizeHint().width())
        self.group_button.show()
        if self.layout() is not None:
            self.layout().activate()  # now, not at the next turn: no frame drawn overlapping

    def show_autoexport_results(self, results: list[tuple[str, str]]) -> None:
        """Auto-exports rewritten (news) or failing (flagged until they work again)."""
        written = [Path(p).name for p, outcome in results if outcome == "written"]
        errors = [
            (p, outcome.removeprefix("error: "))
            for p, outcome in results
            if outcome.startswith("error")
        ]
        if errors:
            names = ", ".join(Path(p).name or "auto-export" for p, _ in errors)
            self.autoexport_label.setText(f"⚠ Auto-export failed: {names}")
            self.autoexport_label.setToolTip(
                "\n".join(f"{p or 'The library'}: {reason}" for p, reason in errors)
            )
            self.autoexport_label.show()
            first, reason = errors[0]
            self.showMessage(
                f"Auto-export of {Path(first).name or 'the library'} failed: {reason}", 15000
            )
            return
        self.autoexport_label.hide()
        if written:
            what = ", ".join(written) if len(written) <= 3 else f"{len(written)} auto-exports"
            self.showMessage(f"{what} updated", 4000)

    def clear_autoexport_failure(self) -> None:
        """No auto-export is left to fail (the failing one may just have been removed)."""
        self.autoexport_label.hide()

    def show_backup_result(self, path: str, error: str) -> None:
        if error:
            self.showMessage(f"The automatic backup failed: {error}", 15000)

    def show_failure(self, message: str) -> None:
        """A write failed (an undo, say): in the bar and in a box that does not block."""
        self.showMessage(message, 10000)
        messages.notify(self.window(), message, name="failureMessage")
