"""The window's daily automatic backup, restoring a backup, and the offer of a backup when
a library is damaged.

The backup itself is :func:`db.rotate_backups` (SQLite's online backup, the newest N kept,
N the library setting ``backup_keep``); here it is only scheduled, off the GUI thread, over
its own connection, so the window never waits for it.

Restoring in the window (File ▸ Restore Backup…, :class:`RestoreBackupDialog`) is
:func:`db.restore_library`, as ``citedesk restore`` does it: a library that opens is
overwritten through SQLite, so the window's own connection reads the restored library at
once and every view reloads as after another program's change. Only a backup of the same
schema as the open library is restored in place; an older one (a copy made before an
upgrade) needs migrating, which happens when a library is opened: that one is restored
with ``citedesk restore`` while Citedesk is closed.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import db, messages
from .background import TaskRunner
from .geometry import PreserveGeometry
from .hub import LibraryEvents
from .settings import Settings
from .widgets import muted

#: After the window opens, so the backup never competes with the first paint.
START_DELAY_MS = 1500
#: A window left open for days still makes one backup a day.
CHECK_EVERY_MS = 60 * 60 * 1000


class DailyBackup(QObject):
    """Makes today's automatic backup when due, soon after start and then hourly.

    Signals:
        finished(str, str): the new backup's path ('' when none was due) and an error
            message ('' when it worked).
    """

    finished = Signal(str, str)

    def __init__(
        self, library: db.Library, parent: QObject | None = None, delay_ms: int = START_DELAY_MS
    ) -> None:
        super().__init__(parent)
        self._runner = TaskRunner(library.path, self)
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()
        self._first = QTimer(self)
        self._first.setSingleShot(True)
        self._first.timeout.connect(self._on_timer_timeout)
        self._first.start(delay_ms)

    @property
    def running(self) -> bool:
        return self._runner.running

    def shutdown(self) -> None:
        """The window is closing: let a backup in progress finish (it is never half-written
        anyway, but a finished one is worth keeping)."""
        self._closed = True
        self._timer.stop()
        self._first.stop()
        self._runner.wait()

    def _on_timer_timeout(self) -> None:
        if self._closed or self._runner.running:
            return
        self._runner.run(db.rotate_backups, self._on_rotate_done)

    def _on_rotate_done(self, made: Path | None, error: str) -> None:
        self.finished.emit(str(made) if made else "", error)


def offer_backup(error: db.LibraryDamagedError, parent: QWidget | None = None) -> bool:
    """Tell a person their library is damaged; offer to restore its newest backup.

    Returns True when the backup was restored (the damaged file is kept beside it), so the
    caller can open the library again.
    """
    path = Path(str(error.path)) if error.path else None
    backup = Path(str(error.backup)) if error.backup else None
    if backup is None or path is None:
        messages.offer(
            parent,
            "The library cannot be opened: the file is damaged.",
            str(error),
            None,
            name="damagedLibrary",
        )
        return False
    restore = messages.offer(
        parent,
        "The library cannot be opened: the file is damaged.",
        f"{error}\n\nRestore {backup.name}? The damaged file is kept beside it as "
        f"{path.name}.replaced-<time>.",
        "Restore Newest Backup",
        name="damagedLibrary",
        accept_name="restoreBackup",
    )
    if not restore:
        return False
    try:
        db.restore_library(backup, path)
    except db.LibraryError as exc:
        messages.critical(parent, "The backup could not be restored.", exc)
        return False
    return True


def _files_restored(files: db.FilesRestore | None) -> str:
    """What a restore did with the backup's stored files, in a sentence ('' for none)."""
    if files is None:
        return ""

    def count(n: int) -> str:
        return f"{n} stored file{'' if n == 1 else 's'}"

    said = f"{count(len(files.restored))} restored"
    if files.set_aside:
        said += f", {count(len(files.set_aside))} of the same name but other content set aside"
    if files.missing:
        said += f"; {count(len(files.missing))} could not be restored"
    return said + "."


_STAMP = re.compile(r"(\d{8}-\d{6})")


def backup_made(path: Path) -> datetime | None:
    """When a backup was made: the time in its name, else its file's time."""
    m = _STAMP.search(path.name)
    if m:
        try:
            return datetime.strptime(m.group(1), "%Y%m%d-%H%M%S")
        except ValueError:
            pass
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return None


def backup_kind(path: Path) -> str:
    if path.name.endswith(".bak") or ".bak-" in path.name:
        return "Before an upgrade"
    return "Daily" if "-auto-" in path.name else "Made by hand"


