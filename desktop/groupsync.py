"""The window's side of a group library (issue 17): syncing with the group's PostgreSQL
server in the background, the sync state in the status bar, and File ▸ Group.

A worker thread owns a ``db.Library`` of its own on the same file and a LISTEN connection
to the server. While nothing changes it sleeps in ``select()`` on that connection's socket
and a wake-up pipe, so an idle member sends the server no query at all. It syncs once at
start, when another member's push announces (NOTIFY) a version newer than this library has
seen, and when the window nudges it after a local edit (debounced). When the server cannot
be reached the state says so and the worker tries again, 2 s, then doubling up to 60 s;
work here goes on and is sent later.

Results come back as Qt signals, queued to the GUI thread; the worker touches no widget.
The window refreshes from the ``db.Changes`` a pull made (announced on ``events.changed``
with this object as initiator, so they are not taken for local edits to send).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from . import db
from .actions import ActionId

if TYPE_CHECKING:
    import psycopg
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QWidget

    from .hub import ChangeWatcher, LibraryEvents
    from .mainwindow import MainWindow
    from .statusbar import StatusBar

log = logging.getLogger(__name__)

#: A local edit is sent this long after the last one (a burst of typing is one sync).
NUDGE_DELAY_MS = 250
#: Waits between attempts to reach an unreachable server: the first, and the longest.
RETRY_FIRST_S = 2.0
RETRY_MAX_S = 60.0
#: How long the LISTEN connection may take to connect.
CONNECT_TIMEOUT_S = 5
#: How long closing the window waits for a sync under way (it is one transaction on
#: either side: a sync cut short leaves nothing half done).
STOP_WAIT_S = 3.0

# What the worker is doing (SyncState.kind).
SYNCING = "syncing"
IDLE = "idle"
OFFLINE = "offline"
READ_ONLY = "read-only"
PROBLEM = "problem"


@dataclass(frozen=True)
class SyncState:
    """What the status bar shows: the worker's state and the library's counts."""

    kind: str
    #: The server version this library has seen; changes waiting to be sent; conflicts.
    seen: int = 0
    pending: int = 0
    conflicts: int = 0
    #: Why (offline, a problem), for the tooltip.
    detail: str = ""

    def text(self) -> str:
        if self.kind == SYNCING:
            return "Group: syncing…"
        if self.kind == OFFLINE:
            return "Group: offline — changes kept here"
        if self.conflicts:
            return f"Group: {self.conflicts} conflict{'s' if self.conflicts != 1 else ''}"
        if self.kind == READ_ONLY:
            return "Group: read-only"
        if self.kind == PROBLEM:
            return "Group: sync failed"
        if self.pending:
            return f"Group: {self.pending} change{'s' if self.pending != 1 else ''} to send"
        return f"Group: up to date (v{self.seen})"

    def tooltip(self, server: str) -> str:
        lines = [f"Group library on {server}"]
        if self.detail:
            lines.append(self.detail)
        if self.pending:
            lines.append(f"{self.pending} change(s) here not yet sent")
        if self.conflicts:
            lines.append("Click to choose between the values here and the group's")
        else:
            lines.append("Click to sync now")
        return "\n".join(lines)


class _Worker:
    """The sync thread: its own library and LISTEN connection; talks only through
    ``owner``'s signals."""

    def __init__(self, path: str, conninfo: str, owner: GroupSync) -> None:
        self._path = path
        self._url = conninfo
        self._owner = owner
        self._stop = threading.Event()
        self._nudged = threading.Event()  # a local edit: sync if there is something to send
        self._forced = threading.Event()  # Sync Now: sync (and reconnect) at once
        self._pipe_lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._pipe_open = True
        self._state = SyncState(SYNCING)
        self._thread = threading.Thread(target=self._run, name="citedesk-group-sync", daemon=True)

    # -- from the GUI thread -------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._nudged.set()
        self._wake()

    def sync_now(self) -> None:
        self._forced.set()
        self._wake()

    def stop(self, timeout: float) -> bool:
        """Ask the thread to end and wait for it; False if a sync is still running."""
        self._stop.set()
        self._wake()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _wake(self) -> None:
        with self._pipe_lock:
            if self._pipe_open:
                try:
                    os.write(self._wake_w, b"x")
                except BlockingIOError:
                    pass  # full: it will wake anyway

    # -- in the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        library: db.Library | None = None
        try:
            library = db.Library.open(self._path, seed=False)
            self._loop(library)
        except db.LibraryError as exc:
            self._say(self._owner.failed, f"The group sync stopped: {exc}")
        except Exception:  # a bug: say so, keep the window working
            log.exception("the group sync thread failed")
            self._say(self._owner.failed, "The group sync stopped after an error (a bug).")
        finally:
            if library is not None:
                library.close(optimize=False)
            with self._pipe_lock:
                self._pipe_open = False
                os.close(self._wake_r)
                os.close(self._wake_w)

    def _emit_state(self, library: db.Library, kind: str, detail: str = "") -> None:
        if kind == SYNCING:  # the counts of the last state do until the sync ends
            state = replace(self._state, kind=SYNCING, detail="")
        else:
            status = library.group_status(ask_server=False)
            state = SyncState(kind, status.seen, status.pending, status.conflicts, detail)
        self._state = state
        self._say(self._owner.state_changed, state)

    def _say(self, signal: Any, value: object) -> None:
        """Emit one of the owner's signals (queued to the GUI thread), unless the window
        is closing: the owner may be gone by the time a late sync ends."""
        if not self._stop.is_set():
            signal.emit(value)

    def _loop(self, library: db.Library) -> None:
        import psycopg

        listen: psycopg.Connection | None = None
        delay = RETRY_FIRST_S
        want_sync = True  # once at start
        last = IDLE

        def back_off(kind: str | None = None, detail: str = "") -> None:
            """Hang up, say so (``kind``), and wait longer each time before trying again."""
            nonlocal listen, delay
            if listen is not None:
                listen.close()
                listen = None
            if kind is not None:
                self._emit_state(library, kind, detail)
            self._sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

        try:
            while not self._stop.is_set():
                if listen is None:
                    try:
                        listen = db.group_listen(self._url, timeout=CONNECT_TIMEOUT_S)
                    except (db.GroupError, psycopg.Error) as exc:
                        back_off(OFFLINE, str(exc))
                        continue
                    want_sync = True  # announcements may have been missed meanwhile
                if self._forced.is_set():
                    self._forced.clear()
                    want_sync = True
                if self._nudged.is_set():
                    self._nudged.clear()
                    status = library.group_status(ask_server=False)
                    if status.pending:
                        want_sync = True
                    elif not want_sync:
                        self._emit_state(library, last)  # conflicts settled, say
                if want_sync:
                    want_sync = False
                    last = self._sync(library)
                    if last in (OFFLINE, PROBLEM):
                        back_off()  # _sync has said why
                        continue
                    delay = RETRY_FIRST_S
                try:
                    want_sync = self._wait(listen, library)
                except psycopg.Error as exc:  # the server went away
                    back_off(OFFLINE, f"lost the group server: {exc}")
        finally:
            if listen is not None:
                listen.close()

    def _sync(self, library: db.Library) -> str:
        self._emit_state(library, SYNCING)
        try:
            report = library.group_sync()
        except db.GroupError as exc:
            kind = OFFLINE if isinstance(exc, db.GroupUnreachableError) else PROBLEM
            self._say(self._owner.failed, str(exc))
            self._emit_state(library, kind, str(exc))
            return kind
        except db.LibraryError as exc:  # the library was busy: the next edit tries again
            self._say(self._owner.failed, f"Group sync: {exc}")
            self._emit_state(library, IDLE, str(exc))
            return IDLE
        self._say(self._owner.synced, report)
        kind = READ_ONLY if report.kept_back else IDLE
        self._emit_state(library, kind, " ".join(report.messages))
        return kind

    def _wait(self, listen: psycopg.Connection, library: db.Library) -> bool:
        """Sleep until the server announces a version newer than ours (True) or the window
        wakes us (False); no query is sent while waiting."""
        while not self._stop.is_set():
            # Announcements read along with an earlier reply wait in psycopg, not the socket.
            newest = max((int(n.payload or 0) for n in listen.notifies(timeout=0)), default=0)
            if newest and newest > library.group_seen():
                return True
            ready, _, _ = select.select([listen.fileno(), self._wake_r], [], [])
            if self._wake_r in ready:
                self._drain()
                return False
        return False

    def _sleep(self, seconds: float) -> None:
        """Wait before trying the server again; Sync Now or closing cuts it short."""
        deadline = time.monotonic() + seconds
        while not (self._stop.is_set() or self._forced.is_set()):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if select.select([self._wake_r], [], [], left)[0]:
                self._drain()

    def _drain(self) -> None:
        try:
            while os.read(self._wake_r, 64):
                pass
        except BlockingIOError:
            pass


