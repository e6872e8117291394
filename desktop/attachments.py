"""A paper's files in the window: the Files list of the detail pane, dropped files, new
papers from PDFs, and opening a file with the desktop's own program.

Every change (attach, detach, rename, make main, a paper from a PDF) is a command of
``desktop/commands.py`` on the window's undo stack; the list redraws from the ``Changes``
it hears like every other view. Files are opened only through ``QDesktopServices`` (the
desktop's default program), never by running a program ourselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QThread,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QIcon,
    QKeyEvent,
    QPainter,
    QPalette,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from . import db
from .commands import (
    AddPaperFromPdfCommand,
    AttachFilesCommand,
    DetachFilesCommand,
    LibraryCommand,
    NoteFromAnnotationsCommand,
    RenameAttachmentCommand,
    SetAttachmentRoleCommand,
    push,
)
from .hub import LibraryEvents
from .widgets import heading, muted

Push = Callable[[LibraryCommand], bool]

#: Dropped files with these endings are BibTeX to import, not files to attach.
BIB_SUFFIXES = (".bib", ".bibtex")
#: Rows the Files list shows before it scrolls (so it never pushes the rest away).
MAX_ROWS = 6
#: Where a row keeps its attachment id.
ATTACHMENT_ROLE = Qt.ItemDataRole.UserRole
#: Where a row keeps its second line: size, main file, stored or linked, missing.
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 1
#: Whether a row's file is missing (drawn greyed).
MISSING_ROLE = Qt.ItemDataRole.UserRole + 2


def open_file(path: Path, page: int | None = None) -> bool:
    """Open a file with the desktop's program for it (never through a shell), at ``page``
    where the program can: a ``#page=N`` fragment, which browsers and some PDF viewers
    follow and xdg-open drops."""
    url = QUrl.fromLocalFile(str(path))
    if page is not None:
        url.setFragment(f"page={page}")
    return QDesktopServices.openUrl(url)


def show_in_folder(path: Path) -> bool:
    """Open the folder a file is in, in the desktop's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


def describe(a: db.Attachment) -> str:
    """A file's second line: "missing", else its size, "main" and where it is kept."""
    parts = ["missing"] if a.missing else [db.human_size(a.size) if a.size is not None else ""]
    if a.role == "main":
        parts.append("main file")
    parts.append("stored" if a.stored else "linked")
    return " · ".join(p for p in parts if p)


def dropped_files(mime: QMimeData) -> list[str]:
    """The local files among dropped URLs that are there to attach ([] if the drop is
    only BibTeX files, which the window imports)."""
    if not mime.hasUrls():
        return []
    files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
    files = [f for f in files if Path(f).is_file()]
    if all(f.lower().endswith(BIB_SUFFIXES) for f in files):
        return []
    return files


def dropped_pdfs(mime: QMimeData) -> list[str]:
    """The dropped files that look like PDFs (by name: the library reads them properly)."""
    return [f for f in dropped_files(mime) if f.lower().endswith(".pdf")]


class _FileDelegate(QStyledItemDelegate):
    """Draws a file as two lines: its name (whole, when the pane allows), and below it,
    quieter, its size, role and where it is kept."""

    PAD = 4

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        fm = option.fontMetrics
        return QSize(0, 2 * fm.height() + 2 * self.PAD)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        name, opt.text = opt.text, ""
        icon = QIcon(opt.icon)  # a copy: the option's own is cleared next
        opt.icon = QIcon()
        widget = self.parent() if isinstance(self.parent(), QWidget) else None
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        missing = bool(index.data(MISSING_ROLE))
        text = opt.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        quiet = QColor(text) if selected else opt.palette.color(QPalette.ColorRole.PlaceholderText)
        if selected:
            quiet.setAlphaF(0.8)
        fm = QFontMetrics(option.font)
        rect = opt.rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        side = fm.height()
        icon.paint(painter, QRect(rect.left(), rect.top(), side, side))
        left = rect.left() + side + 6
        width = rect.right() - left
        painter.save()
        painter.setFont(opt.font)
        painter.setPen(quiet if missing else text)
        top = QRect(left, rect.top(), width, fm.height())
        painter.drawText(
            top,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(opt.font).elidedText(name, Qt.TextElideMode.ElideMiddle, width),
        )
        painter.setFont(option.font)
        painter.setPen(quiet)
        bottom = QRect(left, rect.top() + fm.height(), width, fm.height())
        detail = str(index.data(DETAIL_ROLE) or "")
        painter.drawText(
            bottom,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(detail, Qt.TextElideMode.ElideRight, width),
        )
        painter.restore()


