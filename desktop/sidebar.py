"""The sidebar: where a person narrows the table to a status, a tag, recent papers, the
reading queue or a saved search.

Tag housekeeping (rename, colour, merge, delete) lives in the tags' context menu, saved
searches' (save, rename, edit, delete) in theirs; each goes through undo commands like
every other edit.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QInputDialog,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from . import commands, db, messages
from .commands import (
    DeleteSavedSearchCommand,
    DeleteTagCommand,
    EditSavedSearchCommand,
    LibraryCommand,
    MergeTagsCommand,
    RenameSavedSearchCommand,
    RenameTagCommand,
    SaveSearchCommand,
    SetTagColorCommand,
)
from .hub import LibraryEvents
from .models import (
    COUNT_ROLE,
    FILTER_ROLE,
    GROUP_KINDS,
    HINT_ROLE,
    KIND_ROLE,
    NodeKind,
    SidebarFilter,
    SidebarModel,
    describe,
)

HEADINGS = GROUP_KINDS


class SidebarDelegate(QStyledItemDelegate):
    """Draws section headings as small captions and each entry's count at the right."""

    HEADING_GAP = 10

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        size.setHeight(max(size.height(), option.fontMetrics.height() + 10))
        if index.data(KIND_ROLE) in HEADINGS:
            size.setHeight(size.height() + self.HEADING_GAP)
            if index.data(HINT_ROLE):
                size.setHeight(size.height() + 3 * option.fontMetrics.height())
        return size

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        # The view that owns this delegate, not opt.widget: PySide6 6.11 crashed converting
        # the option's widget pointer while windows were being torn down.
        widget = self.parent() if isinstance(self.parent(), QWidget) else None
        style = widget.style() if widget is not None else None
        muted = opt.palette.color(QPalette.ColorRole.PlaceholderText)
        if index.data(KIND_ROLE) in HEADINGS:
            painter.save()
            font = opt.font
            font.setBold(True)
            font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
            painter.setFont(font)
            painter.setPen(muted)
            hint = index.data(HINT_ROLE)
            line = opt.fontMetrics.height() + 10
            rect = opt.rect.adjusted(6, self.HEADING_GAP, -6, 0)
            if hint:
                rect.setHeight(line)
            painter.drawText(
                rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, opt.text.upper()
            )
            if hint:  # the section is empty: how to fill it, under the heading
                font = opt.font
                font.setItalic(True)
                painter.setFont(font)
                below = opt.rect.adjusted(10, self.HEADING_GAP + line, -6, 0)
                painter.drawText(below, int(Qt.TextFlag.TextWordWrap), hint)
            painter.restore()
            return
        count = index.data(COUNT_ROLE)
        count_text = "" if count is None else str(count)
        text = opt.text
        opt.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
            text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        else:
            text_rect = QRect(opt.rect)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        fm = opt.fontMetrics
        count_width = fm.horizontalAdvance(count_text) + 10 if count_text else 0
        text_rect = text_rect.adjusted(2, 0, -count_width - 6, 0)
        painter.save()
        painter.setFont(opt.font)
        text_color = opt.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        painter.setPen(text_color)
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(text, Qt.TextElideMode.ElideRight, text_rect.width()),
        )
        if count_text:
            painter.setPen(text_color if selected else QColor(muted))
            count_rect = QRect(
                opt.rect.right() - count_width - 6, opt.rect.top(), count_width, opt.rect.height()
            )
            painter.drawText(
                count_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, count_text
            )
        painter.restore()


