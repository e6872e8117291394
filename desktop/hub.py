"""One place where every view hears about changes to the library.

Writes go through ``db.Library`` and return a ``db.Changes``; whoever made the write (an undo
command, an import) emits it here, and each view decides what to refresh (as Anki's
OpChanges). No view talks to another directly. Changes made by other programs are noticed
by ``ChangeWatcher``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from . import db

#: Milliseconds between two looks for changes made by other programs.
POLL_MS = 1000


class LibraryEvents(QObject):
    """Signals:
    changed(object): a ``db.Changes`` after any write, including undo and redo.
    reloaded(): the library changed outside this window (another process); refresh all.
    failed(str): a write (an undo or redo, say) failed; the message is for people.
    """

    changed = Signal(object)
    reloaded = Signal()
    failed = Signal(str)


class ChangeWatcher(QObject):
    """Notices writes by other programs (another window, the command line) and says
    ``events.reloaded``, by asking SQLite's ``data_version`` every ``POLL_MS``.

    Writes of this window move ``seen`` on (:meth:`saw_own_change`), so they are not taken
    for another program's. An import in a worker of ours pauses it.
    """

    def __init__(
        self, library: db.Library, events: LibraryEvents, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._events = events
        self._seen = library.data_version()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    def saw_own_change(self) -> None:
        """This window wrote (a change it announced, a worker's import it committed)."""
        self._seen = self._library.data_version()

    def pause(self) -> None:
        """A worker of ours is writing: its commit would look like another program's."""
        self._timer.stop()

    def resume(self) -> None:
        """Watch again; what another program wrote meanwhile is noticed at the next poll."""
        self._timer.start()

    def _on_timer_timeout(self) -> None:
        try:
            version = self._library.data_version()
        except db.LibraryError:
            return
        except Exception:  # the file went away under us: keep the window as it is
            return
        if version != self._seen:
            self._seen = version
            self._events.reloaded.emit()
