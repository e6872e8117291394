"""BibTeX in and out of the window: import (files, drops, pasted text) and export.

How an import runs (and why):

1. The whole import runs in a worker thread over a connection of its own
   (``Library.open(path, seed=False)``, through ``desktop/background.py``'s ``TaskRunner``):
   files through ``Library.import_files``, which streams them, parses them on every core
   (worker processes, started from a forkserver since this process has threads) and adds
   them in one transaction; text (a paste, a drop) is parsed with ``db.parse_text`` in the
   worker and added through ``Library.import_parsed``. The GUI thread never parses and never
   writes, so it stays responsive however large the file. It still shares the GIL with the
   worker: Python's garbage collector is frozen for the import (``gc.freeze``), since a full
   collection, which the worker's allocations trigger, walks every object in the process
   with the GIL held (80-130 ms with the window's objects).
2. The worker touches no widget. Its ``progress(done, total)`` callback (bytes of the files,
   characters of the text) emits a signal that is queued to the GUI thread, which moves the
   progress dialog. Cancel only sets a ``threading.Event``; the engine polls it between
   entries and rolls its transaction back, so a cancelled import leaves the library exactly
   as it was. The dialog stays up, saying "Cancelling…", until the worker has stopped. A
   Cancel that comes after the worker committed is too late: the import stands, undoable.
3. While the worker holds the write transaction, the window must not write (its connection
   would wait on the lock): notes and fields typed just before are flushed first
   (``before_write``), the window pauses its change poll (``started``), and the progress
   dialog is window-modal. It shows at once unless the input is small (under
   ``QUICK_BYTES``), when the whole import takes a few milliseconds and a write from the
   window would merely wait for it.
4. When the worker is done, the window's connection sees the new rows (WAL). The import is
   pushed as one ``ImportCommand`` that announces ``report.changes`` to the views, so Undo
   removes it in one step and Redo restores it; then, each in a later event so the window
   can paint and take input in between (each costs tens of milliseconds with 100,000
   papers), the report dialog lists what was added, skipped as duplicate, and what failed
   where, and ``finished`` lets the window select the new papers. An error in the worker
   (a locked or damaged library, a bug) is a message, and the library is unchanged (the
   transaction is rolled back). Closing the window cancels a running import and waits for
   its thread (:meth:`Importer.shutdown`).

An export only reads, so it runs wholly in a worker thread over its own SQLite connection
(WAL lets it read a consistent snapshot while the window goes on; see
``desktop/background.py``); the window hears how many entries were written, or why nothing
was. Dialects and profiles are the library's (``Library.profile``); nothing is converted here.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import (
    SIGNAL,
    SLOT,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QCloseEvent, QGuiApplication, QUndoStack
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFileDialog,
    QListView,
    QProgressDialog,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from . import commands, db, dialogs, messages
from .background import Job, TaskRunner
from .commands import ImportCommand
from .geometry import PreserveGeometry
from .hub import LibraryEvents
from .settings import Settings

#: Inputs smaller than this (a pasted entry, a short file) are imported in a few
#: milliseconds: the progress dialog waits ``SHOW_AFTER_MS`` before showing, so it does not
#: flash. Anything larger shows it at once, so the window is blocked while the worker holds
#: the write transaction.
QUICK_BYTES = 64 << 10
SHOW_AFTER_MS = 400
#: Steps of the progress bar (progress comes in bytes, which may not fit a Qt int).
PROGRESS_STEPS = 1000


class ImportProgressDialog(PreserveGeometry, QProgressDialog):
    """The import's progress. Cancel (the button, Esc, closing the dialog) only asks the
    worker to stop: the dialog stays up, window-modal, until it has.

    Signals:
        canceled(): as QProgressDialog's, for every way of asking to cancel.
    """

    def __init__(self, parent: QWidget, *, settings: Settings) -> None:
        super().__init__(parent)
        self.setObjectName("importProgress")
        # QProgressDialog hides itself on cancel; the window must stay blocked until the
        # worker has rolled back, so the dialog is hidden by the Importer instead.
        QObject.disconnect(self, SIGNAL("canceled()"), self, SLOT("cancel()"))
        self.restore_geometry(settings)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.canceled.emit()
        if event.spontaneous():
            event.ignore()  # its title bar's close button: stay up, "Cancelling…"
        else:
            event.accept()  # the application is quitting: the window waits for the worker


class Importer(QObject):
    """Runs one import at a time for the window, in a worker thread (module docstring).

    Signals:
        started(): an import began (the window pauses what could write meanwhile).
        progressed(object, object): work done so far and in all (bytes of the files, or
            characters of the text), as the worker reports it.
        finished(object): the ``db.ImportReport``, or None when the import was cancelled or
            failed (then ``last_error`` says why); the library is unchanged in both cases.
    """

    started = Signal()
    progressed = Signal(object, object)
    finished = Signal(object)
    # Emitted from the worker thread; queued to the GUI thread (see __init__).
    _worker_progressed = Signal(object, object)

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        window: QWidget,
        before_write: Callable[[], None] | None = None,
        *,
        settings: Settings,
    ) -> None:
        super().__init__(window)
        self._library = library
        self._settings = settings
        self._events = events
        self._undo_stack = undo_stack
        self._window = window
        self._before_write = before_write
        self._runner = TaskRunner(library.path, self)
        self._cancel = threading.Event()
        self._worker_progressed.connect(
            self._on_worker_progressed, Qt.ConnectionType.QueuedConnection
        )
        self._names: list[str] = []
        self._show_report_always = True
        self.progress: ImportProgressDialog | None = None
        self.report_dialog: ImportReportDialog | None = None
        self.last_report: db.ImportReport | None = None
        self.last_error = ""
        self._running = False
        self._generation = 0  # which import a delayed step belongs to

    @property
    def running(self) -> bool:
        """From the start of an import until ``finished`` (the window stays paused)."""
        return self._running

    def import_files(self, paths: Sequence[str | Path]) -> bool:
        """Start importing these files; False if another import is still running."""
        paths = [str(p) for p in paths]
        if not paths or self.running:
            return False
        self._names = [Path(p).name for p in paths]
        self._show_report_always = True
        progress, cancelled = self._worker_progressed.emit, self._new_cancel_flag()

        def job(library: db.Library) -> db.ImportReport:
            return library.import_files(paths, progress=progress, cancelled=cancelled)

        self._start(job, sum(_size(p) for p in paths))
        return True

    def import_text(self, text: str, name: str = "pasted text") -> bool:
        """Start importing BibTeX text (the clipboard); the report shows only on trouble."""
        if not text.strip() or self.running:
            return False
        self._names = [name]
        self._show_report_always = False
        progress, cancelled = self._worker_progressed.emit, self._new_cancel_flag()

        def job(library: db.Library) -> db.ImportReport:
            parsed = db.parse_text(text, name)
            return library.import_parsed([parsed], progress=progress, cancelled=cancelled)

        self._start(job, len(text))
        return True

    def cancel(self) -> None:
        """Ask the running import to stop; ``finished`` follows once it has rolled back."""
        if self.progress is None or self._cancel.is_set():
            return
        self._cancel.set()
        self.progress.setLabelText("Cancelling…")
        self.progress.setRange(0, 0)
        button = self.progress.findChild(QPushButton)
        if button is not None:
            button.setEnabled(False)

    def shutdown(self) -> None:
        """Cancel a running import and wait for its thread (the window is closing).

        Nothing is announced: the result, if the worker committed before it saw the
        cancel, stays in the library, but no view or undo step is left to hear of it.
        """
        self._cancel.set()
        self._runner.wait()
        self._close_progress()
        self._running = False

    # -- inside --------------------------------------------------------------------------------

    def _new_cancel_flag(self) -> Callable[[], bool]:
        # One flag per import: a worker still winding down never sees the next one's.
        self._cancel = threading.Event()
        return self._cancel.is_set

    def _start(self, job: Job, size: int) -> None:
        self.last_error = ""
        self._running = True
        self._generation += 1
        # Collections the worker triggers leave out the objects already here (module
        # docstring, 1); unfrozen when the progress dialog closes.
        gc.freeze()
        if self._before_write is not None:
            # Now, on this connection: from here on the worker holds the write lock.
            self._before_write()
        progress = ImportProgressDialog(self._window, settings=self._settings)
        progress.setWindowTitle("Import BibTeX")
        progress.setLabelText(
            f"Importing {', '.join(self._names[:3])}{'…' if len(self._names) > 3 else ''}"
        )
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setAutoReset(False)
        progress.setAutoClose(False)
        progress.setRange(0, 0)  # busy until the worker reports progress
        progress.canceled.connect(self._on_progress_canceled)
        self.progress = progress
        if size >= QUICK_BYTES:
            progress.setMinimumDuration(0)
            progress.show()
        else:
            progress.setMinimumDuration(SHOW_AFTER_MS)
        self.started.emit()
        self._runner.run(job, self._on_job_done)

    def _on_progress_canceled(self) -> None:
        self.cancel()

    def _on_worker_progressed(self, done: int, total: int) -> None:
        progress = self.progress
        if progress is None or self._cancel.is_set() or total <= 0:
            return
        self.progressed.emit(done, total)
        if self.progress is not progress or self._cancel.is_set():
            return  # a slot of progressed cancelled the import
        if progress.maximum() != PROGRESS_STEPS:
            progress.setRange(0, PROGRESS_STEPS)
        # Last: a modal QProgressDialog processes events in setValue.
        progress.setValue(min(PROGRESS_STEPS, done * PROGRESS_STEPS // total))

    def _on_job_done(self, report: db.ImportReport | None, error: str) -> None:
        if not self._running:
            return  # shut down meanwhile
        if error or report is None:
            self.last_error = error or "the import returned nothing"
            self._close_progress()
            self._show_failure(self.last_error)
            self._finish(None)
            return
        if self._cancel.is_set() and not report.changes:
            self._close_progress()
            self._finish(None)  # rolled back
            return
        if report.changes:
            # The worker committed; this connection reads the new rows. The command only
            # announces them (its first redo writes nothing) and makes them undoable.
            commands.push(
                self._undo_stack, ImportCommand(self._library, self._events, report), self._window
            )
        self._later(self._show_report, report)

    def _later(self, step: Callable[[db.ImportReport], None], report: db.ImportReport) -> None:
        """Run the next step of finishing in a later event: with 100,000 new papers each
        step (the views reading them, the report, the window selecting them) takes tens of
        milliseconds, and the window handles input and paints in between. A 1 ms timer:
        ``singleShot(0)`` is a queued call, which would run before timers already due."""
        generation = self._generation

        def run() -> None:
            if self._running and self._generation == generation:
                step(report)

        QTimer.singleShot(1, self, run)

    def _show_report(self, report: db.ImportReport) -> None:
        self._close_progress()
        if self._show_report_always or report.failures or report.duplicates:
            if self.report_dialog is not None:
                self.report_dialog.deleteLater()
            self.report_dialog = ImportReportDialog(report, self._window, settings=self._settings)
            self.report_dialog.open()
        self._later(self._finish, report)

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.hide()
            self.progress.deleteLater()
            self.progress = None
            gc.unfreeze()

    def _finish(self, report: db.ImportReport | None) -> None:
        self._running = False
        self.last_report = report
        self.finished.emit(report)

    def _show_failure(self, error: str) -> None:
        messages.notify(
            self._window,
            "The import failed; the library is unchanged.",
            informative=error,
            name="importFailed",
        )


def report_text(report: db.ImportReport) -> str:
    """The whole report as plain text: for the clipboard, a .txt file, a bug report."""
    names = ", ".join(report.files) or "pasted text"
    lines = [f"Imported {names}", report.summary(), ""]
    for title, items in (
        ("Failed", [str(f) for f in report.failures]),
        ("Warnings", report.warnings),
        ("Duplicates (skipped)", report.duplicates),
        ("Added", report.added),
    ):
        lines.append(f"{title} ({len(items)}):")
        lines += [f"  {item}" for item in items]
        lines.append("")
    return "\n".join(lines)


class _WrappingDelegate(QStyledItemDelegate):
    """Wraps an item's text at its column's width.

    A tree view asks its delegate for a row's height with no width (Qt's shortcut), so its
    own ``wordWrap`` never makes a row taller: this gives the delegate the column's width.
    """

    def __init__(self, view: QTreeView) -> None:
        super().__init__(view)
        self._view = view
        view.header().sectionResized.connect(self._on_header_section_resized)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        opt = QStyleOptionViewItem(option)
        # A valid rect (a height too) of the column's width: the style wraps text in it.
        opt.rect = QRect(0, 0, self._view.columnWidth(index.column()), opt.fontMetrics.height())
        return super().sizeHint(opt, index)

    def _on_header_section_resized(self, section: int, old: int, new: int) -> None:
        self._view.doItemsLayout()  # the rows' heights follow the new width


class ImportReportDialog(dialogs.ImportReportDialog):
    """The import report, with whole messages (wrapped, never cut) and the report as text.

    Copy all puts :func:`report_text` on the clipboard; Save… writes it to a .txt file.
    It can be resized (a size grip shows it) and opens at the size it was last left at.
    """

    #: Lists of long messages are wrapped; "Added" (keys, up to every entry of a large
    #: file) keeps uniform rows, which cost nothing to lay out.
    WRAPPED_LISTS = ("importDuplicates", "importWarnings")

    def __init__(
        self, report: db.ImportReport, parent: QWidget | None = None, *, settings: Settings
    ) -> None:
        super().__init__(report, parent, settings=settings)
        self.setSizeGripEnabled(True)
        self.failures.setWordWrap(True)
        self.failures.setUniformRowHeights(False)
        self.failures.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.failures.setItemDelegate(_WrappingDelegate(self.failures))
        for name in self.WRAPPED_LISTS:
            view = self.findChild(QListView, name)
            if view is not None:
                view.setUniformItemSizes(False)
                view.setWordWrap(True)
                view.setTextElideMode(Qt.TextElideMode.ElideNone)
                view.setResizeMode(QListView.ResizeMode.Adjust)
                view.setLayoutMode(QListView.LayoutMode.Batched)
        buttons = self.findChild(QDialogButtonBox)
        assert buttons is not None
        self.copy_button = buttons.addButton("Copy all", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setObjectName("copyImportReport")
        self.copy_button.setToolTip("Copy the whole report as text")
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        self.save_button = buttons.addButton("Save…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setObjectName("saveImportReport")
        self.save_button.setToolTip("Save the whole report as a text file")
        self.save_button.clicked.connect(self._on_save_button_clicked)

    def text(self) -> str:
        return report_text(self.report)

    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def _on_save_button_clicked(self) -> None:
        first = Path(self.report.files[0]) if self.report.files else None
        start = first.with_name(f"{first.stem}-import-report.txt") if first else "import-report.txt"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save import report", str(start), "Text files (*.txt);;All files (*)"
        )
        if not path:
            return
        try:
            Path(path).write_text(self.text(), encoding="utf-8")
        except OSError as exc:
            messages.warn(self, "Save import report", "The report could not be saved.", exc)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Exporter(QObject):
    """Runs the window's exports, each in its own thread over its own connection.

    A profile is given by name ('' writes the entries as stored); the worker looks it up
    in its own connection, so a profile saved a moment ago is there. CSL-JSON and RIS
    (:meth:`export_other`) report on ``finished`` as BibTeX does.

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

    def export(
        self, dest: str, query: db.Query, profile: str = "", keep_encoding: bool = False
    ) -> None:
        def job(library: db.Library) -> int:
            return library.export(
                dest,
                query,
                library.profile(profile) if profile else None,
                keep_encoding=keep_encoding,
            )

        self._runner.run(job, lambda n, error: self.finished.emit(dest, n or 0, error))

    def export_other(self, dest: str, fmt: str, query: db.Query) -> None:
        """Write another tool's format (``Library.OTHER_FORMATS``) as UTF-8, atomically."""

        def job(library: db.Library) -> int:
            text, n = library.export_other(fmt, query)
            db.write_export(dest, text.encode("utf-8"))
            return n

        self._runner.run(job, lambda n, error: self.finished.emit(dest, n or 0, error))

    def export_aux(self, aux: str, dest: str, profile: str = "") -> None:
        def job(library: db.Library) -> tuple[int, list[str]]:
            return library.export_aux(aux, dest, library.profile(profile) if profile else None)

        def done(result: tuple[int, list[str]] | None, error: str) -> None:
            n, missing = result if result is not None else (0, [])
            self.aux_finished.emit(dest, n, missing, error)

        self._runner.run(job, done)

    def shutdown(self) -> None:
        """Let running exports finish (the window is closing)."""
        self._runner.wait()
