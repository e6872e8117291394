"""Every user action in one registry: id, text, shortcut, tooltip, icon (as Picard's).

The main window makes one ``QAction`` per entry (:func:`create_actions`) and connects it;
menus and the toolbar are built from :data:`MENUS` and :data:`TOOLBAR`; tests find actions
by :class:`ActionId`, never by their text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QUndoStack,
)
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget


class ActionId(Enum):
    NEW_PAPER = auto()
    ADD_PDF = auto()
    ADD_BY_IDENTIFIER = auto()
    EDIT = auto()
    DELETE = auto()
    IMPORT = auto()
    PASTE_BIBTEX = auto()
    EXPORT = auto()
    EXPORT_AUX = auto()
    COPY_KEYS = auto()
    COPY_CITE = auto()
    COPY_BIBTEX = auto()
    COPY_CITEP = auto()
    COPY_AUTOCITE = auto()
    COPY_PANDOC = auto()
    COPY_TYPST = auto()
    COPY_FORMATTED_CITATION = auto()
    COPY_FORMATTED_REFERENCE = auto()
    EXPORT_BIBLIOGRAPHY = auto()
    QUICK_CITE = auto()
    SAVE_SEARCH = auto()
    REGENERATE_KEYS = auto()
    REFRESH_FROM_SOURCES = auto()
    FIND_DUPLICATES = auto()
    INDEX_FULLTEXT = auto()
    REBUILD_FULLTEXT = auto()
    RESTORE_BACKUP = auto()
    GROUP_SYNC = auto()
    GROUP_CONFLICTS = auto()
    UNDO = auto()
    REDO = auto()
    FIND = auto()
    SELECT_ALL = auto()
    SHOW_SIDEBAR = auto()
    SHOW_DETAIL = auto()
    PREFERENCES = auto()
    ABOUT = auto()
    QUIT = auto()


Shortcut = str | QKeySequence.StandardKey | None


@dataclass(frozen=True)
class ActionSpec:
    """How an action looks: menu text, shortcut, tooltip, themed icon and its fallback."""

    text: str
    shortcut: Shortcut = None
    tooltip: str = ""
    icon: str | None = None
    #: A line drawing of :data:`GLYPHS`, used when the desktop has no icon theme.
    glyph: str | None = None
    checkable: bool = False
    #: Only works with papers selected in the table.
    needs_selection: bool = False
    #: Short text for the toolbar.
    short: str | None = None
    #: A second shortcut (Ctrl+Y for redo, as on Windows and most Linux programs).
    also: str | None = None


ACTIONS: dict[ActionId, ActionSpec] = {
    ActionId.NEW_PAPER: ActionSpec(
        "&New Paper…",
        "Ctrl+N",
        "Add a paper by typing its details",
        "document-new",
        "new",
        short="New",
    ),
    ActionId.ADD_PDF: ActionSpec(
        "Add &PDF…",
        "Ctrl+Shift+N",
        "Make a paper of each PDF from what it says, the PDF stored with it (you can also "
        "drop PDFs below the papers)",
        "document-import",
    ),
    ActionId.ADD_BY_IDENTIFIER: ActionSpec(
        "Add by &Identifier…",
        "Ctrl+L",
        "Add papers by DOI, arXiv id or ISBN, or every identifier in a pasted text (looked "
        "up at doi.org, Crossref, arXiv and Open Library)",
        "edit-find",
    ),
    ActionId.EDIT: ActionSpec(
        "&Edit Paper",
        "F2",
        "Edit the selected paper's fields in the detail pane",
        "document-edit",
        "edit",
        needs_selection=True,
        short="Edit",
    ),
    ActionId.DELETE: ActionSpec(
        "&Delete Papers…",
        QKeySequence.StandardKey.Delete,
        "Delete the selected papers with their tags and notes (undoable)",
        "edit-delete",
        "delete",
        needs_selection=True,
        short="Delete",
    ),
    ActionId.IMPORT: ActionSpec(
        "&Import BibTeX…",
        "Ctrl+I",
        "Add the entries of .bib files (you can also drop them on the window)",
        "document-open",
        "import",
        short="Import",
    ),
    ActionId.PASTE_BIBTEX: ActionSpec(
        "&Paste BibTeX",
        "Ctrl+Shift+V",
        "Import BibTeX entries from the clipboard",
        "edit-paste",
        "import",
    ),
    ActionId.EXPORT: ActionSpec(
        "E&xport…",
        "Ctrl+Shift+E",
        "Write the selection, this view, a tag or everything to a .bib file",
        "document-save-as",
        "export",
        short="Export",
    ),
    ActionId.EXPORT_AUX: ActionSpec(
        "Export Entries Cited in .&aux…",
        "Ctrl+Alt+E",
        "Write exactly the entries a LaTeX document cites (from its .aux file) and name "
        "the cited keys the library lacks",
        "document-save",
    ),
    ActionId.COPY_KEYS: ActionSpec(
        "Copy Citation &Keys",
        "Ctrl+Shift+C",
        "Copy the selected papers' citation keys",
        "edit-copy",
        needs_selection=True,
    ),
    ActionId.COPY_CITE: ActionSpec(
        "Copy \\&cite{…}",
        "Ctrl+Shift+K",
        "Copy \\cite{key1,key2} for the selected papers",
        "edit-copy",
        "cite",
        needs_selection=True,
        short="\\cite",
    ),
    ActionId.COPY_BIBTEX: ActionSpec(
        "Copy &BibTeX",
        "Ctrl+Shift+B",
        "Copy the selected papers' BibTeX entries, exactly as export writes them",
        "edit-copy",
        needs_selection=True,
    ),
    ActionId.COPY_CITEP: ActionSpec(
        "\\cite&p{…}",
        None,
        "Copy natbib's \\citep{key1,key2} for the selected papers",
        needs_selection=True,
    ),
    ActionId.COPY_AUTOCITE: ActionSpec(
        "\\&autocite{…}",
        None,
        "Copy biblatex's \\autocite{key1,key2} for the selected papers",
        needs_selection=True,
    ),
    ActionId.COPY_PANDOC: ActionSpec(
        "Pan&doc [@…]",
        None,
        "Copy a Pandoc (Markdown) citation, [@key1; @key2], for the selected papers",
        needs_selection=True,
    ),
    ActionId.COPY_TYPST: ActionSpec(
        "&Typst @…",
        None,
        "Copy Typst references, @key1 @key2, for the selected papers",
        needs_selection=True,
    ),
    ActionId.COPY_FORMATTED_CITATION: ActionSpec(
        "&Formatted Citation",
        None,
        "Copy the selected papers' in-text citation, as “(Wang et al., 2023)”, in the "
        "citation style chosen in Preferences (formatted, for word processors)",
        needs_selection=True,
    ),
    ActionId.COPY_FORMATTED_REFERENCE: ActionSpec(
        "Formatted &Reference",
        "Ctrl+Alt+C",
        "Copy the selected papers' references as a reference list writes them, in the "
        "citation style chosen in Preferences (formatted, for word processors)",
        needs_selection=True,
    ),
    ActionId.EXPORT_BIBLIOGRAPHY: ActionSpec(
        "Export &Bibliography…",
        None,
        "Write the selection, this view or every paper as a formatted reference list "
        "(HTML, plain text or Markdown) in a citation style",
        "document-export",
    ),
    ActionId.QUICK_CITE: ActionSpec(
        "&Quick Cite…",
        "Ctrl+Alt+K",
        "Search and pick papers, then copy \\cite{…} for them: the picker editors bring up "
        "through cite as you write",
        "edit-find",
        "cite",
    ),
    ActionId.SAVE_SEARCH: ActionSpec(
        "Save &Search…",
        "Ctrl+Shift+S",
        "Keep what the table shows (the search text and the sidebar's tag or status) as a "
        "saved search in the sidebar",
        "document-save",
    ),
    ActionId.REGENERATE_KEYS: ActionSpec(
        "Re&generate Citation Keys…",
        None,
        "Give the selected papers new keys by the key pattern; the old keys stay as aliases "
        "(undoable)",
        "view-refresh",
        needs_selection=True,
    ),
    ActionId.REFRESH_FROM_SOURCES: ActionSpec(
        "Re&fresh from Sources…",
        "Ctrl+Shift+R",
        "Look the selected papers up again and choose, field by field, what to update "
        "(undoable; the key never changes)",
        "view-refresh",
        needs_selection=True,
    ),
    ActionId.FIND_DUPLICATES: ActionSpec(
        "Find D&uplicates…",
        None,
        "Find papers that share a DOI, an arXiv id, or a title, year and first author, and "
        "merge them (undoable)",
        "edit-find-replace",
    ),
    ActionId.INDEX_FULLTEXT: ActionSpec(
        "Read &PDFs for Search",
        None,
        "Read the text of attached PDFs not read yet, so that search finds their words "
        "(runs by itself when files are attached)",
        "system-search",
    ),
    ActionId.REBUILD_FULLTEXT: ActionSpec(
        "Read All PDFs &Again",
        None,
        "Read the text of every attached PDF again (after a PDF reader update, say)",
        "view-refresh",
    ),
    ActionId.RESTORE_BACKUP: ActionSpec(
        "&Restore Backup…",
        None,
        "Replace the library with one of its backups (the library as it is now is kept)",
        "document-revert",
    ),
    ActionId.GROUP_SYNC: ActionSpec(
        "Sync &Now",
        "Ctrl+Alt+Y",
        "Send this library's changes to the group and fetch the others' now (it also "
        "happens by itself)",
        "view-refresh",
    ),
    ActionId.GROUP_CONFLICTS: ActionSpec(
        "&Conflicts…",
        None,
        "Choose between this library's value and the group's where both changed the same "
        "field (undoable)",
    ),
    ActionId.UNDO: ActionSpec(
        "&Undo", "Ctrl+Z", "Undo the last change", "edit-undo", "undo", short="Undo"
    ),
    ActionId.REDO: ActionSpec(
        "&Redo",
        "Ctrl+Shift+Z",
        "Redo what was undone",
        "edit-redo",
        "redo",
        short="Redo",
        also="Ctrl+Y",
    ),
    ActionId.FIND: ActionSpec(
        "&Find", "Ctrl+F", "Search titles, authors, abstracts, tags and notes", "edit-find"
    ),
    ActionId.SELECT_ALL: ActionSpec(
        "Select &All Papers", "Ctrl+Shift+A", "Select every paper in the table", "edit-select-all"
    ),
    ActionId.SHOW_SIDEBAR: ActionSpec(
        "Show &Sidebar", "Ctrl+Alt+S", "Show or hide the sidebar", checkable=True
    ),
    ActionId.SHOW_DETAIL: ActionSpec(
        "Show &Detail Pane", "Ctrl+Alt+D", "Show or hide the detail pane", checkable=True
    ),
    ActionId.PREFERENCES: ActionSpec(
        "&Preferences…",
        "Ctrl+,",
        "Citation key pattern, export profiles and auto-exports",
        "preferences-system",
    ),
    ActionId.ABOUT: ActionSpec("&About Citedesk", None, "Version and licence", "help-about"),
    ActionId.QUIT: ActionSpec(
        "&Quit", QKeySequence.StandardKey.Quit, "Close Citedesk", "application-exit"
    ),
}

#: A submenu of a menu: its title and its actions.
Submenu = tuple[str, list[ActionId]]

#: Edit ▸ Copy As: the selected papers cited for each kind of document.
COPY_AS: Submenu = (
    "Cop&y As",
    [
        ActionId.COPY_CITE,
        ActionId.COPY_CITEP,
        ActionId.COPY_AUTOCITE,
        ActionId.COPY_PANDOC,
        ActionId.COPY_TYPST,
        ActionId.COPY_FORMATTED_CITATION,
        ActionId.COPY_FORMATTED_REFERENCE,
    ],
)

#: Menus, in order; None is a separator, a (title, actions) pair a submenu.
MENUS: dict[str, list[ActionId | Submenu | None]] = {
    "&File": [
        ActionId.NEW_PAPER,
        ActionId.ADD_PDF,
        ActionId.ADD_BY_IDENTIFIER,
        None,
        ActionId.IMPORT,
        ActionId.PASTE_BIBTEX,
        None,
        ActionId.EXPORT,
        ActionId.EXPORT_AUX,
        ActionId.EXPORT_BIBLIOGRAPHY,
        None,
        ActionId.RESTORE_BACKUP,
        ("&Group", [ActionId.GROUP_SYNC, ActionId.GROUP_CONFLICTS]),
        None,
        ActionId.QUIT,
    ],
    "&Edit": [
        ActionId.UNDO,
        ActionId.REDO,
        None,
        ActionId.EDIT,
        ActionId.DELETE,
        None,
        ActionId.COPY_KEYS,
        ActionId.COPY_CITE,
        ActionId.COPY_BIBTEX,
        COPY_AS,
        ActionId.QUICK_CITE,
        None,
        ActionId.REGENERATE_KEYS,
        ActionId.FIND_DUPLICATES,
        ActionId.INDEX_FULLTEXT,
        ActionId.REBUILD_FULLTEXT,
        None,
        ActionId.SELECT_ALL,
        ActionId.FIND,
        ActionId.SAVE_SEARCH,
        None,
        ActionId.PREFERENCES,
    ],
    "&View": [ActionId.SHOW_SIDEBAR, ActionId.SHOW_DETAIL],
    "&Help": [ActionId.ABOUT],
}

TOOLBAR: list[ActionId | None] = [
    ActionId.IMPORT,
    ActionId.EXPORT,
    None,
    ActionId.NEW_PAPER,
    ActionId.DELETE,
    None,
    ActionId.UNDO,
    ActionId.REDO,
    None,
    ActionId.COPY_CITE,
]


#: Line drawings on a 16 x 16 grid: polylines, each a list of points.
GLYPHS: dict[str, list[list[tuple[float, float]]]] = {
    "import": [
        [(2.5, 10), (2.5, 13.5), (13.5, 13.5), (13.5, 10)],
        [(8, 2), (8, 10)],
        [(5, 7), (8, 10), (11, 7)],
    ],
    "export": [
        [(2.5, 10), (2.5, 13.5), (13.5, 13.5), (13.5, 10)],
        [(8, 10), (8, 2)],
        [(5, 5), (8, 2), (11, 5)],
    ],
    "new": [[(8, 3), (8, 13)], [(3, 8), (13, 8)]],
    "edit": [[(3, 13), (3.5, 10.5), (11, 3), (13, 5), (5.5, 12.5), (3, 13)]],
    "delete": [
        [(2.5, 4.5), (13.5, 4.5)],
        [(6, 4.5), (6, 2.5), (10, 2.5), (10, 4.5)],
        [(4, 4.5), (4.8, 13.5), (11.2, 13.5), (12, 4.5)],
        [(6.8, 7), (6.8, 11)],
        [(9.2, 7), (9.2, 11)],
    ],
    "undo": [[(5.5, 3), (2.5, 6), (5.5, 9)], [(2.5, 6), (10, 6), (13, 9), (10, 13), (6, 13)]],
    "redo": [[(10.5, 3), (13.5, 6), (10.5, 9)], [(13.5, 6), (6, 6), (3, 9), (6, 13), (10, 13)]],
    "search": [
        [
            (6.5 + 4 * math.cos(a * math.pi / 8), 6.5 + 4 * math.sin(a * math.pi / 8))
            for a in range(17)
        ],
        [(9.5, 9.5), (13.5, 13.5)],
    ],
    "cite": [
        [(6, 2.5), (3.5, 2.5), (3.5, 13.5), (6, 13.5)],
        [(10, 2.5), (12.5, 2.5), (12.5, 13.5), (10, 13.5)],
        [(8, 7.5), (8, 8.5)],
    ],
}


def _glyph_pixmap(glyph: str, color: QColor, size: int = 16, scale: float = 2.0) -> QPixmap:
    pixmap = QPixmap(int(size * scale), int(size * scale))
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(color, 1.5)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.scale(size / 16, size / 16)
    for line in GLYPHS[glyph]:
        path = QPainterPath(QPointF(*line[0]))
        for point in line[1:]:
            path.lineTo(QPointF(*point))
        painter.drawPath(path)
    painter.end()
    return pixmap


def glyph_icon(glyph: str, palette: QPalette) -> QIcon:
    """A line icon in the palette's text colour (so it suits light and dark themes)."""
    icon = QIcon()
    normal = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText)
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    if disabled == normal:
        disabled = QColor(normal)
        disabled.setAlphaF(0.35)
    for size in (16, 22, 24, 32):
        icon.addPixmap(_glyph_pixmap(glyph, normal, size), QIcon.Mode.Normal)
        icon.addPixmap(_glyph_pixmap(glyph, disabled, size), QIcon.Mode.Disabled)
    return icon


