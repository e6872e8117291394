"""Preferences: the citation key pattern, export profiles, auto-exports, backups, lookups,
and citing (the citation style and cite as you write).

What a library needs to travel with it (the key pattern, saved export profiles, the files
kept current) is stored in the library; which profile exports start with is a preference of
this person (``desktop.settings.EXPORT_PROFILE``). Nothing is written until OK: the dialog
keeps its own copy of the profiles and auto-exports, and OK writes all of it in one
transaction, so Cancel leaves everything as it was.

Sub-dialogs (a profile, an auto-export) open with ``open()`` like the window's own dialogs,
so tests drive them through their widgets.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import db, messages
from . import settings as opts
from .cayw import PORT_ENV
from .citing import StyleCombo, chosen_style, locale_combo
from .db import DIALECTS, ExportProfile, parse_exclude
from .dialogs import (
    DIALECT_NAMES,
    PROFILE_LABELS,
    ProfileCombo,
    muted,
    saved_profiles,
)
from .geometry import PreserveGeometry
from .settings import Settings

TOKEN_HELP = (
    "<tt>[auth]</tt> first author · <tt>[authors2]</tt> two, then EtAl · "
    "<tt>[authors]</tt> all · <tt>[year]</tt> · <tt>[shorttitle]</tt> · "
    "<tt>[veryshorttitle]</tt> · <tt>[title]</tt><br>"
    "Modifiers: <tt>:lower</tt> <tt>:upper</tt> <tt>:capitalize</tt>, as in "
    "<tt>[auth:lower]</tt>. Other text is copied as it is."
)
#: Short names of the built-in choices, for lists.
PROFILE_SHORT = {"": "As stored", "bibtex": "BibTeX", "biblatex": "BibLaTeX"}


def _home_short(path: str) -> str:
    """A path with the home folder written as ~ (shorter in a list; the tooltip has it all)."""
    home = str(Path.home())
    return "~" + path[len(home) :] if home != "/" and path.startswith(home + "/") else path


def _buttons_column(*buttons: QPushButton) -> QVBoxLayout:
    column = QVBoxLayout()
    for button in buttons:
        column.addWidget(button)
    column.addStretch(1)
    return column


def _list(object_name: str, headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setObjectName(object_name)
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAllColumnsShowFocus(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    return tree


def autoexport_what(spec: dict[str, Any]) -> str:
    """Which papers an auto-export writes, as a person reads it."""
    if spec.get("aux"):
        return f"Cited in {Path(spec['aux']).name}"
    if spec.get("tag"):
        return f"Tagged “{spec['tag']}”"
    return "All papers"


class ProfileDialog(PreserveGeometry, QDialog):
    """Add or edit one export profile (its name is fixed once saved)."""

    def __init__(
        self,
        profile: ExportProfile | None,
        taken: Iterable[str],
        parent: QWidget | None = None,
        *,
        settings: Settings,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("profileDialog")
        self.setWindowTitle("Edit export profile" if profile else "New export profile")
        self._taken = {n.lower() for n in taken}
        self._editing = profile is not None
        profile = profile or ExportProfile("")
        self.name = QLineEdit(profile.name)
        self.name.setObjectName("profileName")
        self.name.setPlaceholderText("thesis")
        self.name.setReadOnly(self._editing)
        self.dialect = QComboBox()
        self.dialect.setObjectName("profileDialect")
        self.dialect.addItem("BibTeX — ASCII, accents as LaTeX commands", "bibtex")
        self.dialect.addItem("BibLaTeX / biber — UTF-8", "biblatex")
        self.dialect.setCurrentIndex(self.dialect.findData(profile.dialect))
        self.exclude = QLineEdit(", ".join(profile.exclude))
        self.exclude.setObjectName("profileExclude")
        self.exclude.setPlaceholderText("abstract, file, keywords")
        self.exclude.setToolTip(
            "BibTeX fields this profile never writes, separated by commas. "
            "Tags and notes never go into a .bib file."
        )
        self.protect_capitals = QCheckBox(
            "Protect capitals in titles with braces ({LLM}, {ImageNet})"
        )
        self.protect_capitals.setObjectName("protectCapitals")
        self.protect_capitals.setChecked(profile.protect_capitals)
        self.page_dashes = QCheckBox("Write page ranges with -- (12--19)")
        self.page_dashes.setObjectName("pageDashes")
        self.page_dashes.setChecked(profile.page_dashes)
        self.files = QCheckBox("Write attached files as a file field (for JabRef, Zotero)")
        self.files.setObjectName("profileFiles")
        self.files.setToolTip(
            "Each entry with files gets a JabRef-style file field with their full paths; "
            "without this, entries are written as they are."
        )
        self.files.setChecked(profile.files)
        self.error = QLabel()
        self.error.setObjectName("profileError")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Dialect:", self.dialect)
        form.addRow("Leave out fields:", self.exclude)
        form.addRow("", self.protect_capitals)
        form.addRow("", self.page_dashes)
        form.addRow("", self.files)
        form.addRow("", self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._on_name_text_changed)
        self._on_name_text_changed(self.name.text())
        self.resize(max(480, self.sizeHint().width()), self.sizeHint().height())
        self.restore_geometry(settings)

    def profile(self) -> ExportProfile:
        return ExportProfile(
            self.name.text().strip(),
            self.dialect.currentData(),
            parse_exclude(self.exclude.text()),
            protect_capitals=self.protect_capitals.isChecked(),
            page_dashes=self.page_dashes.isChecked(),
            files=self.files.isChecked(),
        )

    def _on_name_text_changed(self, text: str) -> None:
        name = text.strip()
        problem = ""
        if not name:
            problem = "Give the profile a name (used as citedesk export --profile NAME)."
        elif not self._editing and name.lower() in PROFILE_LABELS:
            problem = f"“{name}” is built in; choose another name."
        elif not self._editing and name.lower() in self._taken:
            problem = f"A profile named “{name}” exists already."
        self.error.setText(html.escape(problem))
        self.error.setVisible(bool(problem) and bool(name))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)


class AutoExportDialog(PreserveGeometry, QDialog):
    """Add a file kept current: where, which papers (all, a tag, an .aux), which profile."""

    ALL, TAG, AUX = range(3)

    def __init__(
        self,
        tags: list[str],
        profiles: list[ExportProfile],
        default_profile: str,
        folder: str,
        parent: QWidget | None = None,
        *,
        settings: Settings,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("autoExportDialog")
        self.setWindowTitle("New auto-export")
        self._folder = folder
        self.path = QLineEdit()
        self.path.setObjectName("autoExportPath")
        self.path.setPlaceholderText(str(Path(folder) / "refs.bib"))
        self.path.setMinimumWidth(340)
        browse = QPushButton("Browse…")
        browse.setObjectName("autoExportBrowse")
        browse.clicked.connect(self._on_browse_clicked)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.group = QButtonGroup(self)
        self.all_button = QRadioButton("All papers")
        self.all_button.setObjectName("autoExportAll")
        self.tag_button = QRadioButton("Papers tagged")
        self.tag_button.setObjectName("autoExportTag")
        self.tag_combo = QComboBox()
        self.tag_combo.setObjectName("autoExportTagChoice")
        self.tag_combo.addItems(tags)
        self.tag_button.setEnabled(bool(tags))
        self.tag_combo.setEnabled(bool(tags))
        self.aux_button = QRadioButton("Papers cited in")
        self.aux_button.setObjectName("autoExportAux")
        self.aux_path = QLineEdit()
        self.aux_path.setObjectName("autoExportAuxPath")
        self.aux_path.setPlaceholderText("paper.aux")
        aux_browse = QPushButton("Browse…")
        aux_browse.setObjectName("autoExportAuxBrowse")
        aux_browse.clicked.connect(self._on_aux_browse_clicked)
        for i, button in enumerate((self.all_button, self.tag_button, self.aux_button)):
            self.group.addButton(button, i)
        self.all_button.setChecked(True)
        what = QGridLayout()
        what.addWidget(self.all_button, 0, 0, 1, 3)
        what.addWidget(self.tag_button, 1, 0)
        what.addWidget(self.tag_combo, 1, 1, 1, 2)
        what.addWidget(self.aux_button, 2, 0)
        what.addWidget(self.aux_path, 2, 1)
        what.addWidget(aux_browse, 2, 2)
        what.setColumnStretch(1, 1)
        self.profile = ProfileCombo(profiles, default_profile)
        self.profile.setObjectName("autoExportProfile")
        form = QFormLayout()
        form.addRow("File:", path_row)
        form.addRow("Papers:", what)
        form.addRow("Write as:", self.profile)
        note = muted(
            QLabel(
                "The file is rewritten after every change that alters it; "
                "a change that does not alter it leaves the file untouched."
            )
        )
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.tag_combo.activated.connect(self._on_tag_combo_activated)
        self.path.textChanged.connect(self._update_ok)
        self.aux_path.textChanged.connect(self._on_aux_path_text_changed)
        self.group.idToggled.connect(self._update_ok)
        self._update_ok()
        self.resize(max(560, self.sizeHint().width()), self.sizeHint().height())
        self.restore_geometry(settings)

    def spec(self) -> dict[str, Any]:
        """The auto-export as ``Library.add_autoexport`` takes it (paths absolute)."""
        path = self.path.text().strip()
        if path and not Path(path).suffix:
            path += ".bib"
        kind = self.group.checkedId()
        aux = self.aux_path.text().strip() if kind == self.AUX else ""
        return {
            "path": str(Path(path).expanduser().resolve()),
            "tag": self.tag_combo.currentText() if kind == self.TAG else None,
            "aux": str(Path(aux).expanduser().resolve()) if aux else None,
            "profile": self.profile.choice() or None,
        }

    def _update_ok(self, *_: object) -> None:
        kind = self.group.checkedId()
        ok = bool(self.path.text().strip())
        if kind == self.TAG:
            ok = ok and bool(self.tag_combo.currentText())
        elif kind == self.AUX:
            ok = ok and bool(self.aux_path.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def _on_tag_combo_activated(self, index: int) -> None:
        self.tag_button.setChecked(True)

    def _on_aux_path_text_changed(self, text: str) -> None:
        if text.strip():
            self.aux_button.setChecked(True)
        self._update_ok()

    def _on_browse_clicked(self) -> None:
        start = self.path.text().strip() or str(Path(self._folder) / "refs.bib")
        path, _ = QFileDialog.getSaveFileName(
            self, "Keep this file current", start, "BibTeX files (*.bib);;All files (*)"
        )
        if path:
            self.path.setText(path)

    def _on_aux_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "LaTeX .aux file", self._folder, "LaTeX aux files (*.aux);;All files (*)"
        )
        if path:
            self.aux_path.setText(path)
            if not self.path.text().strip():
                self.path.setText(str(Path(path).with_name("refs.bib")))


class PreferencesDialog(PreserveGeometry, QDialog):
    """Citation keys, export profiles, auto-exports, backups, lookups and citing, a tab each.

    Signals (besides QDialog's): ``accepted`` once everything is written.
    """

    def __init__(
        self,
        library: db.Library,
        settings: Settings,
        example: db.Paper | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("preferencesDialog")
        self.setWindowTitle("Preferences")
        self._library = library
        self._settings = settings
        self._example = example
        # What OK writes (the library's values until then).
        self._profiles: dict[str, ExportProfile] = {p.name: p for p in saved_profiles(library)}
        self._autoexports: list[dict[str, Any]] = library.autoexports()
        self._sub: QDialog | None = None
        self.citing_changed = self.cayw_changed = False  # (set by OK)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("preferencesTabs")
        self.tabs.addTab(self._build_keys_tab(), "Citation keys")
        self.tabs.addTab(self._build_export_tab(), "Export profiles")
        self.tabs.addTab(self._build_autoexport_tab(), "Auto-export")
        self.tabs.addTab(self._build_backup_tab(), "Backups")
        self.tabs.addTab(self._build_lookup_tab(), "Lookups")
        self.tabs.addTab(self._build_citing_tab(), "Citing")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).setToolTip(
            "The default key pattern, and exports as stored"
        )
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self._on_restore_clicked
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.buttons)
        self._fill_profiles()
        self._fill_autoexports()
        self.pattern.textChanged.connect(self._on_pattern_text_changed)
        self._on_pattern_text_changed(self.pattern.text())
        self.resize(680, 460)
        self.restore_geometry(settings)

    # -- building -----------------------------------------------------------------------------

    def _build_keys_tab(self) -> QWidget:
        page = QWidget()
        self.pattern = QLineEdit(self._library.key_pattern)
        self.pattern.setObjectName("keyPattern")
        self.pattern.setPlaceholderText(db.DEFAULT_PATTERN)
        self.pattern.setToolTip(
            "Tokens: [auth] [authors2] [authors] [year] [shorttitle] "
            "[veryshorttitle] [title]; modifiers :lower :upper "
            ":capitalize. Other text is copied."
        )
        self.preview = QLabel()
        self.preview.setObjectName("keyPreview")
        self.preview.setTextFormat(Qt.TextFormat.RichText)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        tokens = muted(QLabel(TOKEN_HELP))
        tokens.setTextFormat(Qt.TextFormat.RichText)
        note = muted(
            QLabel(
                "New papers get keys by this pattern. Existing keys never change on their own: "
                "Edit ▸ Regenerate Citation Keys gives the selected papers new ones (undoable; "
                "the old keys stay as aliases, so documents that cite them still compile)."
            )
        )
        form = QFormLayout()
        form.addRow("Key pattern:", self.pattern)
        form.addRow("", self.preview)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(tokens)
        layout.addSpacing(6)
        layout.addWidget(note)
        layout.addStretch(1)
        return page

    def _build_export_tab(self) -> QWidget:
        page = QWidget()
        self.default_profile = ProfileCombo(
            self._profiles.values(), self._settings.get(opts.EXPORT_PROFILE)
        )
        self.default_profile.setObjectName("defaultProfile")
        self.default_profile.setToolTip("What the Export and .aux export dialogs start with")
        self.profile_list = _list("profileList", ["Name", "Dialect", "Leaves out", "Options"])
        self.profile_list.itemDoubleClicked.connect(self._on_profile_list_item_double_clicked)
        self.profile_list.itemSelectionChanged.connect(self._update_profile_buttons)
        self.add_profile_button = QPushButton("Add…")
        self.add_profile_button.setObjectName("addProfile")
        self.add_profile_button.clicked.connect(self._on_add_profile_clicked)
        self.edit_profile_button = QPushButton("Edit…")
        self.edit_profile_button.setObjectName("editProfile")
        self.edit_profile_button.clicked.connect(self._on_edit_profile_clicked)
        self.remove_profile_button = QPushButton("Remove")
        self.remove_profile_button.setObjectName("removeProfile")
        self.remove_profile_button.clicked.connect(self._on_remove_profile_clicked)
        self.profile_message = muted(QLabel())
        self.profile_message.setObjectName("profileMessage")
        self.profile_message.hide()
        form = QFormLayout()
        form.addRow("Exports start with:", self.default_profile)
        row = QHBoxLayout()
        row.addWidget(self.profile_list, 1)
        row.addLayout(
            _buttons_column(
                self.add_profile_button, self.edit_profile_button, self.remove_profile_button
            )
        )
        intro = muted(
            QLabel(
                "Built in: BibTeX (ASCII) and BibLaTeX (UTF-8). A saved profile "
                "is stored in the library and works on the command line too "
                "(citedesk export --profile NAME)."
            )
        )
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addSpacing(8)
        layout.addWidget(QLabel("Saved profiles:"))
        layout.addLayout(row, 1)
        layout.addWidget(self.profile_message)
        layout.addWidget(intro)
        return page

    def _build_backup_tab(self) -> QWidget:
        page = QWidget()
        self.backup_keep = QSpinBox()
        self.backup_keep.setObjectName("backupKeep")
        self.backup_keep.setRange(0, 365)
        self.backup_keep.setSpecialValueText("none")
        self.backup_keep.setToolTip("How many daily backups to keep; 0 makes none")
        self.backup_keep.setValue(self._library.setting(db.BACKUP_KEEP))
        # A number of up to three digits: as wide as that, not as the form.
        self.backup_keep.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        keep_row = QHBoxLayout()
        keep_row.addWidget(self.backup_keep)
        keep_row.addWidget(muted(QLabel("the newest daily copies (0: no automatic backups)")), 1)
        newest = db.newest_backup(self._library.path)
        folder = html.escape(str(db.backup_dir(self._library.path)))
        about = muted(
            QLabel(
                f"Citedesk copies this library once a day to {folder} and keeps the newest "
                "copies; backups made with <tt>citedesk backup</tt> are never deleted. Restore "
                "one with File ▸ Restore Backup… or <tt>citedesk restore FILE</tt>.<br><br>"
                f"Newest backup: {html.escape(newest.name) if newest else 'none yet'}"
            )
        )
        about.setTextFormat(Qt.TextFormat.RichText)
        about.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Backups kept:", keep_row)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(about)
        layout.addStretch(1)
        return page

    def _build_lookup_tab(self) -> QWidget:
        page = QWidget()
        self.contact = QLineEdit(self._library.setting(db.LOOKUP_CONTACT))
        self.contact.setObjectName("lookupContact")
        self.contact.setPlaceholderText("you@university.edu (optional)")
        self.contact.setClearButtonEnabled(True)
        about = muted(
            QLabel(
                "Adding a paper by its DOI, arXiv id or ISBN (File ▸ Add by Identifier…) and "
                "refreshing one ask <b>doi.org</b>, <b>Crossref</b>, <b>arXiv</b> and "
                "<b>Open Library</b>. Each request sends only the identifier, or a paper's "
                "title and first author when it has none, with Citedesk's name and this "
                "address, as Crossref asks of its users so it can write before blocking "
                "anyone. Leave it empty to send Citedesk's own address instead.<br><br>"
                "Answers are kept in the library for 30 days, so a paper asked twice is "
                "asked once. Proxies come from the environment (<tt>HTTPS_PROXY</tt>)."
            )
        )
        about.setTextFormat(Qt.TextFormat.RichText)
        about.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Contact e-mail:", self.contact)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(about)
        layout.addStretch(1)
        return page

    def _build_citing_tab(self) -> QWidget:
        page = QWidget()
        style, locale = chosen_style(self._settings)
        self.citation_style = StyleCombo(style, self._settings)
        self.citation_style.setObjectName("citationStyle")
        self.citation_style.setToolTip(
            "How Copy As ▸ Formatted Citation and Formatted Reference, the detail pane and "
            "File ▸ Export Bibliography write references"
        )
        self.citation_locale = locale_combo(locale)
        self.citation_locale.setObjectName("citationLocale")
        self.citation_locale.setToolTip("The language of dates and words such as “and”")
        self.cayw_enabled = QCheckBox(
            "Answer editors' cite-as-you-write requests (Better BibTeX's, port 23119)"
        )
        self.cayw_enabled.setObjectName("caywEnabled")
        self.cayw_enabled.setChecked(self._settings.get(opts.CAYW_ENABLED))
        self.cayw_port = QSpinBox()
        self.cayw_port.setObjectName("caywPort")
        self.cayw_port.setRange(0, 65535)
        self.cayw_port.setSpecialValueText("any free port")
        self.cayw_port.setValue(self._settings.get(opts.CAYW_PORT))
        self.cayw_port.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.cayw_port.setEnabled(self.cayw_enabled.isChecked())
        self.cayw_enabled.toggled.connect(self.cayw_port.setEnabled)
        about = muted(
            QLabel(
                "Editor plugins made for Zotero's Better BibTeX (LaTeX Workshop, the Zotero "
                "Citation Picker, pandoc and Typst helpers) ask for citations at "
                "<tt>http://127.0.0.1:PORT/better-bibtex/cayw</tt>; Citedesk shows its picker "
                "and answers. Edit ▸ Quick Cite (Ctrl+Alt+K) brings up the same picker."
                + (
                    f"<br><br>The environment variable <tt>{PORT_ENV}</tt> is set: it "
                    "decides the port while it is."
                    if os.environ.get(PORT_ENV, "").strip()
                    else ""
                )
            )
        )
        about.setTextFormat(Qt.TextFormat.RichText)
        about.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Citation style:", self.citation_style)
        form.addRow("Language:", self.citation_locale)
        cayw = QFormLayout()
        cayw.addRow(self.cayw_enabled)
        cayw.addRow("Port:", self.cayw_port)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(
            muted(
                QLabel(
                    "Used by Edit ▸ Copy As, the BibTeX tab of the detail pane and "
                    "File ▸ Export Bibliography."
                )
            )
        )
        layout.addSpacing(12)
        layout.addLayout(cayw)
        layout.addSpacing(6)
        layout.addWidget(about)
        layout.addStretch(1)
        return page

    def _build_autoexport_tab(self) -> QWidget:
        page = QWidget()
        self.autoexport_list = _list("autoExportList", ["File", "Papers", "Write as"])
        self.autoexport_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.autoexport_list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.autoexport_list.itemSelectionChanged.connect(self._update_autoexport_buttons)
        self.add_autoexport_button = QPushButton("Add…")
        self.add_autoexport_button.setObjectName("addAutoExport")
        self.add_autoexport_button.clicked.connect(self._on_add_autoexport_clicked)
        self.remove_autoexport_button = QPushButton("Remove")
        self.remove_autoexport_button.setObjectName("removeAutoExport")
        self.remove_autoexport_button.clicked.connect(self._on_remove_autoexport_clicked)
        intro = muted(
            QLabel(
                "These .bib files are kept current: after every change the "
                "window rewrites each one whose content changed, in the "
                "background; the others are not touched, so make and latexmk "
                "do not rebuild for nothing."
            )
        )
        row = QHBoxLayout()
        row.addWidget(self.autoexport_list, 1)
        row.addLayout(_buttons_column(self.add_autoexport_button, self.remove_autoexport_button))
        layout = QVBoxLayout(page)
        layout.addWidget(intro)
        layout.addLayout(row, 1)
        return page

    # -- filling ------------------------------------------------------------------------------

    def _fill_profiles(self) -> None:
        profiles = sorted(self._profiles.values(), key=lambda p: p.name.lower())
        self.default_profile.set_profiles(profiles)
        selected = self._selected_profile()
        self.profile_list.clear()
        for p in profiles:
            options = []
            if p.protect_capitals:
                options.append("{Capitals}")
            if p.page_dashes:
                options.append("1--9")
            item = QTreeWidgetItem(
                [
                    p.name,
                    DIALECT_NAMES[p.dialect],
                    ", ".join(p.exclude) or "nothing",
                    ", ".join(options),
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, p.name)
            self.profile_list.addTopLevelItem(item)
            if p.name == selected:
                self.profile_list.setCurrentItem(item)
        for column in range(3):
            self.profile_list.resizeColumnToContents(column)
        self._update_profile_buttons()

    def _fill_autoexports(self) -> None:
        self.autoexport_list.clear()
        for spec in self._autoexports:
            profile = spec.get("profile") or ""
            label = PROFILE_SHORT.get(profile, profile)
            item = QTreeWidgetItem([_home_short(spec["path"]), autoexport_what(spec), label])
            item.setToolTip(0, spec["path"])
            if spec.get("aux"):
                item.setToolTip(1, spec["aux"])
            item.setData(0, Qt.ItemDataRole.UserRole, spec["path"])
            self.autoexport_list.addTopLevelItem(item)
        self._update_autoexport_buttons()

    def _selected_profile(self) -> str | None:
        item = self.profile_list.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _update_profile_buttons(self) -> None:
        has = bool(self.profile_list.selectedItems())
        self.edit_profile_button.setEnabled(has)
        self.remove_profile_button.setEnabled(has)

    def _update_autoexport_buttons(self) -> None:
        self.remove_autoexport_button.setEnabled(bool(self.autoexport_list.selectedItems()))

    def _say(self, message: str) -> None:
        self.profile_message.setText(message)
        self.profile_message.setVisible(bool(message))

    # -- OK, Cancel, defaults -----------------------------------------------------------------

    def accept(self) -> None:
        pattern = self.pattern.text().strip() or db.DEFAULT_PATTERN
        lib = self._library
        before_profiles = {p.name: p for p in saved_profiles(lib)}
        before_auto = {a["path"]: a for a in lib.autoexports()}
        wanted_auto = {a["path"]: a for a in self._autoexports}
        changes = db.Changes()
        try:
            with lib.transaction():
                for name in before_profiles.keys() - self._profiles.keys():
                    changes.merge(lib.remove_profile(name))
                for name, profile in self._profiles.items():
                    if before_profiles.get(name) != profile:
                        changes.merge(lib.save_profile(profile))
                for path in before_auto.keys() - wanted_auto.keys():
                    changes.merge(lib.remove_autoexport(path))
                for path, spec in wanted_auto.items():
                    if before_auto.get(path) != spec:
                        changes.merge(
                            lib.add_autoexport(
                                path,
                                tag=spec.get("tag"),
                                aux=spec.get("aux"),
                                profile=spec.get("profile"),
                            )
                        )
                if pattern != lib.key_pattern:
                    changes.merge(lib.set_key_pattern(pattern))
                keep = self.backup_keep.value()
                if keep != lib.setting(db.BACKUP_KEEP):
                    changes.merge(lib.change_setting(db.BACKUP_KEEP, keep))
                contact = self.contact.text().strip()
                if contact != lib.setting(db.LOOKUP_CONTACT):
                    changes.merge(lib.change_setting(db.LOOKUP_CONTACT, contact))
        except (db.KeyPatternError, db.LibraryError, ValueError) as exc:
            messages.warn(self, "Preferences", "Nothing was changed.", exc)
            return
        self._settings.set(opts.EXPORT_PROFILE, self.default_profile.choice())
        self._accept_citing()
        #: The library settings written (the window announces them to every view).
        self.changes = changes
        super().accept()

    def _accept_citing(self) -> None:
        s = self._settings
        citing = (self.citation_style.choice(), self.citation_locale.currentText())
        #: The citation style or locale changed (the window tells the views that show it).
        self.citing_changed = citing != chosen_style(s)
        s.set(opts.CITATION_STYLE, citing[0])
        s.set(opts.CITATION_LOCALE, citing[1])
        cayw = (self.cayw_enabled.isChecked(), self.cayw_port.value())
        #: Cite as you write was turned on or off or moved (the window restarts it).
        self.cayw_changed = cayw != (s.get(opts.CAYW_ENABLED), s.get(opts.CAYW_PORT))
        s.set(opts.CAYW_ENABLED, cayw[0])
        s.set(opts.CAYW_PORT, cayw[1])

    def _on_restore_clicked(self) -> None:
        self.pattern.setText(db.DEFAULT_PATTERN)
        self.default_profile.set_choice(opts.EXPORT_PROFILE.default)

    # -- the key pattern ----------------------------------------------------------------------

    def _on_pattern_text_changed(self, text: str) -> None:
        pattern = text.strip() or db.DEFAULT_PATTERN
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            db.check_pattern(pattern)
        except (db.KeyPatternError, ValueError) as exc:
            self.preview.setText(f"<span style='color:#c0392b'>⚠ {html.escape(str(exc))}</span>")
            ok_button.setEnabled(False)
            return
        ok_button.setEnabled(True)
        if self._example is None:
            self.preview.setText("<i>Select a paper to see the key it would get.</i>")
            return
        p = self._example
        example = db.format_key(pattern, p.authors or p.editors, str(p.year or ""), p.title)
        self.preview.setText(f"For the selected paper: <tt>{html.escape(example)}</tt>")

    # -- profiles -----------------------------------------------------------------------------

    def _open_sub(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._sub = dialog
        dialog.finished.connect(self._on_sub_finished)
        dialog.open()

    def _on_sub_finished(self, result: int) -> None:
        self._sub = None

    def _on_add_profile_clicked(self) -> None:
        dialog = ProfileDialog(None, self._profiles, self, settings=self._settings)
        dialog.accepted.connect(lambda: self._store_profile(dialog.profile()))
        self._open_sub(dialog)

    def _on_edit_profile_clicked(self) -> None:
        name = self._selected_profile()
        if name is None:
            return
        dialog = ProfileDialog(self._profiles[name], self._profiles, self, settings=self._settings)
        dialog.accepted.connect(lambda: self._store_profile(dialog.profile()))
        self._open_sub(dialog)

    def _on_profile_list_item_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        self._on_edit_profile_clicked()

    def _store_profile(self, profile: ExportProfile) -> None:
        if profile.dialect not in DIALECTS:
            return
        self._profiles[profile.name] = profile
        self._say("")
        self._fill_profiles()
        items = self.profile_list.findItems(profile.name, Qt.MatchFlag.MatchExactly, 0)
        if items:
            self.profile_list.setCurrentItem(items[0])

    def _on_remove_profile_clicked(self) -> None:
        name = self._selected_profile()
        if name is None:
            return
        users = [Path(a["path"]).name for a in self._autoexports if a.get("profile") == name]
        if users:
            self._say(
                f"“{name}” writes the auto-export {', '.join(users)}; remove that "
                "auto-export first."
            )
            return
        del self._profiles[name]
        self._say("")
        self._fill_profiles()

    # -- auto-exports -----------------------------------------------------------------------

    def _on_add_autoexport_clicked(self) -> None:
        dialog = AutoExportDialog(
            [t.name for t in self._library.tags()],
            sorted(self._profiles.values(), key=lambda p: p.name.lower()),
            self.default_profile.choice(),
            opts.start_folder(self._settings),
            self,
            settings=self._settings,
        )
        dialog.accepted.connect(lambda: self._store_autoexport(dialog.spec()))
        self._open_sub(dialog)

    def _store_autoexport(self, spec: dict[str, Any]) -> None:
        self._autoexports = [a for a in self._autoexports if a["path"] != spec["path"]]
        self._autoexports.append(spec)
        self._fill_autoexports()

    def _on_remove_autoexport_clicked(self) -> None:
        item = self.autoexport_list.currentItem()
        if item is None:
            return
        path = item.data(0, Qt.ItemDataRole.UserRole)
        self._autoexports = [a for a in self._autoexports if a["path"] != path]
        self._fill_autoexports()