class GroupSync(QObject):
    """Keeps a group library in step with its server while the window is open.

    Signals:
        synced(object): a ``db.SyncReport`` (on the GUI thread).
        failed(str): a sync failed; the message is for people.
        state_changed(object): a :class:`SyncState` for the status bar.
    """

    synced = Signal(object)
    failed = Signal(str)
    state_changed = Signal(object)

    def __init__(
        self,
        library: db.Library,
        events: LibraryEvents,
        undo_stack: QUndoStack,
        watcher: ChangeWatcher,
        status_bar: StatusBar,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._events = events
        self._undo_stack = undo_stack
        self._watcher = watcher
        self._status_bar = status_bar
        self._parent = parent
        conninfo = library.group_server()
        assert conninfo is not None
        self._server = db.shown_server(conninfo)
        self.state = SyncState(SYNCING)
        self._nudge_timer = QTimer(self)
        self._nudge_timer.setSingleShot(True)
        self._nudge_timer.setInterval(NUDGE_DELAY_MS)
        self._nudge_timer.timeout.connect(self._on_nudge_timer_timeout)
        # Emitted from the worker thread; queued, they run here on the GUI thread.
        queued = Qt.ConnectionType.QueuedConnection
        self.synced.connect(self._on_synced, queued)
        self.failed.connect(self._on_failed, queued)
        self.state_changed.connect(self._on_state_changed, queued)
        events.changed.connect(self._on_events_changed)
        status_bar.group_clicked.connect(self._on_status_bar_group_clicked)
        self._worker = _Worker(str(library.path), conninfo, self)
        self._stopped = False
        self._show_state()
        self._worker.start()

    def sync_now(self) -> None:
        self._nudge_timer.stop()
        self._worker.sync_now()

    def stop(self) -> None:
        """End the worker (the window is closing): waits for a sync under way, a little."""
        if self._stopped:
            return
        self._stopped = True
        self._nudge_timer.stop()
        if not self._worker.stop(STOP_WAIT_S):
            log.warning("the group sync was still running when the window closed")

    def show_conflicts(self) -> None:
        from .conflicts import ConflictsDialog

        dialog = self._parent.findChild(ConflictsDialog, "conflictsDialog")
        if dialog is None:
            dialog = ConflictsDialog(self._library, self._events, self._undo_stack, self._parent)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _show_state(self) -> None:
        self._status_bar.show_group_state(self.state.text(), self.state.tooltip(self._server))

    # -- slots -----------------------------------------------------------------------------------

    def _on_synced(self, report: db.SyncReport) -> None:
        self._watcher.saw_own_change()  # the worker's commits are not another program's
        if report.changes:
            report.changes.initiator = self
            self._events.changed.emit(report.changes)
        if report.messages:
            self._status_bar.showMessage(" ".join(report.messages), 15_000)

    def _on_failed(self, message: str) -> None:
        if not self._stopped:
            self._status_bar.showMessage(message, 10_000)

    def _on_state_changed(self, state: SyncState) -> None:
        self.state = state
        self._show_state()

    def _on_events_changed(self, changes: db.Changes) -> None:
        if changes.initiator is not self and not self._stopped:
            self._nudge_timer.start()  # an edit here: send it soon

    def _on_nudge_timer_timeout(self) -> None:
        self._worker.nudge()

    def _on_status_bar_group_clicked(self) -> None:
        if self.state.conflicts:
            self.show_conflicts()
        else:
            self.sync_now()


def attach(window: MainWindow) -> GroupSync | None:
    """Sync the window's library with its group, if it is in one; File ▸ Group works
    only then."""
    actions = window.actions_by_id
    in_group = window.library.group_server() is not None
    for action_id in (ActionId.GROUP_SYNC, ActionId.GROUP_CONFLICTS):
        actions[action_id].setEnabled(in_group)
    if not in_group:
        return None
    sync = GroupSync(
        window.library,
        window.events,
        window.undo_stack,
        window.watcher,
        window.status_bar,
        window,
    )
    actions[ActionId.GROUP_SYNC].triggered.connect(sync.sync_now)
    actions[ActionId.GROUP_CONFLICTS].triggered.connect(sync.show_conflicts)
    return sync
