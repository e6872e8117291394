"""The window's dialogs: import report, export scope, new paper, preferences, about.

Dialogs that tests drive are opened with ``open()`` (window-modal, not blocking), so a test
can find them by object name and press their buttons like a person would.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

import db
from db import keys as db_keys
from desktop import settings as opts
from desktop.settings import Settings

APP_VERSION = "0.1.0"


def _noun(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class ImportReportDialog(QDialog):
    """What an import did: added, duplicates, failures with file and line, warnings."""

    def __init__(self, report: db.ImportReport, parent: QWidget | None = None) -> None:
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
            f"{len(report.failures)} failed")
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
        for title, lines in (("Added", report.added), ("Duplicates", report.duplicates),
                             ("Warnings", report.warnings)):
            tree = QTreeWidget()
            tree.setHeaderHidden(True)
            tree.setRootIsDecorated(False)
            tree.setUniformRowHeights(True)
            for line in lines:
                tree.addTopLevelItem(QTreeWidgetItem([line]))
            tabs.addTab(tree, f"{title} ({len(lines)})")
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


class ExportDialog(QDialog):
    """Which papers to export: the selection, this view, one tag, or all."""

    SELECTION, VIEW, TAG, ALL = range(4)

    def __init__(self, library: db.Library, selected: Sequence[int], view: db.Query,
                 view_label: str, current_tag: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export BibTeX")
        self._selected = tuple(selected)
        self._view = view
        view_count = library.count(view)
        total = library.count(db.Query())
        tags = library.tags()
        self.group = QButtonGroup(self)
        self.selection_button = QRadioButton(
            f"Selected papers ({len(self._selected)})")
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
        for i, button in enumerate((self.selection_button, self.view_button, self.tag_button,
                                    self.all_button)):
            self.group.addButton(button, i)
        self.selection_button.setEnabled(bool(self._selected))
        self.tag_button.setEnabled(bool(tags))
        self.tag_combo.setEnabled(bool(tags))
        self.tag_combo.activated.connect(self._on_tag_combo_activated)
        (self.selection_button if len(self._selected) > 1 else self.view_button).setChecked(True)
        grid = QGridLayout()
        grid.addWidget(self.selection_button, 0, 0, 1, 2)
        grid.addWidget(self.view_button, 1, 0, 1, 2)
        grid.addWidget(self.tag_button, 2, 0)
        grid.addWidget(self.tag_combo, 2, 1)
        grid.addWidget(self.all_button, 3, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Choose File…",
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("exportChooseFile")
        self.export_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Export which papers?"))
        self.setMinimumWidth(400)
        layout.addLayout(grid)
        layout.addWidget(buttons)

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

    def suggested_name(self) -> str:
        if self.scope() == self.TAG:
            return f"{self.tag_combo.currentData()}.bib"
        return "references.bib"

    def _on_tag_combo_activated(self, index: int) -> None:
        self.tag_button.setChecked(True)


ENTRY_TYPES = ["article", "inproceedings", "book", "incollection", "phdthesis",
               "mastersthesis", "techreport", "misc", "online", "unpublished"]


class NewPaperDialog(QDialog):
    """The few fields a new paper needs; the rest are edited in the detail pane."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newPaperDialog")
        self.setWindowTitle("New paper")
        self.entry_type = QComboBox()
        self.entry_type.addItems(ENTRY_TYPES)
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
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add Paper")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title.textChanged.connect(self._on_title_text_changed)
        self._on_title_text_changed("")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

    def fields(self) -> dict[str, str]:
        venue_field = {"article": "journal", "inproceedings": "booktitle",
                       "incollection": "booktitle", "book": "publisher",
                       "phdthesis": "school", "mastersthesis": "school",
                       "techreport": "institution"}.get(self.entry_type.currentText(),
                                                        "howpublished")
        values = {"title": self.title.text(), "author": self.authors.text(),
                  "year": self.year.text(), venue_field: self.venue.text(),
                  "doi": self.doi.text(), "url": self.url.text()}
        return {k: v.strip() for k, v in values.items() if v.strip()}

    def _on_title_text_changed(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(text.strip()))


class PreferencesDialog(QDialog):
    """Citation key pattern (stored in the library) and export encoding (a preference)."""

    def __init__(self, library: db.Library, settings: Settings,
                 example: db.Paper | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self._library = library
        self._settings = settings
        self._example = example
        self.pattern = QLineEdit(library.key_pattern)
        self.pattern.setObjectName("keyPattern")
        self.pattern.setPlaceholderText(db.DEFAULT_PATTERN)
        self.pattern.setToolTip(
            "Tokens: [auth] [authors2] [authors] [year] [shorttitle] [veryshorttitle] "
            "[title]; modifiers :lower :upper :capitalize. Other text is copied.")
        self.preview = QLabel()
        self.preview.setObjectName("keyPreview")
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note = QLabel("New papers get keys by this pattern; existing keys never change "
                      "on their own.")
        note.setWordWrap(True)
        note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.encoding = QComboBox()
        self.encoding.setObjectName("exportEncoding")
        for value, label in opts.EXPORT_ENCODINGS.items():
            self.encoding.addItem(label, value)
        self.encoding.setCurrentIndex(
            max(0, self.encoding.findData(settings.get(opts.EXPORT_ENCODING))))
        form = QFormLayout()
        form.addRow("Citation key pattern:", self.pattern)
        form.addRow("", self.preview)
        form.addRow("", note)
        form.addRow("Export encoding:", self.encoding)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel
                                        | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self._on_restore_clicked)
        self.pattern.textChanged.connect(self._on_pattern_text_changed)
        self._on_pattern_text_changed(self.pattern.text())
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def accept(self) -> None:
        pattern = self.pattern.text().strip() or db.DEFAULT_PATTERN
        try:
            if pattern != self._library.key_pattern:
                self._library.set_key_pattern(pattern)
        except (db.KeyPatternError, db.LibraryError) as exc:
            QMessageBox.warning(self, "Citation key pattern", str(exc))
            return
        self._settings.set(opts.EXPORT_ENCODING, self.encoding.currentData())
        super().accept()

    def _on_restore_clicked(self) -> None:
        self.pattern.setText(db.DEFAULT_PATTERN)
        self.encoding.setCurrentIndex(self.encoding.findData(opts.EXPORT_ENCODING.default))

    def _on_pattern_text_changed(self, text: str) -> None:
        pattern = text.strip() or db.DEFAULT_PATTERN
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            db_keys.check_pattern(pattern)
        except (db.KeyPatternError, ValueError) as exc:
            self.preview.setText(f"<i>{html.escape(str(exc))}</i>")
            ok_button.setEnabled(False)
            return
        ok_button.setEnabled(True)
        if self._example is None:
            self.preview.setText("")
            return
        p = self._example
        example = db_keys.format_key(pattern, p.authors or p.editors, str(p.year or ""),
                                     p.title)
        self.preview.setText(f"For the selected paper: <tt>{html.escape(example)}</tt>")


def show_about(parent: QWidget, library: db.Library) -> None:
    QMessageBox.about(
        parent, "About Citedesk",
        f"<h3>Citedesk {APP_VERSION}</h3>"
        "<p>A reading list and BibTeX library for people who write LaTeX.</p>"
        f"<p>Library: <tt>{html.escape(str(library.path))}</tt><br>"
        f"{library.count(db.Query())} papers</p>"
        "<p>MIT licence.</p>")
