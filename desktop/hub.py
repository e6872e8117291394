"""One place where every view hears about changes to the library.

Writes go through ``db.Library`` and return a ``db.Changes``; whoever made the write (an undo
command, an import) emits it here, and each view decides what to refresh (as Anki's
OpChanges). No view talks to another directly.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class LibraryEvents(QObject):
    """Signals:
        changed(object): a ``db.Changes`` after any write, including undo and redo.
        reloaded(): the library changed outside this window (another process); refresh all.
        failed(str): a write (an undo or redo, say) failed; the message is for people.
    """

    changed = Signal(object)
    reloaded = Signal()
    failed = Signal(str)