def icon_for(spec: ActionSpec, widget: QWidget) -> QIcon:
    """The desktop theme's icon, else a line drawing in the palette's colours, else none."""
    if spec.icon and QIcon.hasThemeIcon(spec.icon):
        return QIcon.fromTheme(spec.icon)
    if spec.glyph is not None:
        return glyph_icon(spec.glyph, widget.palette())
    return QIcon()


def refresh_icons(actions: dict[ActionId, QAction], widget: QWidget) -> None:
    """Draw the icons again after the palette changed (light to dark or back)."""
    for action_id, action in actions.items():
        icon = icon_for(ACTIONS[action_id], widget)
        if not icon.isNull():
            action.setIcon(icon)


def create_actions(parent: QWidget) -> dict[ActionId, QAction]:
    """One QAction per registry entry, owned by ``parent`` (not yet connected)."""
    actions: dict[ActionId, QAction] = {}
    for action_id, spec in ACTIONS.items():
        action = QAction(spec.text, parent)
        action.setObjectName(f"action{action_id.name.title().replace('_', '')}")
        if spec.shortcut is not None:
            action.setShortcuts(
                [QKeySequence(spec.shortcut), *([QKeySequence(spec.also)] if spec.also else [])]
            )
        if spec.tooltip:
            shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{spec.tooltip} ({shortcut})" if shortcut else spec.tooltip)
            action.setStatusTip(spec.tooltip)
        if spec.short:
            action.setIconText(spec.short)
        icon = icon_for(spec, parent)
        if not icon.isNull():
            action.setIcon(icon)
        action.setIconVisibleInMenu(False)
        action.setCheckable(spec.checkable)
        parent.addAction(action)
        actions[action_id] = action
    return actions


