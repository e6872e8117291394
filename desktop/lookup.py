"""Papers by their identifiers in the window: Add by Identifier and Refresh from Sources.

A lookup (``db.lookup.Lookup``) waits for servers, so it runs in a thread of its own
(:class:`LookupTask`); it never touches a widget or the library's connection. Its results
come back as queued signals, and everything that reads or writes the library (previews,
the response cache, adding, refreshing) happens on the GUI thread, as with
``desktop/attachments.py``'s ``PdfAdder``. :class:`Lookups` owns the running tasks and opens
the two dialogs (``lookupdialog.py``, ``refreshdialog.py``); the window only wires it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QDialog, QWidget

from . import db
from .background import guarded
from .db import Identifier
from .hub import LibraryEvents
from .settings import Settings

if TYPE_CHECKING:  # the lookup modules (httpx) load with the first lookup
    from .db import Lookup, Outcome

log = logging.getLogger(__name__)

#: What a task's ``done`` says when it was cancelled.
CANCELLED = "cancelled"
#: Seconds the window waits, when closing, for a lookup to notice it was cancelled.
SHUTDOWN_WAIT_S = 5
#: progress(done, total, outcome), called from the lookup's own threads.
Progress = Callable[[int, int, "Outcome"], None]
#: A job: given the lookup and a progress callback, returns a result for the GUI thread.
Job = Callable[["Lookup", Progress], Any]

_KIND_WORDS = {
    "doi": ("DOI", "DOIs"),
    "arxiv": ("arXiv id", "arXiv ids"),
    "isbn": ("ISBN", "ISBNs"),
}


def describe_identifiers(ids: Iterable[Identifier]) -> str:
    """ "3 identifiers found: 2 DOIs, 1 arXiv id" """
    counts: dict[str, int] = {}
    for ident in ids:
        counts[ident.kind] = counts.get(ident.kind, 0) + 1
    total = sum(counts.values())
    if not total:
        return "No identifier found yet: type or paste a DOI, an arXiv id or an ISBN."
    parts = [
        f"{n} {_KIND_WORDS[kind][n != 1]}"
        for kind in ("doi", "arxiv", "isbn")
        if (n := counts.get(kind, 0))
    ]
    return f"{total} identifier{'s' if total != 1 else ''} found: {', '.join(parts)}"


class LookupTask(QThread):
    """One lookup job in a thread of its own (no event loop; it ends with the job).

    Signals:
        progressed(int, int, object): done, total and the ``Outcome`` just finished.
        done(object, str): the job's result and '' ; or None and :data:`CANCELLED` or a
            message for people.
    """

    progressed = Signal(int, int, object)
    done = Signal(object, str)

    def __init__(self, lookup: Lookup, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lookup = lookup
        self._job = job

    def cancel(self) -> None:
        """Stop at the next request, wait or chunk (from the GUI thread)."""
        self.lookup.cancel()

    def run(self) -> None:
        def work() -> tuple[Any, str]:
            try:
                return self._job(self.lookup, self.progressed.emit), ""
            except db.LookupCancelled:
                return None, CANCELLED

        out, error = guarded(work)
        if out is None:
            self.done.emit(None, error)
        else:
            self.done.emit(*out)


class Lookups(QObject):
    """Starts lookup tasks and keeps what they fetched; opens the lookup dialogs.

    Each task's ``Lookup`` is made on the GUI thread (it reads the library's settings);
    when the task's thread has ended its fresh answers go into the library's response
    cache and it is closed, here on the GUI thread.

    Signals:
        papers_chosen(object): paper ids the window should select (papers just added, or
            the paper a looked-up record already is).
        completed(str): what :meth:`complete_papers` did, for the status bar.
    """

    papers_chosen = Signal(object)
    completed = Signal(str)

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        settings: Settings,
        window: QWidget,
        flush: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(window)
        self.library = library
        self.events = events
        self.undo_stack = undo_stack
        self.settings = settings
        self.flush = flush
        self._window = window
        self._tasks: set[LookupTask] = set()
        #: Tasks completing papers made from PDFs, and the identifiers of each paper.
        self._completing: dict[object, dict[int, list[Identifier]]] = {}

    @property
    def running(self) -> bool:
        return any(t.isRunning() for t in self._tasks)

    def start(self, job: Job) -> LookupTask:
        """A task running ``job``; connect to its signals, it has started already."""
        task = LookupTask(self.library.lookup(), job, self)
        task.finished.connect(self._on_task_finished)
        self._tasks.add(task)
        task.start()
        return task

    def shutdown(self) -> None:
        """Close the lookup dialogs, cancel every lookup and wait for its thread (the
        window is closing)."""
        from .lookupdialog import AddByIdentifierDialog
        from .refreshdialog import RefreshDialog

        for dialog in self._window.findChildren(QDialog):
            if isinstance(dialog, AddByIdentifierDialog | RefreshDialog):
                dialog.reject()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            task.wait(SHUTDOWN_WAIT_S * 1000)
            self._finish(task)

    # -- the dialogs ------------------------------------------------------------------------

    def add_by_identifier(self, text: str = "", start: bool = False) -> QWidget:
        """Open Add by Identifier; with ``text`` filled in, and looked up at once if
        ``start``."""
        from .lookupdialog import AddByIdentifierDialog

        dialog = AddByIdentifierDialog(self, self._window)
        dialog.open()
        if text:
            dialog.set_text(text)
            if start:
                dialog.look_up()
        return dialog

    def look_up_text(self, text: str) -> None:
        """Identifiers pasted or dropped: open the dialog with them and look them up."""
        self.add_by_identifier(text, start=True)

    def refresh(self, paper_ids: list[int]) -> QWidget | None:
        """Open Refresh from Sources for these papers, one after another."""
        from .refreshdialog import RefreshDialog

        if not paper_ids:
            return None
        self.flush()
        dialog = RefreshDialog(self, paper_ids, self._window)
        dialog.open()
        dialog.start()
        return dialog

    def complete_papers(self, paper_ids: Iterable[int]) -> LookupTask | None:
        """Fill in papers made from PDFs from their sources: a PDF that gave a DOI or an
        arXiv id is looked up, and what the source says (title, authors, venue, type...)
        goes in as one undo step per paper, "Complete KEY from SOURCE". Papers with no
        identifier are left as the PDF made them."""
        wanted: dict[int, list[Identifier]] = {}
        for pid in paper_ids:
            try:
                ids = self.library.search_for(pid).identifiers
            except db.LibraryError:
                continue  # deleted meanwhile
            if ids:
                wanted[pid] = sorted(ids, key=lambda i: i.kind != "doi")
        if not wanted:
            return None
        every = [i for ids in wanted.values() for i in ids]

        def job(lookup: Lookup, progress: Progress) -> list[Outcome]:
            return lookup.run(every, progress)

        task = self.start(job)
        task.done.connect(lambda outcomes, error: self._on_completion_done(wanted, outcomes, error))
        return task

    def _on_completion_done(
        self, wanted: dict[int, list[Identifier]], outcomes: list[Outcome] | None, error: str
    ) -> None:
        from .commands import RefreshCommand, push

        if outcomes is None:
            if error != CANCELLED:
                self.completed.emit(f"Could not complete the papers from their PDFs: {error}")
            return
        by_id = {o.asked.key: o for o in outcomes}
        done: list[str] = []
        problems: list[str] = []
        for pid, ids in wanted.items():
            found = next(
                (o.found for i in ids if (o := by_id.get(i.key)) and o.found is not None), None
            )
            if found is None:
                errors = [o.error for i in ids if (o := by_id.get(i.key)) and o.error]
                problems += errors[:1]
                continue
            record = found.published or found
            try:
                diffs = self.library.refresh_diff(pid, record)
                key = self.library.paper(pid).key
            except db.LibraryError:
                continue  # deleted meanwhile
            if not diffs:
                continue
            command = RefreshCommand(self.library, self.events, pid, diffs)
            command.setText(f"Complete {key} from {record.source}")
            if push(self.undo_stack, command) is None:
                done.append(f"{key} from {record.source}")
        parts = []
        if done:
            parts.append(
                "Completed " + ", ".join(done[:3]) + (" and more" if len(done) > 3 else "")
            )
        if problems:
            parts.append("could not complete from the sources: " + problems[0])
        if parts:
            text = "; ".join(parts)
            self.completed.emit(text[0].upper() + text[1:] + ".")

    # -- tasks ------------------------------------------------------------------------------

    def _on_task_finished(self) -> None:
        task = self.sender()
        if isinstance(task, LookupTask):
            self._finish(task)

    def _finish(self, task: LookupTask) -> None:
        if task not in self._tasks:
            return
        self._tasks.discard(task)
        try:
            self.library.save_lookup_cache(task.lookup.fresh_answers)
        except db.LibraryError as exc:  # a locked library: the answers are only a cache
            log.warning("could not keep the lookup's answers: %s", exc)
        task.lookup.close()
        task.deleteLater()
