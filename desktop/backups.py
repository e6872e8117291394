"""The window's daily automatic backup, and the offer of a backup when a library is damaged.

The backup itself is :func:`db.rotate_backups` (SQLite's online backup, the newest N kept,
N the library setting ``backup_keep``); here it is only scheduled, off the GUI thread, over
its own connection, so the window never waits for it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from . import db, messages
from .background import TaskRunner

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