def enable_selection_actions(actions: dict[ActionId, QAction], has_selection: bool) -> None:
    """Actions on the selected papers work only while some are selected."""
    for action_id, action in actions.items():
        if ACTIONS[action_id].needs_selection:
            action.setEnabled(has_selection)


def follow_undo_stack(actions: dict[ActionId, QAction], stack: QUndoStack) -> None:
    """Undo and Redo work the stack, are enabled when it has a step, and name the step."""
    undo, redo = actions[ActionId.UNDO], actions[ActionId.REDO]
    undo.triggered.connect(stack.undo)
    redo.triggered.connect(stack.redo)
    stack.canUndoChanged.connect(undo.setEnabled)
    stack.canRedoChanged.connect(redo.setEnabled)

    def name_undo(text: str) -> None:
        undo.setText(f"&Undo {text}" if text else "&Undo")

    def name_redo(text: str) -> None:
        redo.setText(f"&Redo {text}" if text else "&Redo")

    stack.undoTextChanged.connect(name_undo)
    stack.redoTextChanged.connect(name_redo)
    undo.setEnabled(stack.canUndo())
    redo.setEnabled(stack.canRedo())


def build_menus(bar: QMenuBar, actions: dict[ActionId, QAction]) -> dict[str, QMenu]:
    """The menu bar of :data:`MENUS`; returns the menus (and submenus) by title."""
    menus: dict[str, QMenu] = {}
    for title, items in MENUS.items():
        menu = bar.addMenu(title)
        menu.setObjectName(f"menu{title.strip('&')}")
        for item in items:
            if item is None:
                menu.addSeparator()
            elif isinstance(item, tuple):
                sub_title, sub_items = item
                submenu = menu.addMenu(sub_title)
                submenu.setObjectName(f"menu{sub_title.replace('&', '').replace(' ', '')}")
                for sub_item in sub_items:
                    submenu.addAction(actions[sub_item])
                menus[sub_title] = submenu
            else:
                menu.addAction(actions[item])
        menus[title] = menu
    return menus


def build_toolbar(actions: dict[ActionId, QAction]) -> QToolBar:
    """The main toolbar of :data:`TOOLBAR`: small icons with short text beside them."""
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
            toolbar.addAction(actions[item])
    return toolbar
