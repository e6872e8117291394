"""The main window: sidebar | search box over the paper table | detail pane.

The window wires the parts together and owns what they share: the library, the one
``LibraryEvents`` hub and the one ``QUndoStack``. Views never call each other; every write
is an undo command whose ``db.Changes`` each view hears on ``events.changed``.

Each job has its module, and the window only connects them: the table
(``papertable.py``), the detail pane (``detail.py``), the search box (``searchbar.py``),
the status bar (``statusbar.py``), imports with drops and pastes (``importing.py``),
exports (``exporting.py``), Copy As and Export Bibliography (``citing.py``), new papers
and what the Edit menu does to the selection (``paperactions.py``), files and new papers
from PDFs (``attachments.py``), the menus and toolbar (``actions.py``), and remembering
sizes (``geometry.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelection, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from . import commands, db
from . import settings as opts
from .actions import (
    ActionId,
    build_menus,
    build_toolbar,
    create_actions,
    enable_selection_actions,
    follow_undo_stack,
    refresh_icons,
)
from .attachments import PdfAdder, PdfReport, open_file
from .autoexport import AutoExporter
from .backups import DailyBackup, RestoreBackupDialog
from .cayw import CaywServer, wanted_port
from .citing import BibliographyExport, CopyAs, chosen_style
from .detail import DetailPane
from .dialogs import show_about
from .duplicates import DuplicatesDialog
from .exporting import ExportFlow
from .fulltext import FulltextIndexer, FulltextProgress
from .geometry import PreserveGeometry
from .groupsync import attach as attach_group_sync
from .hub import ChangeWatcher, LibraryEvents
from .importing import ImportFlow
from .lookup import Lookups
from .models import COLUMNS, Column, NodeKind, PaperTableModel, SidebarFilter
from .panes import PaneLayout
from .paperactions import PaperActions
from .papertable import PaperTable
from .preferences import PreferencesDialog
from .searchbar import SearchBar
from .selectionmenu import SelectionMenu
from .settings import Settings
from .sidebar import Sidebar
from .statusbar import StatusBar
from .undokeys import FieldUndoKeys
from .widgets import open_link

log = logging.getLogger(__name__)

DEFAULT_SIZE = QSize(1280, 800)
#: Files attached: their text is read this long after the last change (a burst of
#: attaching is one run), or when the window opens with files not read yet.
FULLTEXT_DELAY_MS = 1000
#: What the table says when the library has no papers.
EMPTY_LIBRARY = (
    "Your library is empty.\n\nImport a .bib file (File ▸ Import, Ctrl+I), drop one on the "
    "window, or paste BibTeX (Ctrl+Shift+V). New Paper (Ctrl+N) types one in."
)


class MainWindow(PreserveGeometry, QMainWindow):
    """Citedesk's one window over one library.

    The window closes the library when it closes. Its size and every splitter in it (the
    main one, the notes one) are remembered (:class:`PreserveGeometry`).
    """

    def __init__(
        self, library: db.Library, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.library = library
        self.settings = settings
        self.setWindowTitle(f"Citedesk — {Path(library.path).name}")
        self.setAcceptDrops(True)
        self._closed = False

        self.events = LibraryEvents(self)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(200)

        self.sidebar = Sidebar(library, self.events, self.undo_stack)
        self.search = SearchBar()
        self.sidebar.set_search_text_source(self.search.text)
        self.search_box = self.search.search_box
        self.paper_model = PaperTableModel(library, self.events, self)
        self.table = PaperTable(self.paper_model)
        self.detail = DetailPane(library, self.undo_stack, self.events)

        middle = QWidget()
        middle.setObjectName("tableColumn")
        column = QVBoxLayout(middle)
        column.setContentsMargins(0, 6, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.search)
        column.addWidget(self.table, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.detail)
        self.setCentralWidget(self.splitter)
        self.panes = PaneLayout(self, self.splitter, self.sidebar, self.table, self.detail)
        # Ctrl+Z in a field with nothing of its own to undo undoes the window's last edit.
        self._field_undo_keys = FieldUndoKeys(self)
        QApplication.instance().installEventFilter(self._field_undo_keys)
        self.status_bar = StatusBar()
        self._total: int | None = None  # papers in the library, read when a filter needs it
        self.setStatusBar(self.status_bar)

        self.actions_by_id = create_actions(self)
        menus = build_menus(self.menuBar(), self.actions_by_id)
        # The Paper menu: edits of every selected paper; also the table's right-click menu.
        self.selection_menu = SelectionMenu(
            library,
            self.events,
            self.table,
            self,
            self.status_bar,
            lambda command: commands.push(self.undo_stack, command, self) is None,
        )
        a = self.actions_by_id
        menus["&Paper"] = self.selection_menu.install(
            self.menuBar(),
            before=menus["&View"],
            context=[
                a[ActionId.COPY_CITE],
                a[ActionId.COPY_KEYS],
                a[ActionId.COPY_BIBTEX],
                None,
                a[ActionId.EXPORT],
                a[ActionId.REGENERATE_KEYS],
                a[ActionId.REFRESH_FROM_SOURCES],
                None,
                a[ActionId.DELETE],
            ],
        )
        menus["&Paper"].addSeparator()
        menus["&Paper"].addAction(a[ActionId.REFRESH_FROM_SOURCES])
        menus["&View"].addSeparator()
        self.table.add_column_menu(menus["&View"])
        self.toolbar = build_toolbar(self.actions_by_id)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

        self.imports = ImportFlow(
            library,
            self.events,
            self.undo_stack,
            settings,
            self,
            self.status_bar,
            before_write=self.detail.flush,
        )
        self.importer = self.imports.importer
        self.exports = ExportFlow(library, settings, self, self.status_bar, self.events)
        self.exporter = self.exports.exporter
        self.paper_actions = PaperActions(
            library,
            self.events,
            self.undo_stack,
            settings,
            self.table,
            self.status_bar,
            self,
            flush=self.detail.flush,
        )
        # Edit ▸ Copy As and File ▸ Export Bibliography (citing.py).
        self.copy_as = CopyAs(library, settings, self.selected_ids, self.status_bar, self)
        self.bibliographies = BibliographyExport(library, settings, self, self.status_bar)
        # Papers by DOI, arXiv id or ISBN, and refreshes from those sources (lookup.py).
        self.lookups = Lookups(
            library, self.events, self.undo_stack, settings, self, flush=self.detail.flush
        )
        # New papers from PDFs (File > Add PDF…, or dropped below the rows).
        self.pdf_adder = PdfAdder(library, self.events, self.undo_stack, self)
        # The text of attached PDFs, read in the background for search.
        self.fulltext = FulltextIndexer(library.path, self)
        self.fulltext_progress = FulltextProgress(self)
        self.status_bar.addPermanentWidget(self.fulltext_progress)
        self._fulltext_soon = QTimer(self)
        self._fulltext_soon.setSingleShot(True)
        self._fulltext_soon.setInterval(FULLTEXT_DELAY_MS)
        self._fulltext_soon.timeout.connect(self.start_fulltext_indexing)
        self.autoexporter = AutoExporter(library, self)
        self.watcher = ChangeWatcher(library, self.events, self)
        # A group library syncs with its server in the background (groupsync.py).
        self.group_sync = attach_group_sync(self)
        # One automatic backup a day, the newest N kept (Preferences), off the GUI thread.
        self.daily_backup = DailyBackup(library, self)
        # Cite as you write: editors ask for citations over loopback HTTP (cayw.py).
        self.cayw = CaywServer(library, self.selected_ids, self)
        self._connect_actions()

        self.paper_actions.paper_added.connect(self._on_paper_actions_paper_added)
        self.importer.started.connect(self._on_importer_started)
        self.imports.identifiers_found.connect(self.lookups.look_up_text)
        self.lookups.papers_chosen.connect(self._on_lookups_papers_chosen)
        self.lookups.completed.connect(lambda text: self.status_bar.showMessage(text, 8000))
        self.importer.finished.connect(self._on_importer_finished)
        self.autoexporter.finished.connect(self.status_bar.show_autoexport_results)
        self.daily_backup.finished.connect(self.status_bar.show_backup_result)
        self.search.search_requested.connect(self._on_search_search_requested)
        self.search_box.down_pressed.connect(self._on_search_box_down_pressed)
        self.sidebar.filter_changed.connect(self._on_sidebar_filter_changed)
        self.table.current_paper_changed.connect(self._on_table_current_paper_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.table.edit_requested.connect(self._on_table_edit_requested)
        self.table.open_requested.connect(self._on_table_open_requested)
        self.table.files_dropped.connect(self._on_table_files_dropped)
        self.table.pdfs_dropped.connect(self._on_table_pdfs_dropped)
        self.pdf_adder.progress.connect(self._on_pdf_adder_progress)
        self.pdf_adder.finished.connect(self._on_pdf_adder_finished)
        self.paper_model.requeried.connect(self._on_paper_model_requeried)
        self.fulltext.progressed.connect(self.fulltext_progress.show_progress)
        self.fulltext.finished.connect(self._on_fulltext_finished)
        self.fulltext_progress.cancel_requested.connect(self.fulltext.cancel)
        self.events.changed.connect(self._on_events_changed)
        self.events.reloaded.connect(self._on_events_reloaded)
        self.events.failed.connect(self.status_bar.show_failure)
        self.cayw.notice.connect(lambda text: self.status_bar.showMessage(text, 8000))

        self._restore_settings()
        self._update_counts()
        self._update_selection_actions()
        # Bring auto-exports up to date with changes made while the window was closed.
        self.autoexporter.schedule()
        # Read PDFs attached while the window was closed (or by another program).
        if self.library.fulltext_pending():
            self._fulltext_soon.start()
        cayw_trouble = self.cayw.start(wanted_port(settings))
        if cayw_trouble:
            self.status_bar.showMessage(cayw_trouble, 15_000)

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

    def start_fulltext_indexing(self, rebuild: bool = False) -> None:
        """Read the text of attached PDFs not read yet, in the background."""
        self._fulltext_soon.stop()
        if not self.fulltext.running:
            # The thread's commits would look like another program's: the watcher waits,
            # and the window reloads once when the run is over.
            self.watcher.pause()
        self.fulltext.start(rebuild)

    def fulltext_idle(self) -> bool:
        """No PDFs are being read (nor about to be)."""
        return not self.fulltext.running and not self._fulltext_soon.isActive()

    def current_query(self) -> db.Query:
        return self.sidebar.current_filter.query(self.search.text())

    # -- building ---------------------------------------------------------------------------------

    def _connect_actions(self) -> None:
        a = self.actions_by_id
        a[ActionId.NEW_PAPER].triggered.connect(self.paper_actions.new_paper)
        a[ActionId.ADD_PDF].triggered.connect(self._on_add_pdf_triggered)
        a[ActionId.QUICK_CITE].triggered.connect(self.cayw.pick_to_clipboard)
        a[ActionId.SAVE_SEARCH].triggered.connect(
            lambda: self.sidebar.save_search(self.current_query())
        )
        a[ActionId.ADD_BY_IDENTIFIER].triggered.connect(lambda: self.lookups.add_by_identifier())
        a[ActionId.REFRESH_FROM_SOURCES].triggered.connect(
            lambda: self.lookups.refresh(self.selected_ids())
        )
        a[ActionId.EDIT].triggered.connect(self._on_edit_triggered)
        a[ActionId.DELETE].triggered.connect(self.paper_actions.delete)
        a[ActionId.IMPORT].triggered.connect(self.imports.import_chosen_files)
        a[ActionId.PASTE_BIBTEX].triggered.connect(self.imports.import_clipboard)
        a[ActionId.EXPORT].triggered.connect(self._on_export_triggered)
        a[ActionId.EXPORT_AUX].triggered.connect(self.exports.export_aux)
        a[ActionId.REGENERATE_KEYS].triggered.connect(self.paper_actions.regenerate_keys)
        a[ActionId.FIND_DUPLICATES].triggered.connect(self._on_find_duplicates_triggered)
        a[ActionId.INDEX_FULLTEXT].triggered.connect(lambda: self.start_fulltext_indexing())
        a[ActionId.REBUILD_FULLTEXT].triggered.connect(
            lambda: self.start_fulltext_indexing(rebuild=True)
        )
        a[ActionId.RESTORE_BACKUP].triggered.connect(self._on_restore_backup_triggered)
        a[ActionId.COPY_KEYS].triggered.connect(self.paper_actions.copy_keys)
        a[ActionId.COPY_CITE].triggered.connect(self.paper_actions.copy_cite)
        a[ActionId.COPY_BIBTEX].triggered.connect(self.paper_actions.copy_bibtex)
        self.copy_as.connect_actions(a)
        self._on_citation_style_changed()
        a[ActionId.EXPORT_BIBLIOGRAPHY].triggered.connect(self._on_export_bibliography_triggered)
        a[ActionId.FIND].triggered.connect(self._on_find_triggered)
        a[ActionId.SELECT_ALL].triggered.connect(self._on_select_all_triggered)
        a[ActionId.SHOW_SIDEBAR].toggled.connect(self.sidebar.setVisible)
        a[ActionId.SHOW_DETAIL].toggled.connect(self.detail.setVisible)
        for pane in (ActionId.SHOW_SIDEBAR, ActionId.SHOW_DETAIL):
            a[pane].toggled.connect(lambda _shown: self.fit_panes())
        a[ActionId.PREFERENCES].triggered.connect(self._on_preferences_triggered)
        a[ActionId.ABOUT].triggered.connect(self._on_about_triggered)
        a[ActionId.QUIT].triggered.connect(self.close)
        a[ActionId.SHOW_SIDEBAR].setChecked(True)
        a[ActionId.SHOW_DETAIL].setChecked(True)
        follow_undo_stack(a, self.undo_stack)

    # -- settings ---------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        s = self.settings
        # The defaults first; the saved size and splitters, where there are, replace them.
        self.resize(DEFAULT_SIZE)
        self.reset_layout()
        self.restore_geometry(s)
        state = s.get(opts.WINDOW_STATE)
        if not state.isEmpty():
            self.restoreState(state)
        self.table.restore_columns(s.get(opts.HEADER), s.get(opts.HEADER_COLUMNS) or 8)
        self.panes.restore(s.get(opts.PANE_WIDTHS))  # remembered panes may squeeze titles
        key = s.get(opts.LAST_PAPER, opts.library_group(self.library.path))
        if not (key and self.select_key(key)) and self.paper_model.rowCount():
            self.table.select_papers([self.paper_model.paper_id(0) or 0])
        self._update_empty_text()

    def reset_layout(self) -> None:
        """The default pane widths for the window's present width."""
        self.panes.reset()

    def fit_panes(self) -> None:
        self.panes.fit()

    def detail_min_width(self) -> int:
        return self.panes.detail_min_width()

    def save_settings(self) -> None:
        s = self.settings
        self.save_geometry()
        s.set(opts.WINDOW_STATE, self.saveState())
        s.set(opts.HEADER, self.table.columns_state())
        s.set(opts.HEADER_COLUMNS, len(COLUMNS))
        s.set(opts.PANE_WIDTHS, self.panes.saved())
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
        if self.group_sync is not None:
            self.group_sync.stop()
        self.cayw.stop()  # an editor waiting on the picker gets its (empty) answer
        self.pdf_adder.wait()
        self.lookups.shutdown()
        self._fulltext_soon.stop()
        self.fulltext.wait()
        self.detail.flush()
        self.save_settings()
        self.watcher.pause()
        self.search.stop()
        self.exports.shutdown()
        self.bibliographies.shutdown()
        self.autoexporter.shutdown()
        self.daily_backup.shutdown()
        self._closed = True
        try:
            # Detached and replaced stored files wait in the trash while an undo could
            # bring them back; with the undo stack gone nothing can.
            self.library.empty_file_trash()
        except (db.LibraryError, OSError) as exc:
            log.warning("could not empty the files trash: %s", exc)
        self.library.close()
        event.accept()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            refresh_icons(self.actions_by_id, self)  # the desktop went light or dark
        super().changeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.imports.can_import(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.imports.import_dropped(event.mimeData()):
            event.acceptProposedAction()

    # -- searching and filtering ---------------------------------------------------------------

    def _apply_query(self) -> None:
        text = self.search.text()
        hint = self.library.search_hint(text) if text else None
        ran = self.paper_model.set_query(self.sidebar.current_filter.query(text))
        self.detail.set_search_text(text)
        self.search.show_result(text, ran, hint)
        self._update_counts()
        self._update_empty_text()

    def _update_counts(self, total_changed: bool = False) -> None:
        filtered = bool(self.search.last_run) or self.sidebar.current_filter != SidebarFilter()
        if total_changed:
            self._total = None
        total = self._library_size() if filtered else None
        self.status_bar.show_counts(
            self.paper_model.rowCount(), total, len(self.table.selected_rows())
        )

    def _library_size(self) -> int:
        """How many papers the library has: read once, again after papers come or go."""
        if self._total is None:
            self._total = self.library.count(db.Query())
        return self._total

    def _update_selection_actions(self) -> None:
        has = self.table.selectionModel().hasSelection()
        enable_selection_actions(self.actions_by_id, has)
        self.selection_menu.enable(has)

    def _on_search_search_requested(self) -> None:
        self._apply_query()

    def _on_search_box_down_pressed(self) -> None:
        """Into the results, on a selected paper: the row the cursor is on (the first if
        none), so every action on the selection works from the keyboard at once."""
        self.table.setFocus(Qt.FocusReason.TabFocusReason)
        index = self.table.currentIndex()
        pid = self.paper_model.paper_id(index.row()) if index.isValid() else None
        if pid is None:
            pid = self.paper_model.paper_id(0)
        if pid is not None and pid not in self.table.selected_ids():
            self.table.select_papers([pid], pid)

    def _on_sidebar_filter_changed(self, flt: SidebarFilter) -> None:
        if flt.kind == NodeKind.QUEUE:  # the queue shows when each paper was last opened
            self.table.horizontalHeader().setSectionHidden(Column.OPENED, False)
        self._apply_query()

    def _on_paper_model_requeried(self) -> None:
        self._update_counts()
        self._update_empty_text()

    def _update_empty_text(self) -> None:
        """What the table says when it shows nothing: how to add papers to an empty
        library, or that the search or view found none."""
        if self.paper_model.rowCount():
            self.table.set_empty_text("")
        elif not self._library_size():
            self.table.set_empty_text(EMPTY_LIBRARY)
        elif self.search.last_run:
            self.table.set_empty_text(
                f"No papers match “{self.search.last_run}” in {self.sidebar.current_filter.label}."
            )
        else:
            self.table.set_empty_text(f"No papers in {self.sidebar.current_filter.label}.")

    # -- the table, the detail pane and the library ------------------------------------------------

    def _on_table_current_paper_changed(self, paper_id: int | None) -> None:
        self.paper_model.keep(paper_id)  # an edit that takes it out of view keeps it listed
        self.detail.show_selection(self.table.selected_ids(), paper_id)

    def _on_table_selection_changed(
        self, selected: QItemSelection, deselected: QItemSelection
    ) -> None:
        self._update_selection_actions()
        self._update_counts()
        self.detail.show_selection(self.table.selected_ids(), self.table.current_paper)

    def _on_table_open_requested(self, paper_id: int) -> None:
        """Open the paper's main file; a paper without files opens its first link."""
        main = self.library.main_file(paper_id)
        if main is not None:
            if not open_file(main.path):
                self.status_bar.showMessage(f"No program here opens {main.name}.", 6000)
                return
        else:
            links = self.library.paper(paper_id).links
            if not links or not open_link(links[0][1]):
                self.status_bar.showMessage(
                    "This paper has no link or file to open; F2 edits it.", 6000
                )
                return
        # The reading queue shows when a paper was last opened (not an undo step).
        self.events.changed.emit(self.library.mark_opened(paper_id))

    def _on_table_files_dropped(self, paper_id: int, paths: list[str]) -> None:
        before = self.undo_stack.index()
        command = commands.AttachFilesCommand(self.library, self.events, paper_id, paths)
        if commands.push(self.undo_stack, command, self) is None:
            if self.undo_stack.index() == before:
                self.status_bar.showMessage("The paper has these files already.", 6000)

    def _on_table_pdfs_dropped(self, paths: list[str]) -> None:
        self.pdf_adder.add(paths)

    def _on_add_pdf_triggered(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add PDFs", opts.start_folder(self.settings), "PDF files (*.pdf);;All files (*)"
        )
        if paths:
            opts.remember_folder(self.settings, paths[0])
            self.pdf_adder.add(paths)

    def _on_pdf_adder_progress(self, done: int, total: int, name: str) -> None:
        self.status_bar.showMessage(f"Adding PDFs: {done} of {total}, {name}…")

    def _on_pdf_adder_finished(self, report: PdfReport) -> None:
        papers = report.papers
        if papers:
            self.table.select_papers(papers, papers[0])
        self.status_bar.showMessage(f"{report.summary()}.", 8000)
        # A DOI or arXiv id read from a new paper's PDF: the source says the rest.
        self.lookups.complete_papers(report.added)

    def _on_table_edit_requested(self) -> None:
        self._on_edit_triggered()

    def _on_events_changed(self, changes: db.Changes) -> None:
        # Our own commits leave SQLite's data_version alone: the watcher needs no word.
        self._update_counts(total_changed=bool(changes.added or changes.removed))
        if changes.settings:
            self.autoexporter.settings_changed()
        self.autoexporter.schedule()
        if changes.added or changes.removed:
            self._update_empty_text()
        if changes.files:
            self._fulltext_soon.start()  # attached files: read their text soon

    def _on_fulltext_finished(self, report: db.FulltextReport | None, error: str) -> None:
        self.fulltext_progress.hide()
        if self.fulltext.running:
            return  # asked again meanwhile: one more run is under way
        self.watcher.resume()
        self.watcher.saw_own_change()
        if error:
            self.status_bar.show_failure(f"Reading PDFs for search failed: {error}")
            return
        if report is None:
            return
        if report.indexed:
            # Searches may find more now; nothing else the window shows changed (a full
            # reload of 100,000 papers would stall it for 100-200 ms).
            if self.search.text():
                self._apply_query()
            self.detail.refresh_fulltext_hits()
        message = f"Read {report.indexed} PDF{'s' if report.indexed != 1 else ''} for search"
        if report.failed:
            name, reason = report.failed[0]
            more = f" and {len(report.failed) - 1} more" if len(report.failed) > 1 else ""
            message += f"; could not read {name}{more}: {reason}"
        if report.cancelled:
            message += " (stopped)"
        if report.indexed or report.failed:
            self.status_bar.showMessage(message, 10_000)

    def _on_events_reloaded(self) -> None:
        self.detail.refresh()
        self._update_counts(total_changed=True)
        self.autoexporter.settings_changed()
        self.autoexporter.schedule()
        self._update_empty_text()

    def _on_importer_started(self) -> None:
        # The worker's commit would look like another program's change: the import
        # announces its own changes when it is done.
        self.watcher.pause()

    def _on_importer_finished(self, report: db.ImportReport | None) -> None:
        # Cancelled or failed, nothing of it was ever visible here; the watcher, running
        # again, still notices what another program may have written meanwhile.
        if report is not None:
            self.watcher.saw_own_change()  # the worker's commit
            added = report.changes.added
            if added:
                self.table.select_papers(list(added), min(added))
        self.watcher.resume()

    # -- actions --------------------------------------------------------------------------------

    def _on_lookups_papers_chosen(self, paper_ids: list[int]) -> None:
        """Papers just added by identifier, refreshed, or found to be there already."""
        if paper_ids and not self.table.select_papers(paper_ids, paper_ids[0]):
            self.select_key(self.library.rows([paper_ids[0]])[paper_ids[0]].key)
        self.activateWindow()
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_paper_actions_paper_added(self, paper_id: int) -> None:
        if not self.table.select_papers([paper_id], paper_id):
            self.select_key(self.library.rows([paper_id])[paper_id].key)
        self._on_edit_triggered()

    def _on_edit_triggered(self) -> None:
        self.detail.setVisible(True)
        self.actions_by_id[ActionId.SHOW_DETAIL].setChecked(True)
        if not self.detail.focus_field("title"):
            self.detail.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _view_label(self) -> str:
        label = self.sidebar.current_filter.label
        if self.search.last_run:
            label += f", search “{self.search.last_run}”"
        return label

    def _on_export_triggered(self) -> None:
        flt = self.sidebar.current_filter
        self.exports.export(
            self.selected_ids(),
            self.current_query(),
            self._view_label(),
            flt.value if flt.kind == NodeKind.TAG else None,
        )

    def _on_export_bibliography_triggered(self) -> None:
        self.bibliographies.export(self.selected_ids(), self.current_query(), self._view_label())

    def _on_citation_style_changed(self) -> None:
        """The style chosen in Preferences: named in Copy As, used by the detail pane."""
        self.copy_as.update_texts(self.actions_by_id)
        self.detail.set_citation_style(*chosen_style(self.settings))

    def _on_find_duplicates_triggered(self) -> None:
        self.detail.flush()
        dialog = DuplicatesDialog(
            self.library, self.events, self.undo_stack, self, settings=self.settings
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

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
        dialog.accepted.connect(lambda: self._on_preferences_accepted(dialog))
        dialog.open()

    def _on_preferences_accepted(self, dialog: PreferencesDialog) -> None:
        if dialog.changes:
            self.events.changed.emit(dialog.changes)  # settings writes are announced too
        if dialog.citing_changed:
            self._on_citation_style_changed()
        if dialog.cayw_changed:
            trouble = self.cayw.start(wanted_port(self.settings))  # (it stops first)
            port = self.cayw.port
            self.status_bar.showMessage(
                trouble
                or (
                    f"Cite as you write listens on port {port}."
                    if port
                    else "Cite as you write is off."
                ),
                10_000,
            )
        if not self.library.autoexports():
            self.status_bar.clear_autoexport_failure()  # it may just have been removed
        self.autoexporter.schedule()  # new or changed auto-exports are written at once

    def _on_about_triggered(self) -> None:
        show_about(self, self.library)

    def _on_restore_backup_triggered(self) -> None:
        self.detail.flush()  # a note typed just now is kept in the library being replaced
        dialog = RestoreBackupDialog(
            self.library, self.events, self.undo_stack, self, settings=self.settings
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
