"""The window's dialogs: import report, export, .aux export, new paper, an entry's BibTeX,
about.

Preferences live in ``desktop/preferences.py``, duplicates in ``desktop/duplicates.py``.

Dialogs that tests drive are opened with ``open()`` (window-modal, not blocking), so a test
can find them by object name and press their buttons like a person would. Each opens at the
size it was last left at (``desktop/geometry.py``), so each takes the window ``settings``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtGui import QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import db, messages
from .db import ExportProfile, read_aux
from .geometry import PreserveGeometry
from .settings import Settings
from .widgets import ErrorBar


def app_version() -> str:
    """The installed package's version: pyproject.toml is the one place it is written."""
    try:
        return version("citedesk")
    except PackageNotFoundError:  # run from a folder, never installed
        return "(not installed)"


def _noun(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def muted(label: QLabel) -> QLabel:
    """A label in the palette's quieter text colour, wrapping (hints and notes)."""
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


class ImportReportDialog(PreserveGeometry, QDialog):
    """What an import did: added, duplicates, failures with file and line, warnings."""

    def __init__(
        self, report: db.ImportReport, parent: QWidget | None = None, *, settings: Settings
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importReport")
        self.setWindowTitle("Import report")
        self.report = report
        names = ", ".join(Path(f).name for f in report.files) or "pasted text"
        headline = QLabel(f"<b>Imported {html.escape(names)}</b>")
        headline.setTextFormat(Qt.TextFormat.RichText)
        headline.setWordWrap(True)
        summary = QLabel(
            f"{_noun(len(report.added), 'paper')} added · "
            f"{_noun(len(report.duplicates), 'duplicate')} skipped · "
            f"{len(report.failures)} failed"
        )
        summary.setObjectName("importSummary")
        tabs = QTabWidget()
        self.failures = QTreeWidget()
        self.failures.setObjectName("importFailures")
        self.failures.setHeaderLabels(["File", "Line", "Problem"])
        self.failures.setRootIsDecorated(False)
        self.failures.setUniformRowHeights(True)
        for failure in report.failures:
            message = failure.message or "this entry could not be read as BibTeX"
            if failure.key and failure.key not in message:
                message = f"{failure.key}: {message}"
            item = QTreeWidgetItem([Path(failure.file).name, str(failure.line or ""), message])
            item.setToolTip(0, failure.file)
            item.setToolTip(2, message)
            self.failures.addTopLevelItem(item)
        self.failures.setColumnWidth(0, 160)
        self.failures.setColumnWidth(1, 50)
        tabs.addTab(self.failures, f"Failed ({len(report.failures)})")
        for title, lines in (
            ("Added", report.added),
            ("Duplicates", report.duplicates),
            ("Warnings", report.warnings),
        ):
            # A list model, not an item per line: 100,000 items cost the GUI thread 0.4 s.
            view = QListView()
            view.setObjectName(f"import{title}")
            view.setUniformItemSizes(True)
            view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
            view.setModel(QStringListModel(list(lines), view))
            tabs.addTab(view, f"{title} ({len(lines)})")
        if not report.failures:
            tabs.setCurrentIndex(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(headline)
        layout.addWidget(summary)
        layout.addWidget(tabs, 1)
        layout.addWidget(buttons)
        self.resize(640, 380)
        self.restore_geometry(settings)


# -- export profiles --------------------------------------------------------------------------

#: What the choices that are not saved profiles write, as people read them.
PROFILE_LABELS = {
    "": "As stored (lossless)",
    "bibtex": "BibTeX (ASCII)",
    "biblatex": "BibLaTeX (UTF-8)",
}
PROFILE_TIPS = {
    "": "Every entry exactly as it was imported (an edited one in a clean, stable layout); "
    "UTF-8; no field left out",
    "bibtex": 'For classic BibTeX: pure ASCII (ö as {\\"o}), biblatex types and fields mapped '
    "to classic ones; leaves out abstract, file and keywords",
    "biblatex": "For biblatex and biber: UTF-8, old keys as ids aliases; leaves out abstract, "
    "file and keywords",
}
DIALECT_NAMES = {"bibtex": "BibTeX", "biblatex": "BibLaTeX"}


def saved_profiles(library: db.Library) -> list[ExportProfile]:
    """The profiles saved in the library (not the built-in ones), by name."""
    return [library.profile(name) for name in library.profile_names() if name not in PROFILE_LABELS]


def describe_profile(profile: ExportProfile) -> str:
    """One line for a tooltip or a list: dialect, what is left out, the options."""
    parts = [
        DIALECT_NAMES[profile.dialect] + (" (ASCII)" if profile.dialect == "bibtex" else " (UTF-8)")
    ]
    parts.append(
        "leaves out " + ", ".join(profile.exclude) if profile.exclude else "leaves out nothing"
    )
    if profile.protect_capitals:
        parts.append("braces capitals in titles")
    if profile.page_dashes:
        parts.append("page ranges with --")
    return "; ".join(parts)


class ProfileCombo(QComboBox):
    """Chooses how entries are written: as stored, a built-in dialect, or a saved profile.

    Its value (:meth:`choice`) is '' for "as stored", else a profile name for
    ``Library.profile``.
    """

    def __init__(
        self, saved: Iterable[ExportProfile] = (), current: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.set_profiles(saved, current)

    def set_profiles(self, saved: Iterable[ExportProfile], current: str | None = None) -> None:
        """List these saved profiles; keep ``current`` (default: the present choice) if it is
        still there, else fall back to "as stored"."""
        wanted = self.choice() if current is None else current
        self.blockSignals(True)
        self.clear()
        for name, label in PROFILE_LABELS.items():
            self.addItem(label, name)
            self.setItemData(self.count() - 1, PROFILE_TIPS[name], Qt.ItemDataRole.ToolTipRole)
        saved = list(saved)
        if saved:
            self.insertSeparator(self.count())
        for profile in saved:
            self.addItem(f"{profile.name} — {DIALECT_NAMES[profile.dialect]}", profile.name)
            self.setItemData(
                self.count() - 1, describe_profile(profile), Qt.ItemDataRole.ToolTipRole
            )
        self.blockSignals(False)
        if not self.set_choice(wanted):
            self.set_choice("")

    def choice(self) -> str:
        data = self.currentData()
        return data if isinstance(data, str) else ""

    def set_choice(self, name: str) -> bool:
        index = self.findData(name)
        if index < 0:
            return False
        self.setCurrentIndex(index)
        return True


@dataclass(frozen=True)
class ExportFormat:
    """A file format the Export dialog writes: how it is named, filtered and suffixed."""

    label: str
    name: str  # in the save dialog's title and filter ("Export RIS", "RIS files (*.ris)")
    suffix: str


#: The formats of File ▸ Export…: BibTeX by profile, or another tool's format
#: (``Library.OTHER_FORMATS``, the command line's ``--format``).
EXPORT_FORMATS = {
    "bibtex": ExportFormat("BibTeX", "BibTeX", ".bib"),
    "csl-json": ExportFormat("CSL-JSON (pandoc, Zotero)", "CSL-JSON", ".json"),
    "ris": ExportFormat("RIS (EndNote, Zotero, Mendeley)", "RIS", ".ris"),
}


class ExportDialog(PreserveGeometry, QDialog):
    """Which papers to export (the selection, this view, one tag, or all) and how.

    The profile and the encoding choice are BibTeX's; they are off for CSL-JSON and RIS.
    """

    SELECTION, VIEW, TAG, ALL = range(4)

    def __init__(
        self,
        library: db.Library,
        selected: Sequence[int],
        view: db.Query,
        view_label: str,
        current_tag: str | None = None,
        parent: QWidget | None = None,
        *,
        settings: Settings,
        default_profile: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self._selected = tuple(selected)
        self._view = view
        view_count = library.count(view)
        total = library.count(db.Query())
        tags = library.tags()
        self.group = QButtonGroup(self)
        self.selection_button = QRadioButton(f"Selected papers ({len(self._selected)})")
        self.selection_button.setObjectName("exportSelection")
        self.view_button = QRadioButton(f"Papers in this view — {view_label} ({view_count})")
        self.view_button.setObjectName("exportView")
        self.tag_button = QRadioButton("Papers tagged")
        self.tag_button.setObjectName("exportTag")
        self.tag_combo = QComboBox()
        self.tag_combo.setObjectName("exportTagChoice")
        for t in tags:
            self.tag_combo.addItem(f"{t.name} ({t.count})", t.name)
        if current_tag is not None:
            self.tag_combo.setCurrentIndex(max(0, self.tag_combo.findData(current_tag)))
        self.all_button = QRadioButton(f"All papers ({total})")
        self.all_button.setObjectName("exportAll")
        for i, button in enumerate(
            (self.selection_button, self.view_button, self.tag_button, self.all_button)
        ):
            self.group.addButton(button, i)
        self.selection_button.setEnabled(bool(self._selected))
        self.tag_button.setEnabled(bool(tags))
        self.tag_combo.setEnabled(bool(tags))
        self.tag_combo.activated.connect(self._on_tag_combo_activated)
        # The selection when there is one (its count is on the button), else the view.
        (self.selection_button if self._selected else self.view_button).setChecked(True)
        grid = QGridLayout()
        grid.addWidget(self.selection_button, 0, 0, 1, 2)
        grid.addWidget(self.view_button, 1, 0, 1, 2)
        grid.addWidget(self.tag_button, 2, 0)
        grid.addWidget(self.tag_combo, 2, 1)
        grid.addWidget(self.all_button, 3, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        self.format = QComboBox()
        self.format.setObjectName("exportFormat")
        self.format.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for fmt, spec in EXPORT_FORMATS.items():
            self.format.addItem(spec.label, fmt)
        self.profile = ProfileCombo(saved_profiles(library), default_profile)
        self.profile.setObjectName("exportProfile")
        profile_row = QFormLayout()
        profile_row.addRow("Format:", self.format)
        profile_row.addRow("Write as:", self.profile)
        self.keep_encoding = QCheckBox()
        self.keep_encoding.setObjectName("exportKeepEncoding")
        try:
            encoding, _ = library.export_format(keep_encoding=True)
        except db.LibraryError as exc:
            encoding = ""
            self.keep_encoding.setToolTip(str(exc))
        shown = {
            "": "they differ",
            "utf-8": "they are UTF-8",
            "cp1252": "Windows-1252",
            "utf-8-sig": "UTF-8 with BOM",
            "utf-16-le": "UTF-16 LE",
            "utf-16-be": "UTF-16 BE",
            "utf-16-le+bom": "UTF-16 LE with BOM",
            "utf-16-be+bom": "UTF-16 BE with BOM",
        }.get(encoding, encoding)
        self.keep_encoding.setText(f"Keep the imported files' encoding ({shown})")
        self._encoding_kept = encoding not in ("", "utf-8")
        self.keep_encoding.setEnabled(self._encoding_kept)
        profile_row.addRow("", self.keep_encoding)
        self.format.currentIndexChanged.connect(self._on_format_current_index_changed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton(
            "Choose File…", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setObjectName("exportChooseFile")
        self.export_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Export which papers?"))
        self.setMinimumWidth(400)
        layout.addLayout(grid)
        layout.addSpacing(6)
        layout.addLayout(profile_row)
        layout.addWidget(buttons)
        self.restore_geometry(settings)

    def scope(self) -> int:
        return self.group.checkedId()

    def query(self) -> db.Query:
        scope = self.scope()
        if scope == self.SELECTION:
            return db.Query(ids=self._selected)
        if scope == self.VIEW:
            return self._view
        if scope == self.TAG:
            return db.Query(tag=self.tag_combo.currentData())
        return db.Query()

    def format_choice(self) -> str:
        """A key of :data:`EXPORT_FORMATS`: "bibtex", "csl-json" or "ris"."""
        data = self.format.currentData()
        return data if isinstance(data, str) else "bibtex"

    def profile_choice(self) -> str:
        """The profile to write with: '' for entries as stored, else a profile name."""
        return self.profile.choice()

    def suggested_name(self) -> str:
        suffix = EXPORT_FORMATS[self.format_choice()].suffix
        if self.scope() == self.TAG:
            return f"{self.tag_combo.currentData()}{suffix}"
        return f"references{suffix}"

    def _on_format_current_index_changed(self, index: int) -> None:
        bibtex = self.format_choice() == "bibtex"
        self.profile.setEnabled(bibtex)
        self.keep_encoding.setEnabled(bibtex and self._encoding_kept)

    def _on_tag_combo_activated(self, index: int) -> None:
        self.tag_button.setChecked(True)


class AuxExportDialog(PreserveGeometry, QDialog):
    """Export what a LaTeX document cites: its .aux file, the .bib to write, the profile.

    The output defaults to the .bib file the document reads (``\\bibdata{mybib}`` gives
    ``mybib.bib`` beside the .aux; biber's .bcf likewise), else ``refs.bib`` beside it; the
    dialog says so when that file exists already (it will be replaced) and how many cited
    keys the library lacks. The profile defaults to the document's dialect: BibTeX for an
    .aux BibTeX reads, BibLaTeX for one biblatex wrote (unless the default profile is of
    that dialect already).
    """

    def __init__(
        self,
        library: db.Library,
        aux_path: str | Path,
        default_profile: str = "",
        parent: QWidget | None = None,
        *,
        settings: Settings,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("auxExportDialog")
        self.setWindowTitle("Export entries cited in .aux")
        self.aux_path = str(aux_path)
        aux = Path(aux_path)
        headline = QLabel(f"<b>{html.escape(aux.name)}</b>")
        headline.setToolTip(str(aux))
        self.summary = QLabel()
        self.summary.setObjectName("auxSummary")
        self.summary.setWordWrap(True)
        self.found = 0  # cited keys the library has (see _summarise)
        try:
            cited, self._read_error = read_aux(aux), ""
        except db.LibraryError as exc:
            cited, self._read_error = None, str(exc)
        self.cited = cited
        written = self.cited.output_file() if self.cited is not None else None
        self.output = QLineEdit(written or str(aux.with_name("refs.bib")))
        self.output.setObjectName("auxOutput")
        self.output.setMinimumWidth(360)
        browse = QPushButton("Browse…")
        browse.setObjectName("auxBrowse")
        browse.clicked.connect(self._on_browse_clicked)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        self.output_note = muted(QLabel())
        self.output_note.setObjectName("auxOutputNote")
        saved = saved_profiles(library)
        self.profile = ProfileCombo(saved, default_profile)
        self.profile.setObjectName("auxProfile")
        dialect = self.cited.dialect if self.cited is not None else None
        if dialect is not None and default_profile not in {
            p.name for p in saved if p.dialect == dialect
        }:
            self.profile.set_choice(dialect)
        self.keep_current = QCheckBox("Keep this file current as the library changes (auto-export)")
        self.keep_current.setObjectName("auxKeepCurrent")
        form = QFormLayout()
        form.addRow("Write to:", out_row)
        form.addRow("", self.output_note)
        form.addRow("Write as:", self.profile)
        form.addRow("", self.keep_current)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("auxExport")
        self.export_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(headline)
        layout.addWidget(self.summary)
        layout.addSpacing(4)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.output.textChanged.connect(self._on_output_text_changed)
        self._readable = self._summarise(library)
        self._on_output_text_changed(self.output.text())
        self.restore_geometry(settings)

    def output_path(self) -> str:
        """The .bib file to write (``.bib`` added when no suffix was typed)."""
        text = self.output.text().strip()
        if text and not Path(text).suffix:
            text += ".bib"
        return str(Path(text).expanduser()) if text else ""

    def profile_choice(self) -> str:
        return self.profile.choice()

    def nothing_to_export(self) -> bool:
        """True when the library has none of the keys the document cites."""
        return self.cited is not None and not self.cited.everything and self.found == 0

    def _summarise(self, library: db.Library) -> bool:
        cited = self.cited
        if cited is None:
            self.summary.setText(html.escape(self._read_error))
            return False
        if cited.everything:
            n = library.count(db.Query())
            self.summary.setText(
                f"The document cites every entry (\\nocite{{*}}): {_noun(n, 'paper')}."
            )
            return True
        missing = [k for k in cited.keys if library.id_for_key(k) is None]
        found = self.found = len(cited.keys) - len(missing)
        text = f"The document cites {_noun(len(cited.keys), 'key')}: {found} in this library"
        if missing:
            shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
            text += f", {len(missing)} missing ({shown})"
        if not found:
            text += "; nothing to export"
        self.summary.setText(html.escape(text) + ".")
        return True

    def _on_output_text_changed(self, text: str) -> None:
        path = self.output_path()
        exists = bool(path) and Path(path).is_file()
        self.output_note.setText(
            f"{Path(path).name} exists and will be replaced." if exists else ""
        )
        self.output_note.setVisible(exists)
        self.export_button.setEnabled(self._readable and bool(path))

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Write cited entries to",
            self.output_path() or str(Path(self.aux_path)),
            "BibTeX files (*.bib);;All files (*)",
        )
        if path:
            self.output.setText(path)


class NewPaperDialog(PreserveGeometry, QDialog):
    """The few fields a new paper needs; the rest are edited in the detail pane."""

    def __init__(self, parent: QWidget | None = None, *, settings: Settings) -> None:
        super().__init__(parent)
        self.setObjectName("newPaperDialog")
        self.setWindowTitle("New paper")
        self.entry_type = QComboBox()
        self.entry_type.addItems(db.ENTRY_TYPES)
        self.title = QLineEdit()
        self.title.setObjectName("newPaperTitle")
        self.authors = QLineEdit()
        self.authors.setPlaceholderText("Lovelace, Ada and Babbage, Charles")
        self.year = QLineEdit()
        self.year.setPlaceholderText("2024")
        self.year.setMaximumWidth(80)
        self.venue = QLineEdit()
        self.venue.setPlaceholderText("Journal or proceedings")
        self.doi = QLineEdit()
        self.url = QLineEdit()
        form = QFormLayout()
        form.addRow("Type:", self.entry_type)
        form.addRow("Title:", self.title)
        form.addRow("Authors:", self.authors)
        form.addRow("Year:", self.year)
        form.addRow("Venue:", self.venue)
        form.addRow("DOI:", self.doi)
        form.addRow("URL:", self.url)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add Paper")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title.textChanged.connect(self._on_title_text_changed)
        self._on_title_text_changed("")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())
        self.restore_geometry(settings)

    def fields(self) -> dict[str, str]:
        venue_field = {
            "article": "journal",
            "inproceedings": "booktitle",
            "incollection": "booktitle",
            "book": "publisher",
            "phdthesis": "school",
            "mastersthesis": "school",
            "techreport": "institution",
        }.get(self.entry_type.currentText(), "howpublished")
        values = {
            "title": self.title.text(),
            "author": self.authors.text(),
            "year": self.year.text(),
            venue_field: self.venue.text(),
            "doi": self.doi.text(),
            "url": self.url.text(),
        }
        return {k: v.strip() for k, v in values.items() if v.strip()}

    def _on_title_text_changed(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(text.strip()))


class EditEntryDialog(QDialog):
    """An entry's BibTeX text, edited as text. Apply hands the text to ``apply``, which
    returns why it was refused (the dialog stays open showing it) or None (it closes)."""

    def __init__(
        self,
        text: str,
        apply: Callable[[str], db.LibraryError | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("editEntryDialog")
        self.setWindowTitle("Edit BibTeX")
        self._apply = apply
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("entrySourceEditor")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setPlainText(text)
        self.error_bar = ErrorBar()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).setObjectName("entrySourceApply")
        self.buttons.button(QDialogButtonBox.StandardButton.Apply).clicked.connect(
            self._on_apply_clicked
        )
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            muted(QLabel("One entry: its type, key and fields. Undo puts the old one back."))
        )
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.error_bar)
        layout.addWidget(self.buttons)
        self.resize(640, 420)

    def _on_apply_clicked(self) -> None:
        error = self._apply(self.editor.toPlainText())
        if error is None:
            self.accept()
            return
        self.error_bar.show_message(f"Nothing was changed: {error}")


def show_about(parent: QWidget, library: db.Library) -> None:
    messages.about(
        parent,
        "About Citedesk",
        f"<h3>Citedesk {app_version()}</h3>"
        "<p>A reading list and BibTeX library for people who write LaTeX.</p>"
        f"<p>Library: <tt>{html.escape(str(library.path))}</tt><br>"
        f"{library.count(db.Query())} papers</p>"
        "<p>MIT licence.</p>",
    )
