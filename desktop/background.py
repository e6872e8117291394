"""Long work off the GUI thread, each job over its own connection to the library file.

The window's ``db.Library`` belongs to the GUI thread: edits are written there. Jobs that
only read the library (exports, auto-exports, backups) run in a ``QThread`` that opens the
same file again (``Library.open(path, seed=False)``) and closes it when done. SQLite's WAL
mode gives that connection a consistent snapshot while the window goes on editing, so an
edit never waits for an export. The one job that writes is an import
(``desktop/importer.py``): it holds the write transaction while it runs, so the window
blocks editing meanwhile and announces the new rows itself afterwards. A job never touches
a widget; its result comes back as a queued signal and is handled on the GUI thread (as
Picard's ``util/thread.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from . import db

log = logging.getLogger(__name__)

#: A job: given its own open library, returns a result for the GUI thread.
Job = Callable[[db.Library], Any]
#: Called on the GUI thread with the job's result and an error message ('' when it worked).
Done = Callable[[Any, str], None]


#: What a job may fail with that is the world's doing, not Citedesk's (said as it is).
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (db.LibraryError, OSError, ValueError)


def guarded(
    work: Callable[[], Any], expected: tuple[type[BaseException], ...] = EXPECTED_ERRORS
) -> tuple[Any, str]:
    """Run work off the GUI thread: (its result, '') or (None, a message for the window).

    An unexpected exception is a bug: it is logged with its traceback and said so, and the
    window stays alive.
    """
    try:
        return work(), ""
    except expected as exc:
        return None, str(exc)
    except Exception as exc:
        log.exception("background job failed")
        return None, f"Citedesk hit a bug ({type(exc).__name__}: {exc}); please report it"


class _Task(QThread):
    """One job in a thread of its own; the thread ends when the job does (no event loop).

    Signals:
        done(object, object, str): this task, the job's result and an error ('' if none).
    """

    done = Signal(object, object, str)

    def __init__(self, library_path: Path, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library_path = library_path
        self._job = job

    def run(self) -> None:
        def work() -> Any:
            library = db.Library.open(self._library_path, seed=False)
            try:
                return self._job(library)
            finally:
                library.close(optimize=False)  # the window optimizes on closing

        result, error = guarded(work)
        self.done.emit(self, result, error)


class TaskRunner(QObject):
    """Starts jobs in threads of their own and hands results back on the GUI thread."""

    def __init__(self, library_path: str | Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library_path = Path(library_path)
        self._waiting: dict[_Task, Done] = {}  # result not yet delivered
        self._tasks: set[_Task] = set()  # thread not yet finished

    @property
    def running(self) -> bool:
        return bool(self._waiting)

    def run(self, job: Job, done: Done) -> None:
        task = _Task(self._library_path, job, self)
        # The task object lives on the GUI thread and emits from its worker thread:
        # calls to these slots are queued, so ``done`` runs on the GUI thread.
        task.done.connect(self._on_task_done)
        task.finished.connect(self._on_task_finished)
        self._waiting[task] = done
        self._tasks.add(task)
        task.start()

    def wait(self) -> None:
        """Block until every job has finished (the window is closing); results are dropped."""
        for task in list(self._tasks):
            task.wait()
        self._waiting.clear()

    def _on_task_done(self, task: _Task, result: Any, error: str) -> None:
        done = self._waiting.pop(task, None)
        if done is not None:
            done(result, error)

    def _on_task_finished(self) -> None:
        task = self.sender()
        if isinstance(task, _Task) and task in self._tasks:
            self._tasks.discard(task)
            task.deleteLater()