class RestoreBackupDialog(PreserveGeometry, QDialog):
    """The library's backups, newest first, with when each was made and how many papers it
    holds; Restore replaces the library with the chosen one, after asking.

    The window goes on with the restored library: the views reload (``events.reloaded``)
    and the undo history, which speaks of the replaced library, is cleared. The replaced
    library is kept beside it (``library.sqlite.replaced-<time>``).

    Signals (besides QDialog's):
        restored(str): the backup was restored; carries its path.
    """

    restored = Signal(str)

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
        self.setObjectName("restoreBackupDialog")
        self.setWindowTitle("Restore backup")
        self._library = library
        self._events = events
        self._undo_stack = undo_stack
        path = Path(library.path)
        intro = QLabel(
            f"Backups of {path.name}, newest first. Restoring one replaces the library with "
            "it; the library as it is now is kept beside it."
        )
        intro.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setObjectName("backupList")
        self.list.setHeaderLabels(["Made", "Kind", "Papers", "File"])
        self.list.setRootIsDecorated(False)
        self.list.setAllColumnsShowFocus(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.list.header()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = muted(QLabel(f"No backups yet in {db.backup_dir(path)}."))
        self.empty.setObjectName("noBackups")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = self.buttons.addButton(
            "Restore…", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.restore_button.setObjectName("restoreChosenBackup")
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        self.list.currentItemChanged.connect(self._on_list_current_item_changed)
        self.list.itemDoubleClicked.connect(self._on_list_item_double_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.buttons)
        self._fill()
        self.resize(640, 360)
        self.restore_geometry(settings)

    def _fill(self) -> None:
        version = db.check_library(self._library.path, quick_check=False)[0]
        for path in db.list_backups(self._library.path):
            made = backup_made(path)
            item = QTreeWidgetItem(
                [made.strftime("%Y-%m-%d %H:%M") if made else "", backup_kind(path), "", path.name]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(3, str(path))
            problem = ""
            try:
                their_version, papers = db.check_library(path, quick_check=False)
                item.setText(2, str(papers))
                if their_version != version:
                    problem = (
                        "Made by another version of Citedesk: restore it with "
                        f"citedesk restore {path} while Citedesk is closed."
                    )
            except db.LibraryError as exc:
                problem = f"Cannot be restored: {exc}"
            if problem:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                for column in range(4):
                    item.setToolTip(column, problem)
            self.list.addTopLevelItem(item)
        chosen = next(
            (
                self.list.topLevelItem(i)
                for i in range(self.list.topLevelItemCount())
                if self.list.topLevelItem(i).flags() & Qt.ItemFlag.ItemIsEnabled
            ),
            None,
        )
        if chosen is not None:
            self.list.setCurrentItem(chosen)
        self.empty.setVisible(self.list.topLevelItemCount() == 0)
        self._on_list_current_item_changed(self.list.currentItem(), None)

    def chosen(self) -> Path | None:
        item = self.list.currentItem()
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return None
        return Path(item.data(0, Qt.ItemDataRole.UserRole))

    def _on_list_current_item_changed(
        self, current: QTreeWidgetItem | None, previous: QTreeWidgetItem | None
    ) -> None:
        self.restore_button.setEnabled(self.chosen() is not None)

    def _on_list_item_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        self._on_buttons_accepted()

    def _on_buttons_accepted(self) -> None:
        backup = self.chosen()
        item = self.list.currentItem()
        if backup is None or item is None:
            return
        library = Path(self._library.path)
        if not messages.confirm(
            self,
            "Restore backup",
            f"Replace the library with the backup made {item.text(0)} ({item.text(2)} "
            f"papers)?\n\nThe library as it is now is kept as {library.name}.replaced-<time> "
            "beside it, and what you did before cannot be undone any more.",
        ):
            return
        try:
            kept = db.restore_library(backup, library)
            # A backup made with its files (citedesk backup --with-files) brings them back.
            files = db.restore_files(backup, library)
        except db.LibraryError as exc:
            messages.warn(self, "Restore backup", "The backup could not be restored.", exc)
            return
        self._undo_stack.clear()  # its steps are about the library that was replaced
        self._events.reloaded.emit()
        messages.notify(
            self.parentWidget(),
            f"Restored the backup made {item.text(0)}.",
            informative=" ".join(
                part
                for part in (
                    f"The library as it was is kept as {kept.name}." if kept else "",
                    _files_restored(files),
                )
                if part
            ),
            icon=messages.Icon.Information,
            name="backupRestored",
        )
        self.restored.emit(str(backup))
        self.accept()
