"""Keeping auto-exported .bib files current while the window edits the library.

After each change the window calls :meth:`AutoExporter.schedule`. A burst of changes
(typing, a merge of many groups) is coalesced: the files are written once, ``DELAY_MS``
after the last change, so an edit returns at once and never waits for an export. One run at
a time: a change during a run asks for one more run after it, started as soon as the run
ends if the change is by then ``DELAY_MS`` old. ``Library.run_autoexports`` rewrites only
the files whose content changed, so a change that does not alter a file leaves it (and its
mtime) alone.

The runs happen in one thread of their own that lives until the window closes, over one
connection to the library opened on the first run and kept (SQLite's WAL mode gives each
run a consistent snapshot while the window goes on editing; between runs it holds none).
At 10,000 entries a run takes 0.1-0.4 s: the export's SQL (``Library.autoexport_data``),
then the write, whose fsync is most of the rest.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QThread, QTimer, Signal, Slot

from . import db
from .background import EXPECTED_ERRORS, guarded

#: Quiet time after the last change before the files are written.
DELAY_MS = 150


class _Worker(QObject):
    """Runs auto-exports in the export thread, over that thread's own connection.

    The connection is opened on the first run and kept; it is opened again after a run that
    failed, or when the library file was replaced (a backup restored by the command line).

    Signals:
        done(object, str): the run's results, and an error message ('' when it worked).
    """

    done = Signal(object, str)

    def __init__(self, library_path: Path) -> None:
        super().__init__()
        self._path = library_path
        self._library: db.Library | None = None
        self._file_id: tuple[int, int] | None = None

    @Slot()
    def run(self) -> None:
        results, error = guarded(
            lambda: self._open().run_autoexports(), (*EXPECTED_ERRORS, db.SQLiteError)
        )
        if error:
            self.close()  # opened afresh for the next run
        self.done.emit(results, error)

    @Slot()
    def stop(self) -> None:
        """Close the connection and end the thread (after any run asked for before)."""
        self.close()
        thread = self.thread()
        if thread is not None:
            thread.quit()

    def close(self) -> None:
        if self._library is not None:
            library, self._library = self._library, None
            library.close(optimize=False)  # the window optimizes on closing

    def _open(self) -> db.Library:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            # Opening would create an empty library, and the next run would empty the files.
            raise db.LibraryError(f"{self._path}: the library file is gone") from None
        file_id = (st.st_dev, st.st_ino)
        if self._library is not None and file_id != self._file_id:
            self.close()
        if self._library is None:
            self._library = db.Library.open(self._path, seed=False)
            self._file_id = file_id
        return self._library


class AutoExporter(QObject):
    """Runs the library's auto-exports in the background after changes.

    Signals:
        finished(object): a list of (path, 'written' | 'unchanged' | 'error: ...'), one per
            auto-export; or one ('', 'error: ...') when the library could not be read.
    """

    finished = Signal(object)
    _run_requested = Signal()
    _stop_requested = Signal()

    def __init__(
        self, library: db.Library, parent: QObject | None = None, delay_ms: int = DELAY_MS
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._delay_ms = delay_ms
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._since_change = QElapsedTimer()
        self._thread: QThread | None = None  # started on the first run
        self._worker: _Worker | None = None
        self._running = False
        self._again = False
        self._closed = False
        self._configured: bool | None = None  # any auto-exports? None: read it again

    @property
    def running(self) -> bool:
        return self._running

    @property
    def pending(self) -> bool:
        """A run is waiting (for quiet, or for the run in progress to end)."""
        return self._timer.isActive() or self._again

    def settings_changed(self) -> None:
        """The library's settings changed (auto-exports added or removed, say)."""
        self._configured = None

    def schedule(self) -> None:
        """Write the files shortly, once changes stop; nothing when there are none."""
        if self._configured is None:
            self._configured = bool(self._library.setting(db.AUTOEXPORTS))
        if self._closed or not self._configured:
            return
        self._since_change.start()
        self._timer.start(self._delay_ms)

    def shutdown(self) -> None:
        """The window is closing: wait for a run, then write what is still pending here."""
        pending = self.pending
        self._closed = True
        self._timer.stop()
        self._again = False
        if self._thread is not None:
            # Queued after any run asked for, so that run is done before the thread ends.
            self._stop_requested.emit()
            self._thread.wait()
            self._thread = self._worker = None
            self._running = False
        if pending and self._library.setting(db.AUTOEXPORTS):
            # The window's connection is about to close; this is the last chance.
            self._library.run_autoexports()

    def _start_run(self) -> None:
        if self._thread is None:
            self._worker = _Worker(self._library.path)
            self._thread = QThread(self)
            self._thread.setObjectName("citedesk-autoexport")
            self._worker.moveToThread(self._thread)
            # Queued both ways: the worker's slots run in its thread, ours in the GUI's.
            queued = Qt.ConnectionType.QueuedConnection
            self._run_requested.connect(self._worker.run, queued)
            self._stop_requested.connect(self._worker.stop, queued)
            self._worker.done.connect(self._on_worker_done, queued)
            self._thread.start()
        self._running = True
        self._run_requested.emit()

    def _on_timer_timeout(self) -> None:
        if self._running:
            self._again = True
            return
        self._start_run()

    def _on_worker_done(self, results: list[tuple[str, str]] | None, error: str) -> None:
        if self._closed:
            return
        self._running = False
        if self._again:
            self._again = False
            # The quiet time may have passed during the run: then there is no more to wait.
            left = self._delay_ms - self._since_change.elapsed()
            if left > 0:
                self._timer.start(left)
            else:
                self._start_run()
        self.finished.emit(results if not error else [("", f"error: {error}")])