class _FileTree(QTreeWidget):
    """The rows of the Files list; Enter opens, Delete detaches, F2 renames (before the
    window's shortcuts for the same keys, which act on papers).

    Signals:
        key_pressed(int): one of the keys above, on the current row.
    """

    key_pressed = Signal(int)
    KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Delete, Qt.Key.Key_F2)

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in self.KEYS
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            and self.currentItem() is not None
        ):
            event.accept()  # ours, not the window's Delete Papers or Edit Paper
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in self.KEYS and self.currentItem() is not None:
            self.key_pressed.emit(event.key())
            return
        super().keyPressEvent(event)


class AttachmentList(QWidget):
    """The Files section: one row a file (name, size, main, stored or linked, missing),
    with Open, Show in Folder, Rename…, Make Main File and Detach, and Attach File….

    Signals:
        file_opened(object): the Path of a file handed to the desktop to open.
    """

    file_opened = Signal(object)

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        push: Push,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentsSection")
        self.library = library
        self.events = events
        self._push = push
        self._paper_id: int | None = None
        self._shown: list[db.Attachment] = []
        self._build()

    # -- public API -----------------------------------------------------------------------

    @property
    def attachments(self) -> list[db.Attachment]:
        """The files shown, in their order."""
        return list(self._shown)

    def show_paper(self, paper_id: int | None) -> None:
        """Show a paper's files as they are now (None: no paper)."""
        same_paper = paper_id == self._paper_id
        self._paper_id = paper_id
        files = self.library.attachments_of(paper_id) if paper_id is not None else []
        if same_paper and files == self._shown:
            return
        current = self.current() if same_paper else None
        self._shown = files
        self.tree.clear()
        for a in files:
            self.tree.addTopLevelItem(self._item(a))
        keep = next((i for i, a in enumerate(files) if current and a.id == current.id), 0)
        if files:
            self.tree.setCurrentItem(self.tree.topLevelItem(keep))
        rows = min(len(files), MAX_ROWS)
        row_height = self.tree.sizeHintForRow(0) if files else 0
        self.tree.setFixedHeight(rows * max(row_height, 1) + 2 * self.tree.frameWidth() + 2)
        self.tree.setVisible(bool(files))
        self._empty.setVisible(not files)
        self._update_buttons()

    def current(self) -> db.Attachment | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        aid = item.data(0, ATTACHMENT_ROLE)
        return next((a for a in self._shown if a.id == aid), None)

    def select_file(self, name: str) -> bool:
        """Make the file of that name the current row (for keys and scripts)."""
        for i, a in enumerate(self._shown):
            if a.name == name:
                self.tree.setCurrentItem(self.tree.topLevelItem(i))
                return True
        return False

    def attach(self, paths: Sequence[str], store: bool = True) -> bool:
        """Attach files to the paper shown, as one undo step."""
        if self._paper_id is None or not paths:
            return False
        return self._push(
            AttachFilesCommand(self.library, self.events, self._paper_id, paths, store)
        )

    def open_current(self) -> bool:
        a = self.current()
        if a is None or a.missing:
            return False
        self.file_opened.emit(a.path)
        if not open_file(a.path):
            return False
        # The reading queue shows when a paper was last opened (not an undo step).
        self.events.changed.emit(self.library.mark_opened(a.paper_id))
        return True

    def show_current_in_folder(self) -> bool:
        a = self.current()
        return a is not None and show_in_folder(a.path)

    def rename_current(self) -> None:
        """Ask for a stored file's new name (a dialog that does not block the window)."""
        a = self.current()
        if a is None or not a.stored:
            return
        dialog = QInputDialog(self)
        dialog.setObjectName("renameFileDialog")
        dialog.setWindowTitle("Rename File")
        dialog.setLabelText(f"New name for {a.name} (in the library's files folder):")
        dialog.setTextValue(a.name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda name, aid=a.id: self._rename(aid, name))
        dialog.open()

    def make_current_main(self) -> bool:
        a = self.current()
        if a is None or a.role == "main":
            return False
        return self._push(SetAttachmentRoleCommand(self.library, self.events, a.id, "main"))

    def note_from_annotations(self) -> bool:
        """The current PDF's highlights and comments as a note of the paper (Notes tab)."""
        a = self.current()
        if a is None or a.missing:
            return False
        return self._push(NoteFromAnnotationsCommand(self.library, self.events, a.id, a.name))

    def detach_current(self) -> bool:
        a = self.current()
        if a is None:
            return False
        return self._push(DetachFilesCommand(self.library, self.events, [a.id], a.name))

    def choose_files(self) -> None:
        """Attach File…: ask for files, then store them with the paper."""
        if self._paper_id is None:
            return
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Attach Files", "", "PDF files (*.pdf);;All files (*)"
        )
        if paths:
            self.attach(paths)

    def context_menu(self) -> QMenu:
        """What a right-click on a row offers (the actions of the More button)."""
        menu = QMenu(self)
        menu.setObjectName("fileContextMenu")
        self._fill_menu(menu)
        return menu

    # -- building -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(heading("Files"))
        self.tree = _FileTree()
        self.tree.setObjectName("attachmentList")
        self.tree.setAccessibleName("Files")
        self.tree.setColumnCount(1)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setItemDelegate(_FileDelegate(self.tree))
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_custom_context_menu_requested)
        self.tree.itemDoubleClicked.connect(self._on_tree_item_double_clicked)
        self.tree.currentItemChanged.connect(self._on_tree_current_item_changed)
        self.tree.key_pressed.connect(self._on_tree_key_pressed)
        layout.addWidget(self.tree)
        self._empty = muted(QLabel("No files yet: drop them here, or Attach File…"))
        self._empty.setObjectName("noFilesLabel")
        self._empty.setWordWrap(True)
        layout.addWidget(self._empty)

        self.attach_button = QPushButton("Attach File…")
        self.attach_button.setObjectName("attachFileButton")
        self.attach_button.setToolTip("Copy files into the library's files folder, with this paper")
        self.attach_button.clicked.connect(self.choose_files)
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openFileButton")
        self.open_button.setToolTip("Open the file with the desktop's program for it (Enter)")
        self.open_button.clicked.connect(self.open_current)
        self.more_button = QToolButton()
        self.more_button.setObjectName("fileMoreButton")
        self.more_button.setText("More")
        self.more_button.setToolTip("Show in folder, rename, make main file, detach")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        more = QMenu(self.more_button)
        more.setObjectName("fileMoreMenu")
        more.aboutToShow.connect(lambda: self._fill_menu(more))
        self.more_button.setMenu(more)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.attach_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.more_button)
        layout.addLayout(buttons)

    def _item(self, a: db.Attachment) -> QTreeWidgetItem:
        item = QTreeWidgetItem([a.name])
        item.setData(0, ATTACHMENT_ROLE, a.id)
        item.setData(0, DETAIL_ROLE, describe(a))
        item.setData(0, MISSING_ROLE, a.missing)
        style = self.style()
        where = "stored in the library's files folder" if a.stored else "linked where it is"
        if a.missing:
            item.setIcon(0, style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
            tip = f"Missing: not found at {a.path}"
        else:
            item.setIcon(0, style.standardIcon(QStyle.StandardPixmap.SP_FileIcon))
            tip = str(a.path)
        role = "Main file" if a.role == "main" else "Supplement"
        item.setToolTip(0, f"{tip}\n{role}, {where}")
        if a.role == "main":
            font = QFont(self.font())
            font.setBold(True)
            item.setFont(0, font)
        return item

    def _fill_menu(self, menu: QMenu) -> None:
        menu.clear()
        a = self.current()
        actions = (
            ("openFileAction", "&Open\tEnter", self.open_current, a is not None and not a.missing),
            ("showInFolderAction", "Show in &Folder", self.show_current_in_folder, a is not None),
            ("renameFileAction", "&Rename…\tF2", self.rename_current, a is not None and a.stored),
            (
                "makeMainFileAction",
                "Make &Main File",
                self.make_current_main,
                a is not None and a.role != "main",
            ),
            (
                "annotationsNoteAction",
                "Note from &Annotations",
                self.note_from_annotations,
                a is not None and a.is_pdf and not a.missing,
            ),
            ("detachFileAction", "&Detach\tDel", self.detach_current, a is not None),
        )
        for name, text, slot, enabled in actions:
            action = menu.addAction(text)
            action.setObjectName(name)
            action.setEnabled(enabled)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            if name == "openFileAction":
                menu.addSeparator()
            if name in ("makeMainFileAction", "annotationsNoteAction"):
                menu.addSeparator()

    def _update_buttons(self) -> None:
        a = self.current()
        self.open_button.setEnabled(a is not None and not a.missing)
        self.more_button.setEnabled(a is not None)

    def _rename(self, attachment_id: int, name: str) -> None:
        if name.strip():
            self._push(RenameAttachmentCommand(self.library, self.events, attachment_id, name))

    # -- Qt events and slots --------------------------------------------------------------

    def _on_tree_custom_context_menu_requested(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        self.tree.setCurrentItem(item)
        self.context_menu().popup(self.tree.viewport().mapToGlobal(pos))

    def _on_tree_item_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        self.open_current()

    def _on_tree_current_item_changed(self, *_items: QTreeWidgetItem | None) -> None:
        self._update_buttons()

    def _on_tree_key_pressed(self, key: int) -> None:
        if key == Qt.Key.Key_Delete:
            self.detach_current()
        elif key == Qt.Key.Key_F2:
            self.rename_current()
        else:
            self.open_current()


class _PdfReader(QThread):
    """Reads one PDF off the GUI thread: its hash and what it says of itself.

    Signals:
        read(str, str, object, str): path, SHA-256 ('' if unreadable), the entry type and
            fields (None if unreadable) and the reason it could not be read.
    """

    read = Signal(str, str, object, str)

    def __init__(self, path: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path

    def run(self) -> None:
        try:
            digest = db.file_hash(Path(self.path))
        except OSError as exc:
            self.read.emit(self.path, "", None, exc.strerror or str(exc))
            return
        try:
            self.read.emit(self.path, digest, db.read_pdf_paper(self.path), "")
        except db.LibraryError as exc:
            self.read.emit(self.path, digest, None, str(exc))


class PdfAdder(QObject):
    """New papers from PDFs, each an undo step; a PDF whose content a paper has already
    gives that paper instead of a second one. Each PDF is read in a thread (tens of
    milliseconds, more for a large one); only the write happens on the GUI thread.

    Signals:
        progress(int, int, str): PDFs done, PDFs in all, the file being read.
        finished(object): a :class:`PdfReport` once the last PDF is done.
    """

    progress = Signal(int, int, str)
    finished = Signal(object)

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.events = events
        self.undo_stack = undo_stack
        self._queue: list[str] = []
        self._total = 0
        self._report = PdfReport()
        self._reader: _PdfReader | None = None

    @property
    def running(self) -> bool:
        return bool(self._queue) or self._reader is not None

    def add(self, paths: Iterable[str]) -> None:
        """Make papers of these PDFs (after any still being added)."""
        new = [str(p) for p in paths]
        if not new:
            return
        if not self._queue:
            self._total = 0
            self._report = PdfReport()
        self._queue += new
        self._total += len(new)
        if self._reader is None:
            self._read_next()

    def cancel(self) -> None:
        """Stop after the PDF being read (papers made so far stay, each undoable)."""
        self._queue.clear()

    def wait(self) -> None:
        """Wait for the PDF being read (the window is closing)."""
        self._queue.clear()
        if self._reader is not None:
            self._reader.wait()

    def _read_next(self) -> None:
        path = self._queue.pop(0)
        done = self._total - len(self._queue)
        self.progress.emit(done, self._total, Path(path).name)
        reader = _PdfReader(path, self)
        reader.read.connect(self._on_reader_read)
        reader.finished.connect(reader.deleteLater)
        self._reader = reader
        reader.start()

    def _on_reader_read(self, path: str, digest: str, read: object, error: str) -> None:
        if self._reader is not None:
            self._reader.wait()
        self._reader = None
        self._add_one(path, digest, read, error)
        if self._queue:
            self._read_next()
        else:
            self.finished.emit(self._report)

    def _add_one(self, path: str, digest: str, read: object, error: str) -> None:
        report = self._report
        existing = self.library.paper_for_file(path, digest) if digest else None
        if existing is not None:
            report.existing.append(existing)
            return
        if read is None:
            report.failed.append((Path(path).name, error))
            return
        command = AddPaperFromPdfCommand(self.library, self.events, path, read)
        error = push(self.undo_stack, command)
        if error is not None:
            report.failed.append((Path(path).name, str(error)))
        elif command.paper_id is not None:
            report.added.append(command.paper_id)


class PdfReport:
    """What :class:`PdfAdder` did: papers made, papers that had the PDF, PDFs it could
    not read (file name, reason)."""

    def __init__(self) -> None:
        self.added: list[int] = []
        self.existing: list[int] = []
        self.failed: list[tuple[str, str]] = []

    @property
    def papers(self) -> list[int]:
        """Every paper the PDFs led to, new or found."""
        return list(dict.fromkeys(self.added + self.existing))

    def summary(self) -> str:
        parts = []
        if self.added:
            n = len(self.added)
            parts.append(f"added {n} paper{'s' if n != 1 else ''} from PDFs")
        if self.existing:
            n = len(self.existing)
            parts.append(f"{n} PDF{'s' if n != 1 else ''} already in the library (selected)")
        if self.failed:
            name, reason = self.failed[0]
            more = f" and {len(self.failed) - 1} more" if len(self.failed) > 1 else ""
            parts.append(f"could not read {name}{more}: {reason}")
        text = "; ".join(parts) or "no PDFs added"
        return text[0].upper() + text[1:]
