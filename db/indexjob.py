"""Full-text indexing in a process of its own, for a window that must not stall.

Run in a thread of the window's process, indexing stalled the window for 100 ms and more:
its Python loops over the files (a stat and a comparison each) held the interpreter's lock
the GUI thread needed for its timers and paint callbacks. In a process of its own (which
starts the two PDF readers itself) the window's thread only waits on a pipe, where no lock
is held, and passes progress on. Cancelling is a message on the same pipe, answered after
the file being written.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from .errors import LibraryError
from .fulltext import FulltextReport
from .library import Library
from .workers import mp_context

log = logging.getLogger(__name__)

#: How much less CPU priority the indexing processes take than the window.
NICENESS = 10
#: How often the waiting thread looks at the cancel flag between messages.
POLL_SECONDS = 0.1


def index_apart(
    library_path: str | os.PathLike[str],
    rebuild: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: threading.Event | None = None,
) -> FulltextReport:
    """:meth:`Library.index_fulltext` of the library at ``library_path``, run in a child
    process; ``progress`` is called here, ``cancel`` is passed on. Raises LibraryError
    with the child's reason when it fails (or dies)."""
    ctx = mp_context()
    here, there = ctx.Pipe(duplex=True)
    child = ctx.Process(  # type: ignore[attr-defined]
        # Not a daemon: it starts the PDF readers, and daemons may have no children. It is
        # joined (or, gone astray, killed) below whatever happens.
        target=_index_child,
        args=(os.fspath(library_path), rebuild, there),
    )
    child.start()
    there.close()
    told_cancel = False
    try:
        while True:
            if cancel is not None and cancel.is_set() and not told_cancel:
                here.send("cancel")
                told_cancel = True
            if not here.poll(POLL_SECONDS):
                if not child.is_alive() and not here.poll():
                    break
                continue
            try:
                message = here.recv()
            except EOFError:
                break
            if message[0] == "progress":
                if progress is not None:
                    progress(*message[1:])
            elif message[0] == "done":
                report: FulltextReport = message[1]
                return report
            else:
                raise LibraryError(str(message[1]))
    finally:
        here.close()
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join()
    raise LibraryError(f"reading PDFs stopped unexpectedly (exit code {child.exitcode})")


def _index_child(library_path: str, rebuild: bool, conn: Connection) -> None:
    """In the child: index, sending progress; a "cancel" message sets the cancel flag.

    The child and its readers run at a lower priority: with both cores reading PDFs, a
    window at the same priority waited up to 200 ms for a core; at niceness 10 it gets one
    when it needs it, and indexing loses only what the window uses."""
    try:
        os.nice(NICENESS)
    except OSError:
        pass
    cancel = threading.Event()

    def progress(done: int, total: int, name: str) -> None:
        conn.send(("progress", done, total, name))
        while conn.poll():
            if conn.recv() == "cancel":
                cancel.set()

    try:
        library = Library.open(library_path, seed=False)
        try:
            report = library.index_fulltext(progress=progress, cancel=cancel, rebuild=rebuild)
        finally:
            library.close(optimize=False)
    except (LibraryError, OSError) as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # a bug: said so, and logged with its traceback
        log.exception("full-text indexing failed")
        conn.send(("error", f"Citedesk hit a bug ({type(exc).__name__}: {exc}); please report it"))
    else:
        conn.send(("done", report))
    finally:
        conn.close()
