"""BibTeX into the window: the Import dialog, pasted text, dropped files and dropped text,
and what the status bar says when an import ends.

The import itself (a worker, its progress, the report, undo) is ``desktop/importer.py``'s
``Importer``; this module is what leads a person's files and text to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QMimeData, QObject, Signal
from PySide6.QtGui import QGuiApplication, QUndoStack
from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from . import db
from . import settings as opts
from .hub import LibraryEvents
from .importer import Importer
from .settings import Settings

BIB_SUFFIXES = (".bib", ".bibtex")
#: The start of a BibTeX entry (``@article{``, ``@misc (``): what makes a text BibTeX.
_ENTRY_START = re.compile(r"@\s*[A-Za-z]+\s*[{(]")


def holds_bibtex(text: str) -> bool:
    """Whether a text has a BibTeX entry in it (an e-mail address alone is not one)."""
    return _ENTRY_START.search(text) is not None


def dropped_bib_files(mime: QMimeData) -> list[str]:
    """The local .bib files among dropped URLs."""
    if not mime.hasUrls():
        return []
    return [
        u.toLocalFile()
        for u in mime.urls()
        if u.isLocalFile() and u.toLocalFile().lower().endswith(BIB_SUFFIXES)
    ]


def dropped_text(mime: QMimeData) -> str:
    """Dropped text (not files or links)."""
    return mime.text() if mime.hasText() and not mime.hasUrls() else ""


def dropped_bibtex_text(mime: QMimeData) -> str:
    """Dropped text that may hold BibTeX ('' if not)."""
    text = dropped_text(mime)
    return text if "@" in text else ""


def dropped_identifier_text(mime: QMimeData) -> str:
    """Dropped text with no BibTeX entry but DOIs, arXiv ids or ISBNs in it ('' if not)."""
    text = dropped_text(mime)
    return text if text and not holds_bibtex(text) and db.identifiers_in(text) else ""


class ImportFlow(QObject):
    """Files, pastes and drops into ``importer``, one import at a time.

    ``before_write`` runs just before the import's worker takes the write lock (the window
    saves what is being typed then).

    Signals:
        identifiers_found(str): pasted or dropped text holds no BibTeX entry but
            identifiers, to look up (Add by Identifier).
    """

    identifiers_found = Signal(str)

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        settings: Settings,
        window: QWidget,
        status: QStatusBar,
        before_write: Callable[[], None],
    ) -> None:
        super().__init__(window)
        self._settings = settings
        self._window = window
        self._status = status
        self.importer = Importer(
            library, events, undo_stack, window, before_write=before_write, settings=settings
        )
        self.importer.finished.connect(self._on_importer_finished)

    def import_chosen_files(self) -> None:
        """Ask for .bib files and import them."""
        paths, _ = QFileDialog.getOpenFileNames(
            self._window,
            "Import BibTeX",
            opts.start_folder(self._settings),
            "BibTeX files (*.bib *.bibtex);;All files (*)",
        )
        if paths:
            opts.remember_folder(self._settings, paths[0])
            self.importer.import_files(paths)

    def import_clipboard(self) -> None:
        """Import the clipboard's BibTeX; identifiers without BibTeX are looked up."""
        text = QGuiApplication.clipboard().text()
        if not holds_bibtex(text):
            if db.identifiers_in(text):
                self.identifiers_found.emit(text)
                return
            if "@" not in text:
                self._status.showMessage(
                    "The clipboard holds no BibTeX entry and no DOI, arXiv id or ISBN.", 5000
                )
                return
        self.importer.import_text(text, "clipboard")

    @staticmethod
    def can_import(mime: QMimeData) -> bool:
        """Whether a drop of this would import anything (.bib files, BibTeX text, or text
        with identifiers to look up)."""
        return bool(
            dropped_bib_files(mime) or dropped_bibtex_text(mime) or dropped_identifier_text(mime)
        )

    def import_dropped(self, mime: QMimeData) -> bool:
        """Import dropped .bib files, else dropped BibTeX text, else look up the
        identifiers of a dropped text; False if it was none of these."""
        files = dropped_bib_files(mime)
        if files:
            self.importer.import_files(files)
            return True
        ids_text = dropped_identifier_text(mime)
        if ids_text:
            self.identifiers_found.emit(ids_text)
            return True
        text = dropped_bibtex_text(mime)
        if text:
            self.importer.import_text(text, "dropped text")
            return True
        return False

    def _on_importer_finished(self, report: db.ImportReport | None) -> None:
        if report is None:
            # Rolled back: nothing of it was ever visible here.
            self._status.showMessage(
                "Import failed; the library is unchanged."
                if self.importer.last_error
                else "Import cancelled; the library is unchanged.",
                8000,
            )
        else:
            self._status.showMessage(f"Import: {report.summary()}.", 8000)
