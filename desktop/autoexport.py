"""Keeping auto-exported .bib files current while the window edits the library.

After each change the window calls :meth:`AutoExporter.schedule`. A burst of changes
(typing, a merge of many groups) is coalesced: the files are written once, ``DELAY_MS``
after the last change, in a worker thread over a connection of its own, so an edit returns
at once and never waits for an export. One run at a time: a change during a run asks for
one more run after it. ``Library.run_autoexports`` rewrites only the files whose content
changed, so a change that does not alter a file leaves it (and its mtime) alone.

Rendering entries for a profile is remembered across runs (``db.export.render_entry``),
so with 10,000 entries a run takes a fraction of a second after the first.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

import db
from desktop.background import TaskRunner

#: Quiet time after the last change before the files are written.
DELAY_MS = 150


class AutoExporter(QObject):
    """Runs the library's auto-exports in the background after changes.

    Signals:
        finished(object): a list of (path, 'written' | 'unchanged' | 'error: ...'), one per
            auto-export; or one ('', 'error: ...') when the library could not be read.
    """

    finished = Signal(object)

    def __init__(self, library: db.Library, parent: QObject | None = None,
                 delay_ms: int = DELAY_MS) -> None:
        super().__init__(parent)
        self._library = library
        self._runner = TaskRunner(library.path, self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._again = False
        self._closed = False

    @property
    def running(self) -> bool:
        return self._runner.running

    @property
    def pending(self) -> bool:
        """A run is waiting (for quiet, or for the run in progress to end)."""
        return self._timer.isActive() or self._again

    def schedule(self) -> None:
        """Write the files shortly, once changes stop; nothing when there are none."""
        if self._closed or not self._library.get_setting("autoexports"):
            return
        self._timer.start()

    def shutdown(self) -> None:
        """The window is closing: wait for a run, then write what is still pending here."""
        pending = self.pending
        self._closed = True
        self._timer.stop()
        self._again = False
        self._runner.wait()
        if pending and self._library.get_setting("autoexports"):
            # The window's connection is about to close; this is the last chance.
            self._library.run_autoexports()

    def _on_timer_timeout(self) -> None:
        if self._runner.running:
            self._again = True
            return
        self._runner.run(lambda library: library.run_autoexports(), self._on_run_done)

    def _on_run_done(self, results: list[tuple[str, str]] | None, error: str) -> None:
        if self._closed:
            return
        if self._again:
            self._again = False
            self._timer.start()
        self.finished.emit(results if not error else [("", f"error: {error}")])
