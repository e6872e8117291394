"""The main window: sidebar | search box over the paper table | detail pane.

The window wires the parts together and owns what they share: the library, the one
``LibraryEvents`` hub and the one ``QUndoStack``. Views never call each other; every write
is an undo command whose ``db.Changes`` each view hears on ``events.changed``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QObject,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QPalette,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

import db
from desktop import commands
from desktop import settings as opts
from desktop.actions import (
    ACTIONS,
    MENUS,
    TOOLBAR,
    ActionId,
    create_actions,
    glyph_icon,
    refresh_icons,
)
from desktop.autoexport import AutoExporter
from desktop.backups import DailyBackup
from desktop.commands import (
    AddPaperCommand,
    DeletePapersCommand,
    LibraryCommand,
    RegenerateKeysCommand,
)
from desktop.detail import DetailPane
from desktop.dialogs import AuxExportDialog, ExportDialog, NewPaperDialog, show_about
from desktop.duplicates import DuplicatesDialog
from desktop.hub import LibraryEvents
from desktop.importer import Exporter, Importer
from desktop.models import (
    Column,
    NodeKind,
    PaperTableModel,
    SidebarFilter,
)
from desktop.papertable import PaperTable
from desktop.preferences import PreferencesDialog
from desktop.settings import Settings
from desktop.sidebar import Sidebar

SEARCH_PLACEHOLDER = ("Search title, authors, abstract, tags, notes — "
                      "author: title: tag: year:2020..2024")
#: The search syntax, on hovering the box (db/search.py reads it).
SEARCH_HELP = (
    "<b>Words</b> match the start of words as you type: <code>transf</code><br>"
    "<code>\"exact phrase\"</code> &nbsp; <code>-word</code> leaves papers out<br>"
    "<code>author:</code> <code>title:</code> <code>abstract:</code> <code>venue:</code> "
    "<code>keyword:</code> <code>note:</code> <code>tag:</code> <code>key:</code> "
    "<code>year:2023</code> <code>year:2020..2024</code><br>"
    "In abstracts, words of one or two letters match whole words only "
    "(<code>ML</code>); from three letters on, the start of words too.")
SEARCH_DEBOUNCE_MS = 150
POLL_MS = 1000
DEFAULT_SIZE = QSize(1280, 800)
SIDEBAR_WIDTH = 200
DETAIL_WIDTH = 420
BIB_SUFFIXES = (".bib", ".bibtex")


class _DryRun(Exception):
    """Rolls back a write made only to see what it would change."""


class MainWindow(QMainWindow):
    """Citedesk's one window over one library.

    The window closes the library when it closes.
    """

    def __init__(self, library: db.Library, settings: Settings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.library = library
        self.settings = settings
        self.setWindowTitle(f"Citedesk — {Path(library.path).name}")
        self.setAcceptDrops(True)
        self._closed = False
        self._last_search_ok = ""

        self.events = LibraryEvents(self)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(200)

        self.sidebar = Sidebar(library, self.events, self.undo_stack)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText(SEARCH_PLACEHOLDER)
        self.search_box.setToolTip(SEARCH_HELP)
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Search papers")
        self._search_icon = self.search_box.addAction(
            glyph_icon("search", self.palette()), QLineEdit.ActionPosition.LeadingPosition)
        self.search_hint = QLabel()
        self.search_hint.setObjectName("searchHint")
        self.search_hint.setWordWrap(True)
        self.search_hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.search_hint.setContentsMargins(4, 0, 4, 0)
        self.search_hint.hide()
        self.paper_model = PaperTableModel(library, self.events, self)
        self.table = PaperTable(self.paper_model)
        self.detail = DetailPane(library, self.undo_stack, self.events)

        middle = QWidget()
        middle.setObjectName("tableColumn")
        column = QVBoxLayout(middle)
        column.setContentsMargins(0, 6, 0, 0)
        column.setSpacing(4)
        search_row = QVBoxLayout()
        search_row.setContentsMargins(6, 0, 6, 0)
        search_row.setSpacing(2)
        search_row.addWidget(self.search_box)
        search_row.addWidget(self.search_hint)
        column.addLayout(search_row)
        column.addWidget(self.table, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)

        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        # Stays while an auto-export is failing (a status message would scroll away).
        self.autoexport_label = QLabel()
        self.autoexport_label.setObjectName("autoExportStatus")
        self.autoexport_label.hide()
        self.statusBar().addPermanentWidget(self.autoexport_label)
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().setSizeGripEnabled(False)

        self.actions_by_id = create_actions(self)
        self._build_menus()
        self._build_toolbar()
        self._connect_actions()

        self.importer = Importer(library, self.events, self.undo_stack, self,
                                 before_write=self._on_importer_before_write)
        self.importer.started.connect(self._on_importer_started)
        self.importer.finished.connect(self._on_importer_finished)
        self.exporter = Exporter(library, self)
        self.exporter.finished.connect(self._on_exporter_finished)
        self.exporter.aux_finished.connect(self._on_exporter_aux_finished)
        self.autoexporter = AutoExporter(library, self)
        self.autoexporter.finished.connect(self._on_autoexporter_finished)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self.search_box.textChanged.connect(self._on_search_box_text_changed)
        self.search_box.returnPressed.connect(self._on_search_box_return_pressed)
        self.search_box.installEventFilter(self)

        self._data_version = library.data_version()
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._on_poll_timer_timeout)
        self._poll_timer.start()
        # One automatic backup a day, the newest N kept (Preferences), off the GUI thread.
        self.daily_backup = DailyBackup(library, self)
        self.daily_backup.finished.connect(self._on_daily_backup_finished)

        self.sidebar.filter_changed.connect(self._on_sidebar_filter_changed)
        self.table.current_paper_changed.connect(self._on_table_current_paper_changed)
        self.table.selectionModel().selectionChanged.connect(
            self._on_table_selection_changed)
        self.table.edit_requested.connect(self._on_table_edit_requested)
        self.paper_model.requeried.connect(self._on_paper_model_requeried)
        self.events.changed.connect(self._on_events_changed)
        self.events.reloaded.connect(self._on_events_reloaded)
        self.events.failed.connect(self._on_events_failed)

        self._restore_settings()
        self._update_counts()
        self._update_selection_actions()
        # Bring auto-exports up to date with changes made while the window was closed.
        self.autoexporter.schedule()

    # -- what scripts and tests use --------------------------------------------------------------

    def action(self, action_id: ActionId) -> QAction:
        return self.actions_by_id[action_id]

    def select_key(self, key: str) -> bool:
        """Select the paper with this citation key (showing all papers if it is hidden)."""
        pid = self.library.id_for_key(key)
        if pid is None:
            return False
        if self.paper_model.row_of(pid) is None:
            self.search_box.clear()
            self.sidebar.select_filter(SidebarFilter())
            self._apply_query()
        return self.table.select_papers([pid], pid)

    def selected_ids(self) -> list[int]:
        return self.table.selected_ids()

    # -- building ---------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        for title, items in MENUS.items():
            menu = bar.addMenu(title)
            menu.setObjectName(f"menu{title.strip('&')}")
            for item in items:
                if item is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self.actions_by_id[item])
            if title == "&View":
                menu.addSeparator()
                self._columns_menu = menu.addMenu("&Columns")
                self._columns_menu.setObjectName("menuColumns")
                self._columns_menu.aboutToShow.connect(self._on_columns_menu_about_to_show)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main toolbar")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setFloatable(False)
        toolbar.setIconSize(QSize(16, 16))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for item in TOOLBAR:
            if item is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(self.actions_by_id[item])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

    def _connect_actions(self) -> None:
        a = self.actions_by_id
        a[ActionId.NEW_PAPER].triggered.connect(self._on_new_paper_triggered)
        a[ActionId.EDIT].triggered.connect(self._on_edit_triggered)
        a[ActionId.DELETE].triggered.connect(self._on_delete_triggered)
        a[ActionId.IMPORT].triggered.connect(self._on_import_triggered)
        a[ActionId.PASTE_BIBTEX].triggered.connect(self._on_paste_bibtex_triggered)
        a[ActionId.EXPORT].triggered.connect(self._on_export_triggered)
        a[ActionId.EXPORT_AUX].triggered.connect(self._on_export_aux_triggered)
        a[ActionId.REGENERATE_KEYS].triggered.connect(self._on_regenerate_keys_triggered)
        a[ActionId.FIND_DUPLICATES].triggered.connect(self._on_find_duplicates_triggered)
        a[ActionId.COPY_KEYS].triggered.connect(self._on_copy_keys_triggered)
        a[ActionId.COPY_CITE].triggered.connect(self._on_copy_cite_triggered)
        a[ActionId.COPY_BIBTEX].triggered.connect(self._on_copy_bibtex_triggered)
        a[ActionId.UNDO].triggered.connect(self.undo_stack.undo)
        a[ActionId.REDO].triggered.connect(self.undo_stack.redo)
        a[ActionId.FIND].triggered.connect(self._on_find_triggered)
        a[ActionId.SELECT_ALL].triggered.connect(self._on_select_all_triggered)
        a[ActionId.SHOW_SIDEBAR].toggled.connect(self.sidebar.setVisible)
        a[ActionId.SHOW_DETAIL].toggled.connect(self.detail.setVisible)
        a[ActionId.PREFERENCES].triggered.connect(self._on_preferences_triggered)
        a[ActionId.ABOUT].triggered.connect(self._on_about_triggered)
        a[ActionId.QUIT].triggered.connect(self.close)
        a[ActionId.SHOW_SIDEBAR].setChecked(True)
        a[ActionId.SHOW_DETAIL].setChecked(True)
        self.undo_stack.canUndoChanged.connect(a[ActionId.UNDO].setEnabled)
        self.undo_stack.canRedoChanged.connect(a[ActionId.REDO].setEnabled)
        self.undo_stack.undoTextChanged.connect(self._on_undo_stack_undo_text_changed)
        self.undo_stack.redoTextChanged.connect(self._on_undo_stack_redo_text_changed)
        a[ActionId.UNDO].setEnabled(False)
        a[ActionId.REDO].setEnabled(False)

    # -- settings ---------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.get(opts.GEOMETRY)
        if geometry.isEmpty() or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        state = s.get(opts.WINDOW_STATE)
        if not state.isEmpty():
            self.restoreState(state)
        splitter = s.get(opts.SPLITTER)
        if splitter.isEmpty() or not self.splitter.restoreState(splitter):
            self._default_splitter_sizes()
        header = s.get(opts.HEADER)
        if not header.isEmpty() and self.table.horizontalHeader().restoreState(header):
            # The title column always stretches, whatever an old state says.
            self.table.horizontalHeader().setSectionResizeMode(
                Column.TITLE, QHeaderView.ResizeMode.Stretch)
        key = s.get(opts.LAST_PAPER, opts.library_group(self.library.path))
        if not (key and self.select_key(key)) and self.paper_model.rowCount():
            self.table.select_papers([self.paper_model.paper_id(0) or 0])

    def reset_layout(self) -> None:
        """The default pane widths for the window's present width."""
        self._default_splitter_sizes()

    def _default_splitter_sizes(self) -> None:
        width = self.splitter.width() if self.isVisible() else self.width()
        width = max(width, SIDEBAR_WIDTH + DETAIL_WIDTH + 300)
        self.splitter.setSizes([SIDEBAR_WIDTH, width - SIDEBAR_WIDTH - DETAIL_WIDTH,
                                DETAIL_WIDTH])

    def save_settings(self) -> None:
        s = self.settings
        s.set(opts.GEOMETRY, self.saveGeometry())
        s.set(opts.WINDOW_STATE, self.saveState())
        s.set(opts.SPLITTER, self.splitter.saveState())
        s.set(opts.HEADER, self.table.horizontalHeader().saveState())
        pid = self.table.current_paper
        key = ""
        if pid is not None:
            row = self.library.rows([pid]).get(pid)
            key = row.key if row else ""
        s.set(opts.LAST_PAPER, key, opts.library_group(self.library.path))
        s.sync()

    # -- Qt events -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            return
        # First: a running import holds the write transaction; cancelled, it rolls back
        # and its thread ends, so what follows can write.
        self.importer.shutdown()
        self.detail.flush()
        self.save_settings()
        self.search_box.removeEventFilter(self)
        self._poll_timer.stop()
        self._search_timer.stop()
        self.exporter.shutdown()
        self.autoexporter.shutdown()
        self.daily_backup.shutdown()
        self._closed = True
        self.library.close()
        event.accept()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            refresh_icons(self.actions_by_id, self)  # the desktop went light or dark
            self._search_icon.setIcon(glyph_icon("search", self.palette()))
        super().changeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_bib_files(event) or self._dropped_bibtex_text(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = self._dropped_bib_files(event)
        if files:
            self.importer.import_files(files)
            event.acceptProposedAction()
            return
        text = self._dropped_bibtex_text(event)
        if text:
            self.importer.import_text(text, "dropped text")
            event.acceptProposedAction()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Qt may still deliver events to the search box while the window is torn down,
        # after Python has dropped its attributes: then there is nothing to filter.
        search_box = self.__dict__.get("search_box")
        if search_box is None:
            return False
        if watched is search_box and isinstance(event, QKeyEvent) \
                and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Down:
                self.table.setFocus()
                if not self.table.currentIndex().isValid() and self.paper_model.rowCount():
                    self.table.select_papers([self.paper_model.paper_id(0) or 0])
                return True
            if event.key() == Qt.Key.Key_Escape and self.search_box.text():
                self.search_box.clear()
                return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _dropped_bib_files(event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls()
                if u.isLocalFile() and u.toLocalFile().lower().endswith(BIB_SUFFIXES)]

    @staticmethod
    def _dropped_bibtex_text(event: QDragEnterEvent | QDropEvent) -> str:
        mime = event.mimeData()
        text = mime.text() if mime.hasText() and not mime.hasUrls() else ""
        return text if "@" in text else ""

    # -- searching and filtering ---------------------------------------------------------------

    def current_query(self) -> db.Query:
        return self.sidebar.current_filter.query(self.search_box.text().strip())

    def _apply_query(self) -> None:
        text = self.search_box.text().strip()
        hint = self.library.search_hint(text) if text else None
        ok = self.paper_model.set_query(self.sidebar.current_filter.query(text))
        if not ok:
            hint = hint or "This search cannot run; showing the last results."
        else:
            self._last_search_ok = text
        self.search_hint.setText(hint or "")
        self.search_hint.setVisible(bool(hint))
        self._update_counts()

    def _update_counts(self) -> None:
        shown = self.paper_model.rowCount()
        flt = self.sidebar.current_filter
        text = self._last_search_ok
        if not text and flt == SidebarFilter():
            label = f"{shown} paper{'s' if shown != 1 else ''}"
        else:
            label = f"{shown} of {self.library.count(db.Query())} papers"
        selected = len(self.table.selected_rows())
        if selected > 1:
            label += f" · {selected} selected"
        self.count_label.setText(label)

    def _update_selection_actions(self) -> None:
        has = self.table.selectionModel().hasSelection()
        for action_id, action in self.actions_by_id.items():
            if ACTIONS[action_id].needs_selection:
                action.setEnabled(has)

    def _on_search_box_text_changed(self, text: str) -> None:
        self._search_timer.start()

    def _on_search_box_return_pressed(self) -> None:
        self._search_timer.stop()
        self._apply_query()

    def _on_search_timer_timeout(self) -> None:
        self._apply_query()

    def _on_sidebar_filter_changed(self, flt: SidebarFilter) -> None:
        self._apply_query()

    def _on_paper_model_requeried(self) -> None:
        self._update_counts()

    # -- the table and the detail pane -----------------------------------------------------------

    def _on_table_current_paper_changed(self, paper_id: int | None) -> None:
        self.detail.show_paper(paper_id)

    def _on_table_selection_changed(self, selected: QItemSelection,
                                    deselected: QItemSelection) -> None:
        self._update_selection_actions()
        self._update_counts()

    def _on_table_edit_requested(self) -> None:
        self._on_edit_triggered()

    def _on_events_changed(self, changes: db.Changes) -> None:
        self._data_version = self.library.data_version()
        self._update_counts()
        self.autoexporter.schedule()

    def _on_events_reloaded(self) -> None:
        self.detail.refresh()
        self._update_counts()
        self.autoexporter.schedule()

    def _on_events_failed(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Citedesk", message,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("failureMessage")
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()

    def _on_poll_timer_timeout(self) -> None:
        try:
            version = self.library.data_version()
        except db.LibraryError:
            return
        except Exception:  # the file went away under us: keep the window as it is
            return
        if version != self._data_version:
            self._data_version = version
            self.events.reloaded.emit()

    # -- actions --------------------------------------------------------------------------------

    def _push(self, command: LibraryCommand) -> bool:
        return commands.push(self.undo_stack, command, self) is None

    def _on_new_paper_triggered(self) -> None:
        dialog = NewPaperDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._add_new_paper(dialog))
        dialog.open()

    def _add_new_paper(self, dialog: NewPaperDialog) -> None:
        command = AddPaperCommand(self.library, self.events, dialog.fields(),
                                  dialog.entry_type.currentText())
        if self._push(command) and command.paper_id is not None:
            if not self.table.select_papers([command.paper_id], command.paper_id):
                self.select_key(self.library.rows([command.paper_id])[command.paper_id].key)
            self._on_edit_triggered()

    def _on_edit_triggered(self) -> None:
        self.detail.setVisible(True)
        self.actions_by_id[ActionId.SHOW_DETAIL].setChecked(True)
        if not self.detail.focus_field("title"):
            self.detail.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_delete_triggered(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        rows = self.library.rows(ids)
        if len(ids) == 1:
            what = f"“{rows[ids[0]].title}”" if ids[0] in rows else "this paper"
        else:
            what = f"these {len(ids)} papers"
        answer = QMessageBox.question(
            self, "Delete papers",
            f"Delete {what} with their tags and notes?\nUndo (Ctrl+Z) brings them back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.detail.flush()
        # Keep the cursor near where it was: on the paper after the last deleted one.
        rows_now = sorted(r for r in (self.paper_model.row_of(i) for i in ids) if r is not None)
        after = None
        if rows_now:
            for r in range(rows_now[-1] + 1, self.paper_model.rowCount()):
                pid = self.paper_model.paper_id(r)
                if pid not in ids:
                    after = pid
                    break
            if after is None and rows_now[0] > 0:
                after = self.paper_model.paper_id(rows_now[0] - 1)
        if self._push(DeletePapersCommand(self.library, self.events, ids)) and after is not None:
            self.table.select_papers([after], after)

    def _file_dialog_folder(self) -> str:
        folder = self.settings.get(opts.LAST_FOLDER)
        return folder if folder and Path(folder).is_dir() else str(Path.home())

    def _remember_folder(self, path: str) -> None:
        self.settings.set(opts.LAST_FOLDER, str(Path(path).parent))

    def _on_import_triggered(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import BibTeX", self._file_dialog_folder(),
            "BibTeX files (*.bib *.bibtex);;All files (*)")
        if paths:
            self._remember_folder(paths[0])
            self.importer.import_files(paths)

    def _on_paste_bibtex_triggered(self) -> None:
        text = QGuiApplication.clipboard().text()
        if "@" not in text:
            self.statusBar().showMessage("The clipboard holds no BibTeX entry.", 5000)
            return
        self.importer.import_text(text, "clipboard")

    def _on_importer_before_write(self) -> None:
        # The import's worker is about to hold the write transaction: save typing now.
        self.detail.flush()

    def _on_importer_started(self) -> None:
        # The worker's commit would look like another program's change: the import
        # announces its own changes when it is done.
        self._poll_timer.stop()

    def _on_importer_finished(self, report: db.ImportReport | None) -> None:
        if report is None:
            # Rolled back: nothing of it was ever visible here. The poll, running again,
            # still notices what another program may have written meanwhile.
            self.statusBar().showMessage(
                "Import failed; the library is unchanged." if self.importer.last_error
                else "Import cancelled; the library is unchanged.", 8000)
        else:
            self._data_version = self.library.data_version()  # the worker's commit
            self.statusBar().showMessage(f"Import: {report.summary()}.", 8000)
            added = report.changes.added
            if added:
                self.table.select_papers(list(added), min(added))
        self._poll_timer.start()

    def _on_export_triggered(self) -> None:
        flt = self.sidebar.current_filter
        label = flt.label
        if self._last_search_ok:
            label += f", search “{self._last_search_ok}”"
        dialog = ExportDialog(self.library, self.selected_ids(), self.current_query(), label,
                              flt.value if flt.kind == NodeKind.TAG else None, self,
                              default_profile=self.settings.get(opts.EXPORT_PROFILE))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._export(
            dialog.query(), dialog.suggested_name(), dialog.profile_choice(),
            dialog.keep_encoding.isChecked()))
        dialog.open()

    def _export(self, query: db.Query, suggested: str, profile: str = "",
                keep_encoding: bool = False) -> None:
        start = str(Path(self._file_dialog_folder()) / suggested)
        path, _ = QFileDialog.getSaveFileName(self, "Export BibTeX", start,
                                              "BibTeX files (*.bib);;All files (*)")
        if not path:
            return
        if not Path(path).suffix:
            path += ".bib"
        self._remember_folder(path)
        self.statusBar().showMessage(f"Exporting to {path}…")
        self.exporter.export(path, query, profile, keep_encoding)

    def _on_exporter_finished(self, path: str, n: int, error: str) -> None:
        if error:
            self.statusBar().clearMessage()
            QMessageBox.warning(self, "Export", f"Nothing was exported.\n\n{error}")
            return
        self.statusBar().showMessage(
            f"Exported {n} entr{'y' if n == 1 else 'ies'} to {path}", 8000)

    def _on_export_aux_triggered(self) -> None:
        aux, _ = QFileDialog.getOpenFileName(
            self, "Export entries cited in .aux", self._file_dialog_folder(),
            "LaTeX aux files (*.aux);;All files (*)")
        if not aux:
            return
        self._remember_folder(aux)
        dialog = AuxExportDialog(self.library, aux, self.settings.get(opts.EXPORT_PROFILE), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._export_aux(dialog))
        dialog.open()

    def _export_aux(self, dialog: AuxExportDialog) -> None:
        aux, dest, profile = dialog.aux_path, dialog.output_path(), dialog.profile_choice()
        if dialog.keep_current.isChecked():
            try:
                self.library.add_autoexport(dest, aux=aux, profile=profile or None)
            except db.LibraryError as exc:
                QMessageBox.warning(self, "Auto-export", f"{dest} will not be kept "
                                    f"current.\n\n{exc}")
        self.statusBar().showMessage(f"Exporting the entries {Path(aux).name} cites…")
        self.exporter.export_aux(aux, dest, profile)

    def _on_exporter_aux_finished(self, path: str, n: int, missing: list[str],
                                  error: str) -> None:
        """Say what was written and name every cited key the library lacks."""
        name = Path(path).name
        if error:
            self.statusBar().clearMessage()
            box = QMessageBox(QMessageBox.Icon.Warning, "Export entries cited in .aux",
                              "Nothing was exported.", QMessageBox.StandardButton.Ok, self)
            box.setInformativeText(error)
        else:
            entries = f"{n} entr{'y' if n == 1 else 'ies'}"
            text = f"Wrote {entries} to {name}."
            icon = QMessageBox.Icon.Information
            self.statusBar().showMessage(f"Exported {entries} to {path}", 8000)
            if missing:
                icon = QMessageBox.Icon.Warning
                keys = ", ".join(missing[:30]) + (f", … and {len(missing) - 30} more"
                                                  if len(missing) > 30 else "")
                text += (f"\n\nThe library has no entry for {len(missing)} cited "
                         f"key{'s' if len(missing) != 1 else ''}:\n{keys}")
                self.statusBar().showMessage(
                    f"Exported {entries} to {path}; {len(missing)} cited "
                    f"key{'s' if len(missing) != 1 else ''} not in the library", 12000)
            box = QMessageBox(icon, "Export entries cited in .aux", text,
                              QMessageBox.StandardButton.Ok, self)
            if len(missing) > 30:
                box.setDetailedText("\n".join(missing))
        box.setObjectName("auxExportResult")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_daily_backup_finished(self, path: str, error: str) -> None:
        if error:
            self.statusBar().showMessage(f"The automatic backup failed: {error}", 15000)

    def _on_autoexporter_finished(self, results: list[tuple[str, str]]) -> None:
        written = [Path(p).name for p, outcome in results if outcome == "written"]
        errors = [(p, outcome.removeprefix("error: ")) for p, outcome in results
                  if outcome.startswith("error")]
        if errors:
            names = ", ".join(Path(p).name or "auto-export" for p, _ in errors)
            self.autoexport_label.setText(f"⚠ Auto-export failed: {names}")
            self.autoexport_label.setToolTip("\n".join(
                f"{p or 'The library'}: {reason}" for p, reason in errors))
            self.autoexport_label.show()
            first, reason = errors[0]
            self.statusBar().showMessage(
                f"Auto-export of {Path(first).name or 'the library'} failed: {reason}", 15000)
            return
        self.autoexport_label.hide()
        if written:
            what = ", ".join(written) if len(written) <= 3 else f"{len(written)} auto-exports"
            self.statusBar().showMessage(f"{what} updated", 4000)

    def _on_regenerate_keys_triggered(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        self.detail.flush()
        pattern = self.library.key_pattern
        try:
            changes = self._preview_key_changes(ids, pattern)
        except db.LibraryError as exc:
            QMessageBox.warning(self, "Regenerate citation keys", str(exc))
            return
        if not changes:
            self.statusBar().showMessage(
                f"The selected papers' keys already follow the pattern {pattern}.", 6000)
            return
        n = len(changes)
        examples = [f"{old}  →  {new}" for old, new in list(changes.values())[:5]]
        if n > 5:
            examples.append(f"… and {n - 5} more")
        of = f" of the {len(ids)} selected papers" if n != len(ids) else ""
        answer = QMessageBox.question(
            self, "Regenerate citation keys",
            f"{n} citation key{'s' if n != 1 else ''}{of} will change, by the pattern "
            f"{pattern}:\n\n" + "\n".join(examples) +
            "\n\nThe old keys are kept as aliases, so documents that cite them still "
            "compile. Undo (Ctrl+Z) puts them back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        command = RegenerateKeysCommand(self.library, self.events, ids, pattern)
        if self._push(command):
            n = len(command.changed)
            self.statusBar().showMessage(
                f"Regenerated {n} citation key{'s' if n != 1 else ''}; "
                "the old ones are aliases now.", 8000)

    def _preview_key_changes(self, ids: list[int], pattern: str) -> dict[int, tuple[str, str]]:
        """Which keys regenerating would change: done in a transaction, then rolled back."""
        found: dict[int, tuple[str, str]] = {}
        try:
            with self.library.transaction():
                found.update(self.library.regenerate_keys(ids, pattern))
                raise _DryRun
        except _DryRun:
            pass
        return found

    def _on_find_duplicates_triggered(self) -> None:
        self.detail.flush()
        dialog = DuplicatesDialog(self.library, self.events, self.undo_stack, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _selected_keys(self) -> list[str]:
        ids = self.selected_ids()
        rows = self.library.rows(ids)
        return [rows[i].key for i in ids if i in rows]

    def _copy(self, text: str, what: str) -> None:
        if text:
            QGuiApplication.clipboard().setText(text)
            self.statusBar().showMessage(f"Copied {what}.", 4000)

    def _on_copy_keys_triggered(self) -> None:
        keys = self._selected_keys()
        self._copy(",".join(keys), "citation key" + ("s" if len(keys) != 1 else ""))

    def _on_copy_cite_triggered(self) -> None:
        keys = self._selected_keys()
        if keys:
            self._copy("\\cite{" + ",".join(keys) + "}", "\\cite{…}")

    def _on_copy_bibtex_triggered(self) -> None:
        ids = self.selected_ids()
        entries = []
        for pid in ids:
            try:
                entries.append(self.library.entry_text(pid))
            except db.UnknownPaperError:
                continue
        n = len(entries)
        self._copy("\n\n".join(entries) + ("\n" if entries else ""),
                   f"{n} BibTeX entr{'y' if n == 1 else 'ies'}")

    def _on_find_triggered(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def _on_select_all_triggered(self) -> None:
        self.table.setFocus()
        self.table.selectAll()

    def _on_preferences_triggered(self) -> None:
        pid = self.table.current_paper
        example = None
        if pid is not None:
            try:
                example = self.library.paper(pid)
            except db.UnknownPaperError:
                example = None
        dialog = PreferencesDialog(self.library, self.settings, example, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_preferences_accepted)
        dialog.open()

    def _on_preferences_accepted(self) -> None:
        if not self.library.autoexports():
            self.autoexport_label.hide()  # a failing auto-export may just have been removed
        self.autoexporter.schedule()  # new or changed auto-exports are written at once

    def _on_about_triggered(self) -> None:
        show_about(self, self.library)

    def _on_columns_menu_about_to_show(self) -> None:
        self.table.fill_column_menu(self._columns_menu)

    def _on_undo_stack_undo_text_changed(self, text: str) -> None:
        action = self.actions_by_id[ActionId.UNDO]
        action.setText(f"&Undo {text}" if text else "&Undo")

    def _on_undo_stack_redo_text_changed(self, text: str) -> None:
        action = self.actions_by_id[ActionId.REDO]
        action.setText(f"&Redo {text}" if text else "&Redo")
