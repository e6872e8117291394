"""BibTeX in and out of the window: import (files, drops, pasted text) and export.

How an import is split (and why):

1. Parsing, the slow part (about 2 s per 10,000 entries), runs in a ``QThread`` worker that
   never touches the library or a widget; it hands back ``db.ParsedFile`` values.
2. Adding the parsed entries runs on the GUI thread, in one transaction, through
   ``Library.import_parsed``. Its ``cancelled`` callback moves the progress dialog, which
   (being modal) lets Qt handle the Cancel button; returning True rolls the whole
   transaction back, so a cancelled import leaves the library exactly as it was. Keeping
   every library write on the GUI thread means the one SQLite connection is never used by
   two threads at once; the window stops its own timers that write (notes are flushed and
   the change poll is paused) for the few seconds this takes.
3. A finished import is pushed as one ``ImportCommand``, so Undo removes it in one step,
   and a report dialog lists what was added, skipped as duplicate, and what failed where.

An export only reads, so it runs wholly in a worker thread over its own SQLite connection
(WAL lets it read a consistent snapshot while the window goes on; see
``desktop/background.py``); the window hears how many entries were written, or why nothing
was. Dialects and profiles are the library's (``Library.profile``); nothing is converted here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QProgressDialog, QWidget

import db
from desktop import commands
from desktop.background import TaskRunner
from desktop.commands import ImportCommand
from desktop.dialogs import ImportReportDialog
from desktop.hub import LibraryEvents


class ParseWorker(QObject):
    """Parses .bib files or text in a worker thread; knows nothing of the library.

    Signals:
        file_started(int, str): parsing of the n-th file (from 0) began.
        parsed(object, object): the list of ``db.ParsedFile`` and of ``db.Failure`` for
            files that could not be read at all.
    """

    file_started = Signal(int, str)
    parsed = Signal(object, object)

    def __init__(self, paths: Sequence[str] = (), text: str | None = None,
                 name: str = "pasted text") -> None:
        super().__init__()
        self._paths = list(paths)
        self._text = text
        self._name = name

    def run(self) -> None:
        files: list[db.ParsedFile] = []
        failures: list[db.Failure] = []
        if self._text is not None:
            files.append(db.parse_text(self._text, self._name))
        for i, path in enumerate(self._paths):
            self.file_started.emit(i, path)
            try:
                files.append(db.parse_file(path))
            except db.LibraryError as exc:
                failures.append(db.Failure(str(path), 0, str(exc).split(": ", 1)[-1]))
            except (OSError, UnicodeError, ValueError) as exc:
                failures.append(db.Failure(str(path), 0, f"cannot be read: {exc}"))
        self.parsed.emit(files, failures)


class Importer(QObject):
    """Runs one import at a time for the window.

    Signals:
        started(): an import began (the window pauses what could write meanwhile).
        progressed(int, int): entries added so far and in all, while adding.
        finished(object): the ``db.ImportReport``, or None when the import was cancelled.
    """

    started = Signal()
    progressed = Signal(int, int)
    finished = Signal(object)

    def __init__(self, library: db.Library, events: LibraryEvents, undo_stack: QUndoStack,
                 window: QWidget, before_write: Callable[[], None] | None = None) -> None:
        super().__init__(window)
        self._library = library
        self._events = events
        self._undo_stack = undo_stack
        self._window = window
        self._before_write = before_write
        # Parse threads still winding down, with their workers (kept alive until finished).
        self._jobs: list[tuple[QThread, ParseWorker]] = []
        self._names: list[str] = []
        self._show_report_always = True
        self.progress: QProgressDialog | None = None
        self.report_dialog: ImportReportDialog | None = None
        self.last_report: db.ImportReport | None = None

    @property
    def running(self) -> bool:
        return self.progress is not None

    def import_files(self, paths: Sequence[str | Path]) -> bool:
        """Start importing these files; False if another import is still running."""
        paths = [str(p) for p in paths]
        if not paths or self.running:
            return False
        self._names = [Path(p).name for p in paths]
        self._show_report_always = True
        self._start(ParseWorker(paths=paths))
        return True

    def import_text(self, text: str, name: str = "pasted text") -> bool:
        """Start importing BibTeX text (the clipboard); the report shows only on trouble."""
        if not text.strip() or self.running:
            return False
        self._names = [name]
        self._show_report_always = False
        self._start(ParseWorker(text=text, name=name))
        return True

    def cancel(self) -> None:
        if self.progress is not None:
            self.progress.cancel()

    def shutdown(self) -> None:
        """Wait for a parse still running (the window is closing)."""
        self.cancel()
        for thread, _worker in self._jobs:
            thread.quit()
            thread.wait()
        self._on_thread_finished()

    # -- inside --------------------------------------------------------------------------------

    def _start(self, worker: ParseWorker) -> None:
        progress = QProgressDialog(self._window)
        progress.setObjectName("importProgress")
        progress.setWindowTitle("Import BibTeX")
        progress.setLabelText(f"Reading {', '.join(self._names[:3])}"
                              f"{'…' if len(self._names) > 3 else ''}")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setAutoReset(False)
        progress.setAutoClose(False)
        progress.setMinimumDuration(400)
        progress.setRange(0, 0)  # busy until the first entries are added
        self.progress = progress
        self.started.emit()
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.file_started.connect(self._on_worker_file_started)
        worker.parsed.connect(self._on_worker_parsed)
        worker.parsed.connect(thread.quit)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(self._on_thread_finished)
        self._jobs.append((thread, worker))
        thread.start()

    def _on_worker_file_started(self, index: int, path: str) -> None:
        if self.progress is not None and len(self._names) > 1:
            self.progress.setLabelText(f"Reading {Path(path).name} "
                                       f"({index + 1} of {len(self._names)})…")

    def _on_thread_finished(self) -> None:
        # The next import may have started before this thread wound down: drop only
        # the threads that are done.
        for job in [j for j in self._jobs if j[0].isFinished()]:
            self._jobs.remove(job)
            job[0].deleteLater()

    def _on_worker_parsed(self, files: list[db.ParsedFile],
                          failures: list[db.Failure]) -> None:
        progress = self.progress
        if progress is None or progress.wasCanceled():
            self._finish(None)
            return
        if self._before_write is not None:
            self._before_write()
        total = sum(len(f.entries) for f in files)
        progress.setLabelText(f"Adding {total} entries…")
        progress.setRange(0, max(total, 1))
        progress.setValue(0)
        step = max(1, total // 100)
        done = 0

        def cancelled() -> bool:
            nonlocal done
            done += 1
            if done % step == 0:
                progress.setValue(done)  # modal: lets Qt handle the Cancel button
                self.progressed.emit(done, total)
            return progress.wasCanceled()

        report = self._library.import_parsed(files, extra_failures=failures,
                                             cancelled=cancelled)
        if progress.wasCanceled():
            self._finish(None)
            return
        if report.changes:
            commands.push(self._undo_stack, ImportCommand(self._library, self._events, report),
                          self._window)
        self._finish(report)

    def _finish(self, report: db.ImportReport | None) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.last_report = report
        if report is not None and (self._show_report_always or report.failures
                                   or report.duplicates):
            if self.report_dialog is not None:
                self.report_dialog.deleteLater()
            self.report_dialog = ImportReportDialog(report, self._window)
            self.report_dialog.open()
        self.finished.emit(report)


class Exporter(QObject):
    """Runs the window's exports, each in its own thread over its own connection.

    A profile is given by name ('' writes the entries as stored); the worker looks it up
    in its own connection, so a profile saved a moment ago is there.

    Signals:
        finished(str, int, str): the file, entries written, and an error ('' if none).
        aux_finished(str, int, object, str): the file, entries written, the cited keys the
            library lacks (a list), and an error ('' if none).
    """

    finished = Signal(str, int, str)
    aux_finished = Signal(str, int, object, str)

    def __init__(self, library: db.Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = TaskRunner(library.path, self)

    @property
    def running(self) -> bool:
        return self._runner.running

    def export(self, dest: str, query: db.Query, profile: str = "") -> None:
        def job(library: db.Library) -> int:
            return library.export(dest, query, library.profile(profile) if profile else None)

        self._runner.run(job, lambda n, error: self.finished.emit(dest, n or 0, error))

    def export_aux(self, aux: str, dest: str, profile: str = "") -> None:
        def job(library: db.Library) -> tuple[int, list[str]]:
            return library.export_aux(aux, dest,
                                      library.profile(profile) if profile else None)

        def done(result: tuple[int, list[str]] | None, error: str) -> None:
            n, missing = result if result is not None else (0, [])
            self.aux_finished.emit(dest, n, missing, error)

        self._runner.run(job, done)

    def shutdown(self) -> None:
        """Let running exports finish (the window is closing)."""
        self._runner.wait()
