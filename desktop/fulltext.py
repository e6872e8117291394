"""Full text in the window: reading attached PDFs in the background, and showing hits.

:class:`FulltextIndexer` runs ``Library.index_fulltext`` in a process of its own over its
own connection (``db.index_apart``), watched by a thread here; PDFium reads the files in
that process's workers, so the GUI thread only receives progress signals. Each file's
pages are committed as they arrive, so the window's edits wait a few milliseconds at most.
:class:`FulltextProgress` is its face in the status bar (file count and a Cancel button);
:class:`FulltextHits` lists the pages of the selected paper's files that match the search,
each opening its file at that page where the viewer allows (a ``#page=N`` fragment:
browsers and some PDF viewers follow it, xdg-open drops it and opens the file).
"""

from __future__ import annotations

import html
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import db
from .background import guarded

log = logging.getLogger(__name__)


class _IndexThread(QThread):
    """One indexing run over its own library connection.

    Signals:
        progressed(int, int, str): files done, files to do, the file just read.
        ended(object, str): the FulltextReport (None on error) and an error ('' if none).
    """

    progressed = Signal(int, int, str)
    ended = Signal(object, str)

    def __init__(self, library_path: Path, rebuild: bool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library_path = library_path
        self.rebuild = rebuild
        self.cancel = threading.Event()

    def run(self) -> None:
        # The work is done in a process of its own (db/indexjob.py): here the thread only
        # waits on its pipe, so the window's thread never waits for the interpreter lock.
        report, error = guarded(
            lambda: db.index_apart(
                self.library_path, self.rebuild, progress=self.progressed.emit, cancel=self.cancel
            )
        )
        self.ended.emit(report, error)


class FulltextIndexer(QObject):
    """Keeps the full-text index up to date: a run at a time; asked again while one runs, it
    runs once more after it (new files attached meanwhile).

    Signals:
        progressed(int, int, str): as :class:`_IndexThread`'s.
        finished(object, str): the report of a run (None if it failed) and an error.
    """

    progressed = Signal(int, int, str)
    finished = Signal(object, str)

    def __init__(self, library_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library_path = Path(library_path)
        self._thread: _IndexThread | None = None
        self._again: bool | None = None  # None: no run asked for; else its rebuild flag

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, rebuild: bool = False) -> None:
        """Read the text of the files not read yet (every file: ``rebuild``)."""
        if self._thread is not None:
            self._again = bool(self._again) or rebuild
            return
        thread = _IndexThread(self.library_path, rebuild, self)
        thread.progressed.connect(self.progressed)
        thread.ended.connect(self._on_thread_ended)
        thread.finished.connect(thread.deleteLater)
        self._thread = thread
        thread.start()

    def cancel(self) -> None:
        """Stop after the file being written (what was read stays indexed)."""
        self._again = None
        if self._thread is not None:
            self._thread.cancel.set()

    def wait(self) -> None:
        """Cancel and wait for the run (the window is closing)."""
        thread = self._thread
        if thread is not None:
            thread.cancel.set()
            thread.wait()
            self._thread = None

    def _on_thread_ended(self, report: object, error: str) -> None:
        thread = self._thread
        if thread is not None:
            thread.wait()
        self._thread = None
        self.finished.emit(report, error)
        if self._again is not None:
            rebuild, self._again = self._again, None
            self.start(rebuild)


class FulltextProgress(QWidget):
    """The status bar's line while PDFs are read: how many, which, and Cancel.

    Signals:
        cancel_requested(): the user pressed Cancel.
    """

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setMaximumWidth(140)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop reading PDFs (what was read stays searchable)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def show_progress(self, done: int, total: int, name: str) -> None:
        if total == 0:
            return
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.label.setText(f"Reading PDFs for search: {done} of {total}")
        self.setToolTip(name)
        self.show()


class FulltextHits(QWidget):
    """Where the search's words are in the selected paper's files: page and snippet.

    Signals:
        open_requested(int, int): attachment id and page to open.
    """

    open_requested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.hits: list[db.FulltextHit] = []
        self.hide()

    def show_hits(self, hits: list[db.FulltextHit]) -> None:
        """List these hits (none: hide)."""
        self.hits = list(hits)
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        if not hits:
            self.hide()
            return
        title = QLabel("<b>Found in the PDF</b>", self)
        self._layout.addWidget(title)
        for n, hit in enumerate(hits):
            parts = "".join(
                f"<b>{html.escape(text)}</b>" if match else html.escape(text)
                for text, match in hit.segments()
            )
            label = QLabel(
                f'<a href="hit:{n}">{html.escape(hit.name)}, p. {hit.page}</a>: {parts}', self
            )
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
            label.linkActivated.connect(self._on_link_activated)
            label.setObjectName(f"fulltext_hit_{n}")
            self._layout.addWidget(label)
        self.show()

    def _on_link_activated(self, link: str) -> None:
        hit = self.hits[int(link.partition(":")[2])]
        self.open_requested.emit(hit.attachment_id, hit.page)
