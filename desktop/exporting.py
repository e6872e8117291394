"""Export from the window: which papers and how (``ExportDialog``), or what a LaTeX document
cites (``AuxExportDialog``); then the file, the export in a worker (``Exporter``), and what
came of it.

The dialogs live in ``desktop/dialogs.py``; this module is the flow that drives them from
the window, so the window only says what is selected and shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from . import db, messages
from . import settings as opts
from .dialogs import EXPORT_FORMATS, AuxExportDialog, ExportDialog
from .hub import LibraryEvents
from .importer import Exporter
from .settings import Settings

#: Cited keys named in the result box; the rest are in its details.
MISSING_SHOWN = 30


def _entries(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _keys(n: int) -> str:
    return f"{n} cited key{'s' if n != 1 else ''}"


class ExportFlow(QObject):
    """The window's two exports, from the dialog to the message that says how it went.

    ``exporter`` runs them off the GUI thread; dialogs and messages belong to ``window``.
    """

    def __init__(
        self,
        library: db.Library,
        settings: Settings,
        window: QWidget,
        status: QStatusBar,
        events: LibraryEvents,
    ) -> None:
        super().__init__(window)
        self._library = library
        self._events = events
        self._settings = settings
        self._window = window
        self._status = status
        self.exporter = Exporter(library, window)
        self.exporter.finished.connect(self._on_exporter_finished)
        self.exporter.aux_finished.connect(self._on_exporter_aux_finished)

    def export(
        self, selected: Sequence[int], view: db.Query, view_label: str, current_tag: str | None
    ) -> None:
        """Ask which papers and how, then where; the view is what the window shows."""
        dialog = ExportDialog(
            self._library,
            selected,
            view,
            view_label,
            current_tag,
            self._window,
            settings=self._settings,
            default_profile=self._settings.get(opts.EXPORT_PROFILE),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(
            lambda: self._export(
                dialog.query(),
                dialog.suggested_name(),
                dialog.profile_choice(),
                dialog.keep_encoding.isChecked(),
                dialog.format_choice(),
            )
        )
        dialog.open()

    def export_aux(self) -> None:
        """Ask for a document's .aux file, then where and how to write what it cites."""
        aux, _ = QFileDialog.getOpenFileName(
            self._window,
            "Export entries cited in .aux",
            opts.start_folder(self._settings),
            "LaTeX aux files (*.aux);;All files (*)",
        )
        if not aux:
            return
        opts.remember_folder(self._settings, aux)
        dialog = AuxExportDialog(
            self._library,
            aux,
            self._settings.get(opts.EXPORT_PROFILE),
            self._window,
            settings=self._settings,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._export_aux(dialog))
        dialog.open()

    def shutdown(self) -> None:
        """Let running exports finish (the window is closing)."""
        self.exporter.shutdown()

    def _nothing_to_export(self, why: str) -> None:
        """Say that there is nothing to write, and write nothing (no file of bare macros)."""
        messages.notify(
            self._window,
            "Nothing to export.",
            informative=why,
            title="Export",
            name="exportNothing",
            window_modal=True,
        )

    def _export(
        self,
        query: db.Query,
        suggested: str,
        profile: str = "",
        keep_encoding: bool = False,
        fmt: str = "bibtex",
    ) -> None:
        if query != db.Query() and self._library.count(query) == 0:
            self._nothing_to_export("No paper is in what you chose to export; no file was written.")
            return
        spec = EXPORT_FORMATS[fmt]
        start = str(Path(opts.start_folder(self._settings)) / suggested)
        path, _ = QFileDialog.getSaveFileName(
            self._window,
            f"Export {spec.name}",
            start,
            f"{spec.name} files (*{spec.suffix});;All files (*)",
        )
        if not path:
            return
        if not Path(path).suffix:
            path += spec.suffix
        opts.remember_folder(self._settings, path)
        self._status.showMessage(f"Exporting to {path}…")
        if fmt == "bibtex":
            self.exporter.export(path, query, profile, keep_encoding)
        else:
            self.exporter.export_other(path, fmt, query)

    def _export_aux(self, dialog: AuxExportDialog) -> None:
        aux, dest, profile = dialog.aux_path, dialog.output_path(), dialog.profile_choice()
        if dialog.nothing_to_export():
            name = Path(aux).name
            self._nothing_to_export(
                f"The library has none of the keys {name} cites; no file was written."
                if dialog.cited.keys
                else f"{name} cites no keys (run LaTeX on the document first)."
            )
            return
        if dialog.keep_current.isChecked():
            try:
                changes = self._library.add_autoexport(dest, aux=aux, profile=profile or None)
                self._events.changed.emit(changes)
            except db.LibraryError as exc:
                messages.warn(self._window, "Auto-export", f"{dest} will not be kept current.", exc)
        self._status.showMessage(f"Exporting the entries {Path(aux).name} cites…")
        self.exporter.export_aux(aux, dest, profile)

    def _on_exporter_finished(self, path: str, n: int, error: str) -> None:
        if error:
            self._status.clearMessage()
            messages.warn(self._window, "Export", "Nothing was exported.", error)
            return
        self._status.showMessage(f"Exported {_entries(n)} to {path}", 8000)

    def _on_exporter_aux_finished(self, path: str, n: int, missing: list[str], error: str) -> None:
        """Say what was written and name every cited key the library lacks."""
        name = Path(path).name
        title = "Export entries cited in .aux"
        if error:
            self._status.clearMessage()
            messages.notify(
                self._window,
                "Nothing was exported.",
                informative=error,
                title=title,
                name="auxExportResult",
                window_modal=True,
            )
            return
        text = f"Wrote {_entries(n)} to {name}."
        icon = messages.Icon.Information
        self._status.showMessage(f"Exported {_entries(n)} to {path}", 8000)
        if missing:
            icon = messages.Icon.Warning
            more = len(missing) - MISSING_SHOWN
            keys = ", ".join(missing[:MISSING_SHOWN]) + (f", … and {more} more" if more > 0 else "")
            text += f"\n\nThe library has no entry for {_keys(len(missing))}:\n{keys}"
            self._status.showMessage(
                f"Exported {_entries(n)} to {path}; {_keys(len(missing))} not in the library",
                12000,
            )
        messages.notify(
            self._window,
            text,
            title=title,
            icon=icon,
            detailed="\n".join(missing) if len(missing) > MISSING_SHOWN else "",
            name="auxExportResult",
            window_modal=True,
        )