class Sidebar(QTreeView):
    """All papers, Recently added, Reading queue, Reading status, Saved searches and Tags,
    with counts.

    Signals:
        filter_changed(object): the chosen :class:`SidebarFilter` (a new entry was chosen,
            or the chosen tag disappeared and All papers took its place).
    """

    filter_changed = Signal(object)

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setAccessibleName("Library sections")
        self._library = library
        self._events = events
        self._undo_stack = undo_stack
        self._filter = SidebarFilter()
        #: What the search box holds, for Save Search… in the context menu (the window
        #: sets it with :meth:`set_search_text_source`); without it only the filter is saved.
        self._search_text: Callable[[], str] = lambda: ""
        self.sidebar_model = SidebarModel(library, events, self)
        self.setModel(self.sidebar_model)
        self.setItemDelegate(SidebarDelegate(self))
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setItemsExpandable(False)
        self.setIndentation(14)
        self.setUniformRowHeights(False)
        self.setFrameShape(QTreeView.Shape.NoFrame)
        self.viewport().setBackgroundRole(QPalette.ColorRole.Window)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setMinimumWidth(150)
        self.expandAll()
        self.setCurrentIndex(self.sidebar_model.index_for(self._filter))
        self.selectionModel().currentChanged.connect(self._on_selection_current_changed)
        self.customContextMenuRequested.connect(self._on_self_custom_context_menu_requested)
        self.sidebar_model.rowsInserted.connect(self._on_model_rows_inserted)
        # Connected after the model's own handler, so counts are fresh when this runs.
        events.changed.connect(self._on_events_changed)
        events.reloaded.connect(self._on_events_reloaded)

    @property
    def current_filter(self) -> SidebarFilter:
        return self._filter

    def select_filter(self, flt: SidebarFilter) -> bool:
        """Choose the entry for ``flt``; False if there is none (an unknown tag)."""
        index = self.sidebar_model.index_for(flt)
        if not index.isValid():
            return False
        self.setCurrentIndex(index)
        return True

    def index_of_tag(self, name: str) -> QModelIndex:
        return self.sidebar_model.index_for(SidebarFilter(NodeKind.TAG, name))

    # -- tag housekeeping -----------------------------------------------------------------------

    def rename_tag(self, name: str) -> None:
        new, ok = QInputDialog.getText(
            self, "Rename tag", f"New name for the tag “{name}”:", text=name
        )
        new = db.normal_tag(new)
        if not ok or not new or new == name:
            return
        if self._filter == SidebarFilter(NodeKind.TAG, name):
            self._filter = SidebarFilter(NodeKind.TAG, new)
        self._push(RenameTagCommand(self._library, self._events, name, new))

    def recolor_tag(self, name: str) -> None:
        current = QColor(self._library.tag_color(name) or "#4a90d9")
        color = QColorDialog.getColor(current, self, f"Colour of the tag “{name}”")
        if color.isValid():
            self._push(SetTagColorCommand(self._library, self._events, name, color.name()))

    def clear_tag_color(self, name: str) -> None:
        self._push(SetTagColorCommand(self._library, self._events, name, None))

    def merge_tag(self, name: str) -> None:
        others = [t for t in self.sidebar_model.tag_names() if t.lower() != name.lower()]
        target, ok = QInputDialog.getItem(
            self,
            "Merge tag",
            f"Give every paper tagged “{name}” this tag instead:",
            others,
            0,
            True,
        )
        target = db.normal_tag(target)
        if not ok or not target or target.lower() == name.lower():
            return
        if self._filter == SidebarFilter(NodeKind.TAG, name):
            self._filter = SidebarFilter(NodeKind.TAG, target)
        self._push(MergeTagsCommand(self._library, self._events, [name], target))

    def delete_tag(self, name: str) -> None:
        count = next((t.count for t in self._library.tags() if t.name == name), 0)
        noun = "paper" if count == 1 else "papers"
        if messages.confirm(
            self,
            "Delete tag",
            f"Delete the tag “{name}”? It is removed from {count} {noun}; the papers stay.\n"
            "Undo brings it back.",
        ):
            self._push(DeleteTagCommand(self._library, self._events, name))

    # -- saved searches ----------------------------------------------------------------------------

    def set_search_text_source(self, source: Callable[[], str]) -> None:
        """Where Save Search… in the context menu reads the search box's text."""
        self._search_text = source

    def current_query(self) -> db.Query:
        """The chosen entry's query with the search box's text (what the table shows)."""
        return self._filter.query(self._search_text())

    def save_search(self, query: db.Query) -> QInputDialog:
        """Ask for a name and save ``query``'s search text, tag and status under it (a
        dialog that does not block the window); the saved search is chosen once saved."""
        kept = db.Query(search=query.search.strip(), tag=query.tag, status=query.status)
        dialog = self._ask(
            "saveSearchDialog",
            "Save Search",
            f"Save {describe(kept)} as:",
            "",
            lambda name: self._on_save_search_named(name, kept),
        )
        return dialog

    def rename_saved_search(self, name: str) -> QInputDialog:
        return self._ask(
            "renameSavedSearchDialog",
            "Rename Saved Search",
            f"New name for the saved search “{name}”:",
            name,
            lambda new: self._on_rename_saved_search_named(name, new),
        )

    def edit_saved_search(self, name: str) -> QInputDialog:
        """Ask for the saved search's new text (its tag and status stay)."""
        query = self._library.saved_query(name)
        return self._ask(
            "editSavedSearchDialog",
            "Edit Saved Search",
            f"Search text of “{name}” (as typed in the search box):",
            query.search,
            lambda text: self._push(
                EditSavedSearchCommand(
                    self._library,
                    self._events,
                    name,
                    db.Query(search=text.strip(), tag=query.tag, status=query.status),
                )
            ),
        )

    def delete_saved_search(self, name: str) -> None:
        """Delete at once: Undo brings it back (one refused while an auto-export follows it
        says why)."""
        self._push(DeleteSavedSearchCommand(self._library, self._events, name))

    def saved_search_menu(self, name: str | None) -> QMenu:
        """The context menu of a saved search (``name``) or of the section's heading."""
        menu = QMenu(self)
        menu.setObjectName("savedSearchMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        save = menu.addAction("Save Search…", lambda: self.save_search(self.current_query()))
        save.setObjectName("saveSearchAction")
        if name is not None:
            menu.addSeparator()
            for label, slot, object_name in (
                ("Rename…", self.rename_saved_search, "renameSavedSearchAction"),
                ("Edit…", self.edit_saved_search, "editSavedSearchAction"),
                ("Delete", self.delete_saved_search, "deleteSavedSearchAction"),
            ):
                action = menu.addAction(label, lambda f=slot: f(name))
                action.setObjectName(object_name)
        return menu

    def _ask(
        self, object_name: str, title: str, label: str, text: str, done: Callable[[str], object]
    ) -> QInputDialog:
        dialog = QInputDialog(self)
        dialog.setObjectName(object_name)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextValue(text)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(done)
        dialog.open()
        return dialog

    def _on_save_search_named(self, name: str, query: db.Query) -> None:
        name = " ".join(name.split())
        if not name:
            return
        if self._push(SaveSearchCommand(self._library, self._events, name, query)):
            self.select_filter(SidebarFilter(NodeKind.SAVED, name))

    def _on_rename_saved_search_named(self, old: str, new: str) -> None:
        new = " ".join(new.split())
        if not new or new == old:
            return
        current = self._filter
        if current.kind == NodeKind.SAVED and (current.value or "").lower() == old.lower():
            # Before the change goes out, so the renamed entry stays chosen.
            self._filter = SidebarFilter(NodeKind.SAVED, new, current.saved)
        if not self._push(RenameSavedSearchCommand(self._library, self._events, old, new)):
            self._filter = current

    # -- inside ------------------------------------------------------------------------------------

    def _push(self, command: LibraryCommand) -> bool:
        return commands.push(self._undo_stack, command, self.window()) is None

    def _reselect(self) -> None:
        """Keep the chosen entry chosen after the tag rows were rebuilt."""
        index = self.sidebar_model.index_for(self._filter)
        if not index.isValid():
            self._filter = SidebarFilter()
            index = self.sidebar_model.index_for(self._filter)
            self.filter_changed.emit(self._filter)
        elif index.data(FILTER_ROLE) != self._filter:
            # The same entry with another query (a saved search edited, renamed, undone):
            # the table shows what it finds now.
            self._filter = index.data(FILTER_ROLE)
            self.filter_changed.emit(self._filter)
        if self.currentIndex() != index:
            blocker = self.selectionModel().blockSignals(True)
            self.setCurrentIndex(index)
            self.selectionModel().blockSignals(blocker)
            self.viewport().update()

    def _on_selection_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        flt = current.data(FILTER_ROLE)
        if flt is None or flt == self._filter:
            return
        self._filter = flt
        self.filter_changed.emit(flt)

    def _on_model_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self.expandAll()

    def _on_events_changed(self, changes: db.Changes) -> None:
        self._reselect()

    def _on_events_reloaded(self) -> None:
        self._reselect()

    def _on_self_custom_context_menu_requested(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        kind = index.data(KIND_ROLE)
        if kind in (NodeKind.SAVED, NodeKind.SAVED_GROUP):
            name = index.data(Qt.ItemDataRole.DisplayRole) if kind == NodeKind.SAVED else None
            self.saved_search_menu(name).popup(self.viewport().mapToGlobal(pos))
            return
        if kind != NodeKind.TAG:
            return
        name = index.data(Qt.ItemDataRole.DisplayRole)
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.rename_tag(name))
        menu.addAction("Change colour…", lambda: self.recolor_tag(name))
        if self._library.tag_color(name):
            menu.addAction("Remove colour", lambda: self.clear_tag_color(name))
        menu.addAction("Merge into…", lambda: self.merge_tag(name))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.delete_tag(name))
        menu.exec(self.viewport().mapToGlobal(pos))
