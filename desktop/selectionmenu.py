"""The Paper menu, which is also the table's right-click menu: edits of every selected paper.

Reading status, rating, tags (add, remove), entry type and opening a paper's link act on the
whole selection, each as one undo step; delete, copy \\cite, copy BibTeX and export (the
window's own actions) are added to the right-click menu beside them. Shortcuts: Ctrl+1,
Ctrl+2, Ctrl+3 mark as Unread, Reading, Read; Ctrl+Alt+0 to Ctrl+Alt+5 rate; Ctrl+T tags.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMenuBar, QStatusBar, QWidget

from . import db
from .commands import (
    AddTagsCommand,
    LibraryCommand,
    RemoveTagsCommand,
    SetEntryTypesCommand,
    SetRatingCommand,
    SetStatusCommand,
)
from .hub import LibraryEvents
from .papertable import PaperTable
from .widgets import open_link

Push = Callable[[LibraryCommand], bool]

STATUS_SHORTCUTS = {"unread": "Ctrl+1", "reading": "Ctrl+2", "read": "Ctrl+3"}


class SelectionMenu(QObject):
    """Builds the Paper menu and the table's context menu; acts on ``table``'s selection."""

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        table: PaperTable,
        window: QWidget,
        status: QStatusBar,
        push: Push,
    ) -> None:
        super().__init__(window)
        self._library = library
        self._events = events
        self._table = table
        self._window = window
        self._status = status
        self._push = push
        self.status_actions: dict[str, QAction] = {}
        for value in db.STATUSES:
            action = self._action(
                f"Mark as {db.STATUS_LABELS[value]}",
                STATUS_SHORTCUTS[value],
                lambda _c=False, v=value: self.set_status(v),
            )
            action.setObjectName(f"markAs{db.STATUS_LABELS[value]}")
            self.status_actions[value] = action
        self.rating_actions: list[QAction] = []
        for n in range(6):
            label = "No rating" if n == 0 else "★" * n
            action = self._action(label, f"Ctrl+Alt+{n}", lambda _c=False, r=n: self.set_rating(r))
            action.setObjectName(f"rate{n}")
            self.rating_actions.append(action)
        self.add_tag_action = self._action("Add Tag…", "Ctrl+T", lambda _c=False: self.add_tag())
        self.add_tag_action.setObjectName("addTagToSelection")
        self.open_link_action = self._action(
            "Open Link", "Ctrl+Shift+O", lambda _c=False: self.open_links()
        )
        self.open_link_action.setObjectName("openLink")
        self._context: list[QAction | None] = []

    # -- the menus ------------------------------------------------------------------------------

    def install(self, bar: QMenuBar, before: QMenu, context: Sequence[QAction | None]) -> QMenu:
        """Put the Paper menu in ``bar`` before ``before``, and make the table's right-click
        menu these edits followed by ``context`` (the window's own selection actions)."""
        menu = QMenu("&Paper", self._window)
        menu.setObjectName("paperMenu")
        self.fill(menu)
        bar.insertMenu(before.menuAction(), menu)
        self._context = list(context)
        self._table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._table.customContextMenuRequested.connect(
            lambda pos: self.show_context_menu(pos, self._context)
        )
        return menu

    def fill(self, menu: QMenu) -> None:
        """The Paper menu's items (the tag and type submenus are filled as they open)."""
        status = menu.addMenu("Reading &Status")
        status.addActions(list(self.status_actions.values()))
        rating = menu.addMenu("&Rating")
        rating.addActions(self.rating_actions)
        menu.addSeparator()
        menu.addAction(self.add_tag_action)
        remove = menu.addMenu("Remove T&ag")
        remove.setObjectName("removeTagMenu")
        remove.aboutToShow.connect(lambda: self._fill_remove_tags(remove))
        types = menu.addMenu("Entry &Type")
        types.setObjectName("entryTypeMenu")
        for entry_type in db.ENTRY_TYPES:
            types.addAction(f"@{entry_type}", lambda t=entry_type: self.set_type(t))
        menu.addSeparator()
        menu.addAction(self.open_link_action)

    def context_menu(self, extra: Sequence[QAction | None]) -> QMenu:
        """The right-click menu: these edits, then the window's own selection actions."""
        menu = QMenu(self._window)
        menu.setObjectName("paperContextMenu")
        self.fill(menu)
        menu.addSeparator()
        for action in extra:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        return menu

    def show_context_menu(self, pos: QPoint, extra: Sequence[QAction | None]) -> None:
        if not self._table.selected_ids():
            return
        self.context_menu(extra).popup(self._table.viewport().mapToGlobal(pos))

    def enable(self, has_selection: bool) -> None:
        for action in (
            *self.status_actions.values(),
            *self.rating_actions,
            self.add_tag_action,
            self.open_link_action,
        ):
            action.setEnabled(has_selection)

    # -- the edits ------------------------------------------------------------------------------

    def set_status(self, status: str) -> None:
        if ids := self._ids("mark"):
            self._push(SetStatusCommand(self._library, self._events, ids, status))

    def set_rating(self, rating: int) -> None:
        if ids := self._ids("rate"):
            self._push(SetRatingCommand(self._library, self._events, ids, rating))

    def add_tag(self) -> None:
        ids = self._ids("tag")
        if not ids:
            return
        n = len(ids)
        text, ok = QInputDialog.getText(
            self._window,
            "Add tag",
            f"Tags for the {n} selected paper{'s' if n != 1 else ''} (separated by commas):",
        )
        names = [t.strip() for t in text.split(",") if t.strip()]
        if ok and names:
            self._push(AddTagsCommand(self._library, self._events, ids, names))

    def remove_tag(self, name: str) -> None:
        if ids := self._ids("untag"):
            self._push(RemoveTagsCommand(self._library, self._events, ids, [name]))

    def set_type(self, entry_type: str) -> None:
        if ids := self._ids("change the type of"):
            self._push(SetEntryTypesCommand(self._library, self._events, ids, entry_type))

    def open_links(self) -> None:
        ids = self._ids("open")
        opened = 0
        for pid in ids[:10]:  # more than ten tabs at once is never what was meant
            links = self._library.paper(pid).links
            if links and open_link(links[0][1]):
                opened += 1
        if ids and not opened:
            self._status.showMessage("The selected papers have no link to open.", 6000)

    # -- inside ---------------------------------------------------------------------------------

    def _action(self, text: str, shortcut: str, slot: Callable[..., None]) -> QAction:
        action = QAction(text, self._window)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self._window.addAction(action)  # shortcuts work wherever the focus is
        return action

    def _ids(self, verb: str) -> list[int]:
        ids = self._table.selected_ids()
        if not ids:
            self._status.showMessage(f"No papers are selected: select some to {verb}.", 6000)
        return ids

    def _fill_remove_tags(self, menu: QMenu) -> None:
        menu.clear()
        rows = self._library.rows(self._table.selected_ids()[:5000])
        names = sorted(
            {n.strip() for row in rows.values() for n in row.tags.split(",") if n.strip()},
            key=str.lower,
        )
        for name in names:
            menu.addAction(name, lambda n=name: self.remove_tag(n))
        if not names:
            menu.addAction("(no tags)").setEnabled(False)
