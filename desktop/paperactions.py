"""What the window does to papers: add a new one, and copy the selected ones' citation
keys, ``\\cite{}`` or BibTeX, delete them, or give them new citation keys.

Each write is one undoable command; a write that asks first (delete, new keys) says what
it will do, and the status bar says what was done.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QUndoStack
from PySide6.QtWidgets import QStatusBar, QWidget

from . import commands, db, messages
from .commands import (
    AddPaperCommand,
    DeletePapersCommand,
    LibraryCommand,
    RegenerateKeysCommand,
)
from .dialogs import NewPaperDialog
from .hub import LibraryEvents
from .papertable import PaperTable
from .settings import Settings

#: Key changes named when asking; the rest are counted.
EXAMPLES_SHOWN = 5


def _plural(n: int, word: str) -> str:
    return f"{word}{'s' if n != 1 else ''}"


class PaperActions(QObject):
    """New papers, and copy, delete and regenerate keys for the table's selection.

    ``flush`` saves what is being typed in the detail pane before a write that needs it.

    Signals:
        paper_added(int): a new paper was added (the window shows it, ready to edit).
    """

    paper_added = Signal(int)

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        settings: Settings,
        table: PaperTable,
        status: QStatusBar,
        window: QWidget,
        flush: Callable[[], None],
    ) -> None:
        super().__init__(window)
        self._library = library
        self._events = events
        self._undo_stack = undo_stack
        self._settings = settings
        self._table = table
        self._status = status
        self._window = window
        self._flush = flush

    def new_paper(self) -> None:
        """Ask for the few fields a paper needs, then add it (undoable)."""
        dialog = NewPaperDialog(self._window, settings=self._settings)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._add_new_paper(dialog))
        dialog.open()

    def _add_new_paper(self, dialog: NewPaperDialog) -> None:
        command = AddPaperCommand(
            self._library, self._events, dialog.fields(), dialog.entry_type.currentText()
        )
        if self._push(command) and command.paper_id is not None:
            self.paper_added.emit(command.paper_id)

    # -- copying ------------------------------------------------------------------------------

    def copy_keys(self) -> None:
        keys = self._selected_keys()
        if not keys:
            self._say_nothing_selected("copy their citation keys")
            return
        self._copy(",".join(keys), _plural(len(keys), "citation key"))

    def copy_cite(self) -> None:
        keys = self._selected_keys()
        if not keys:
            self._say_nothing_selected("copy \\cite{…}")
            return
        self._copy("\\cite{" + ",".join(keys) + "}", "\\cite{…}")

    def copy_bibtex(self) -> None:
        entries = []
        for pid in self._table.selected_ids():
            try:
                entries.append(self._library.entry_text(pid))
            except db.UnknownPaperError:
                continue
        n = len(entries)
        if not n:
            self._say_nothing_selected("copy their BibTeX")
            return
        self._copy(
            "\n\n".join(entries) + ("\n" if entries else ""),
            f"{n} BibTeX entr{'y' if n == 1 else 'ies'}",
        )

    def _selected_keys(self) -> list[str]:
        ids = self._table.selected_ids()
        rows = self._library.rows(ids)
        return [rows[i].key for i in ids if i in rows]

    def _say_nothing_selected(self, what: str) -> None:
        """Why an action on the selection did nothing (a shortcut still reaches it)."""
        self._status.showMessage(f"No papers are selected: select some to {what}.", 6000)

    def _copy(self, text: str, what: str) -> None:
        if text:
            QGuiApplication.clipboard().setText(text)
            self._status.showMessage(f"Copied {what}.", 4000)

    # -- writing ------------------------------------------------------------------------------

    def delete(self) -> None:
        """Ask, then delete the selection; the cursor moves to the paper after it."""
        ids = self._table.selected_ids()
        if not ids:
            self._say_nothing_selected("delete them")
            return
        rows = self._library.rows(ids)
        if len(ids) == 1:
            what = f"“{rows[ids[0]].title}”" if ids[0] in rows else "this paper"
        else:
            what = f"these {len(ids)} papers"
        if not messages.confirm(
            self._window,
            "Delete papers",
            f"Delete {what} with their tags and notes?\nUndo (Ctrl+Z) brings them back.",
        ):
            return
        self._flush()
        after = self._paper_after(ids)
        if self._push(DeletePapersCommand(self._library, self._events, ids)) and after is not None:
            self._table.select_papers([after], after)

    def _paper_after(self, ids: list[int]) -> int | None:
        """Where the cursor goes once these are gone: the paper after the last of them,
        else the one before the first; near where it was."""
        model = self._table.paper_model
        rows_now = sorted(r for r in (model.row_of(i) for i in ids) if r is not None)
        if not rows_now:
            return None
        after = None
        for r in range(rows_now[-1] + 1, model.rowCount()):
            pid = model.paper_id(r)
            if pid not in ids:
                after = pid
                break
        if after is None and rows_now[0] > 0:
            after = model.paper_id(rows_now[0] - 1)
        return after

    def regenerate_keys(self) -> None:
        """Show which keys the pattern would change, ask, then change them (undoable)."""
        ids = self._table.selected_ids()
        if not ids:
            self._say_nothing_selected("give them new citation keys")
            return
        self._flush()
        pattern = self._library.key_pattern
        try:
            changes = self._library.plan_keys(ids, pattern)  # a read: nothing is written
        except db.LibraryError as exc:
            messages.warn(self._window, "Regenerate citation keys", str(exc))
            return
        if not changes:
            self._status.showMessage(
                f"The selected papers' keys already follow the pattern {pattern}.", 6000
            )
            return
        n = len(changes)
        examples = [f"{old}  →  {new}" for old, new in list(changes.values())[:EXAMPLES_SHOWN]]
        if n > EXAMPLES_SHOWN:
            examples.append(f"… and {n - EXAMPLES_SHOWN} more")
        of = f" of the {len(ids)} selected papers" if n != len(ids) else ""
        if not messages.confirm(
            self._window,
            "Regenerate citation keys",
            f"{n} {_plural(n, 'citation key')}{of} will change, by the pattern "
            f"{pattern}:\n\n"
            + "\n".join(examples)
            + "\n\nThe old keys are kept as aliases, so documents that cite them still "
            "compile. Undo (Ctrl+Z) puts them back.",
        ):
            return
        command = RegenerateKeysCommand(self._library, self._events, ids, pattern)
        if self._push(command):
            n = len(command.changed)
            self._status.showMessage(
                f"Regenerated {n} {_plural(n, 'citation key')}; the old ones are aliases now.", 8000
            )

    def _push(self, command: LibraryCommand) -> bool:
        return commands.push(self._undo_stack, command, self._window) is None
