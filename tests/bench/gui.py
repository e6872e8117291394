"""The window's figures: the real ``MainWindow`` driven offscreen through its widgets.

Each measurement is a fresh process (``python -m tests.bench.run --child gui-...``) with
``QT_QPA_PLATFORM=offscreen`` and throwaway settings. "Painted" means the paper table's
viewport received its paint event; a heartbeat ``QTimer`` measures freezes.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench import run as R

OFFSCREEN = {"QT_QPA_PLATFORM": "offscreen"}


# -- in the child process ---------------------------------------------------------------------


class _Window:
    """A MainWindow on a library, with a way to wait for the table to be painted."""

    def __init__(self, library: str) -> None:
        from PySide6.QtCore import QEvent, QObject, QSettings

        from citedesk.app import create_window, ensure_application
        from citedesk.settings import Settings

        self.app = ensure_application()
        self._tmp = tempfile.mkdtemp(prefix="citedesk-bench-gui-")
        settings = Settings(
            QSettings(str(Path(self._tmp) / "citedesk.ini"), QSettings.Format.IniFormat)
        )
        self.painted_at = 0.0
        self.detail_painted_at = 0.0

        outer = self

        class PaintSpy(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
                if event.type() == QEvent.Type.Paint:
                    if watched is outer.viewport:
                        outer.painted_at = time.perf_counter()
                    else:
                        outer.detail_painted_at = time.perf_counter()
                return False

        self._spy = PaintSpy()
        self.window = create_window(library, seed=False, settings=settings)
        self.window.resize(1280, 800)
        self.viewport = self.window.table.viewport()
        self.viewport.installEventFilter(self._spy)
        self.window.detail.installEventFilter(self._spy)

    def wait_painted(self, since: float, timeout: float = 30.0, detail: bool = False) -> float:
        """Process events until the table (or detail pane) paints after ``since``."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            self.app.processEvents()
            at = self.detail_painted_at if detail else self.painted_at
            if at > since:
                return at
        raise RuntimeError("the window did not paint")

    def close(self) -> None:
        self.window.close()
        self.app.processEvents()
        shutil.rmtree(self._tmp, ignore_errors=True)


def child_gui_open(library: str) -> None:
    """Process start (the parent's clock) to the first painted table."""
    started = time.perf_counter()
    w = _Window(library)
    painted = w.wait_painted(0.0)
    wall = time.time() - (time.perf_counter() - painted)
    rows = w.window.paper_model.rowCount()
    w.close()
    R._report(seconds=painted - started, painted_wall=wall, rows=rows)


def _type(widget: Any, ch: str) -> None:
    """Type one character (QTest.keyClicks handles ASCII only)."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    if ch.isascii():
        QTest.keyClicks(widget, ch)
        return
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def child_gui_search(library: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    w = _Window(library)
    w.wait_painted(0.0)
    box = w.window.search_box
    resets: list[float] = []
    w.window.paper_model.modelReset.connect(lambda: resets.append(time.perf_counter()))
    times: list[float] = []
    worst = ("", 0.0, 0)
    for text in R.TYPED:
        box.clear()
        QTest.keyClick(box, Qt.Key.Key_Return)
        w.app.processEvents()
        for ch in text:
            t = time.perf_counter()
            _type(box, ch)
            # The key searches as it is typed (or, after a slow search, a moment later);
            # Return searches again at once, within the key press (the gui-type figure
            # measures typing alone), and a new list of papers is painted.
            QTest.keyClick(box, Qt.Key.Key_Return)
            if resets and resets[-1] > t:
                done = w.wait_painted(t)
            else:
                done = time.perf_counter()  # the same papers: nothing to repaint
            times.append(done - t)
            if done - t > worst[1]:
                worst = (box.text(), done - t, w.window.paper_model.rowCount())
    w.close()
    R._report(samples=times, worst=list(worst))


def child_gui_type(library: str) -> None:
    """Typing without Return: each keystroke to the table painted with that text's papers,
    whether the key searched at once or waited for others after a slow search."""
    w = _Window(library)
    w.wait_painted(0.0)
    box = w.window.search_box
    resets: list[float] = []
    w.window.paper_model.modelReset.connect(lambda: resets.append(time.perf_counter()))
    searched: list[tuple[float, str]] = []  # connected after the window: its search is done
    w.window.search.search_requested.connect(
        lambda: searched.append((time.perf_counter(), box.text()))
    )
    times: list[float] = []
    worst = ("", 0.0, 0)
    searches = 0  # fewer than keystrokes where keys typed after a slow search were gathered
    for text in R.TYPED:
        box.clear()
        w.wait_painted(time.perf_counter() - 1)
        before = len(searched)
        for ch in text:
            t = time.perf_counter()
            _type(box, ch)
            end = t + 30
            while not (searched and searched[-1][0] > t and searched[-1][1] == box.text()):
                if time.perf_counter() > end:
                    raise RuntimeError(f"{box.text()!r} was never searched")
                w.app.processEvents()
            if resets and resets[-1] > t:
                done = w.wait_painted(resets[-1])
            else:
                done = searched[-1][0]  # the same papers: nothing to repaint
            times.append(done - t)
            if done - t > worst[1]:
                worst = (box.text(), done - t, w.window.paper_model.rowCount())
        searches += len(searched) - before
    w.close()
    R._report(samples=times, worst=list(worst), searches=searches)


def child_gui_select(library: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    w = _Window(library)
    w.wait_painted(0.0)
    table = w.window.table
    table.setFocus()
    QTest.keyClick(table, Qt.Key.Key_Home)
    w.wait_painted(time.perf_counter() - 1, detail=True)
    times: list[float] = []
    for _ in range(60):
        t = time.perf_counter()
        QTest.keyClick(table, Qt.Key.Key_Down)
        done = w.wait_painted(t, detail=True)
        times.append(done - t)
    w.close()
    R._report(samples=times)


def child_gui_memory(library: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    w = _Window(library)
    w.wait_painted(0.0)
    table = w.window.table
    table.setFocus()
    for _ in range(40):  # scroll through a few thousand rows, the detail pane following
        QTest.keyClick(table, Qt.Key.Key_PageDown)
        w.wait_painted(time.perf_counter() - 1)
    for text in ("transformer", "author:wang", ""):
        w.window.search_box.setText(text)
        QTest.keyClick(w.window.search_box, Qt.Key.Key_Return)
        w.app.processEvents()
    w.close()
    R._report(seconds=0.0)


class _Heartbeat:
    """A 5 ms timer on the GUI thread; the longest gap between its ticks is a freeze."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.last = time.perf_counter()
        self.longest = 0.0
        self.ticks: list[tuple[float, float]] = []  # (when, gap before it)
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.ticks.append((now, now - self.last))
        self.last = now

    def stop(self) -> float:
        self.timer.stop()
        return self.longest

    def longest_between(self, start: float, end: float) -> tuple[float, float]:
        """The longest gap that ended in [start, end), and when it began (from start)."""
        gap, when = max(
            ((gap, when) for when, gap in self.ticks if start <= when < end), default=(0.0, start)
        )
        return gap, max(0.0, when - gap - start)


def child_gui_freeze_import(library: str, bib: str) -> None:
    """The window's own import (desktop/importer.py's Importer, as File > Import runs it):
    the worker thread and its progress, then on the GUI thread the undo step announcing
    the new papers, the table's new query, their selection and the report dialog, until
    the table has painted them."""
    from PySide6.QtCore import QEventLoop, QTimer

    w = _Window(library)
    w.wait_painted(0.0)
    importer = w.window.importer
    finished_at: list[float] = []
    pushed_at: list[float] = []  # the worker is done: the import becomes an undo step
    progress_calls: list[int] = []
    importer.finished.connect(lambda report: finished_at.append(time.perf_counter()))
    w.window.undo_stack.indexChanged.connect(lambda i: pushed_at.append(time.perf_counter()))
    importer.progressed.connect(lambda done, total: progress_calls.append(done))
    # An event loop that waits in Qt, as the application's does: a loop of processEvents()
    # calls would hold the GIL most of the time and slow the import's worker thread.
    loop = QEventLoop()
    importer.finished.connect(loop.quit)
    QTimer.singleShot(600_000, loop.quit)
    beat = _Heartbeat()
    t = time.perf_counter()
    importer.import_files([bib])
    loop.exec()
    if not finished_at:
        raise RuntimeError("the import did not finish")
    # The work after the worker ran in the slot that emitted finished: keep the event
    # loop going until the heartbeat has ticked after it and the new rows are painted.
    w.wait_painted(finished_at[0])
    settle = time.perf_counter()
    while time.perf_counter() - settle < 0.3:
        w.app.processEvents()
    seconds = finished_at[0] - t
    longest = beat.stop()
    worker_done = pushed_at[0] if pushed_at else finished_at[0]
    during, during_at = beat.longest_between(t, worker_done)
    after, _ = beat.longest_between(worker_done, time.perf_counter())
    report = importer.last_report
    # A modal dialog (the import report) would wait for a real user; close it.
    if importer.report_dialog is not None:
        importer.report_dialog.close()
    rows = w.window.paper_model.rowCount()
    w.close()
    R._report(
        seconds=seconds,
        freeze=longest,
        during=during,
        during_at=during_at,
        after=after,
        rows=rows,
        added=len(report.added) if report else 0,
        progress_calls=len(progress_calls),
    )


def child_gui_freeze_export(library: str, target: str) -> None:
    from citedesk import db

    w = _Window(library)
    w.wait_painted(0.0)
    done: list[Any] = []
    w.window.exporter.finished.connect(lambda *a: done.append(a))
    beat = _Heartbeat()
    t = time.perf_counter()
    w.window.exporter.export(target, db.Query())
    while not done and time.perf_counter() - t < 600:
        w.app.processEvents()
    seconds = time.perf_counter() - t
    longest = beat.stop()
    w.close()
    R._report(seconds=seconds, freeze=longest, result=list(done[0]) if done else None)


def child_gui_autoexport_edit(library: str, target: str) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QLineEdit

    w = _Window(library)
    w.wait_painted(0.0)
    deadline = time.perf_counter() + 120  # the export written when the window opened
    while time.perf_counter() < deadline and not Path(target).exists():
        w.app.processEvents()
    table = w.window.table
    table.setFocus()
    edits, currents = [], []
    for n in range(5):
        QTest.keyClick(table, Qt.Key.Key_Down)
        w.wait_painted(time.perf_counter() - 1, detail=True)
        field = w.window.detail.findChild(QLineEdit, "field_title")
        title = f"Benchmark edit {n} {time.time():.6f}"
        field.setText(title)
        t = time.perf_counter()
        QTest.keyClick(field, Qt.Key.Key_Return)
        edits.append(time.perf_counter() - t)
        # The file is read again only when it was replaced (a new inode, size or time):
        # reading and decoding 16 MB at every turn kept the GUI thread busy and delayed
        # the very timer being measured.
        seen = None
        while time.perf_counter() - t < 30:
            w.app.processEvents()
            try:
                st = os.stat(target)
                stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
                if stamp != seen:
                    seen = stamp
                    if title.encode("utf-8") in Path(target).read_bytes():
                        break
            except OSError:
                pass
            time.sleep(0.002)
        currents.append(time.perf_counter() - t)
    w.close()
    R._report(samples=edits, current=currents)


def child_gui_freeze_indexing(library: str) -> None:
    """The window indexing the full text of the library's PDFs (issue 14): the longest
    stall of the GUI thread from ``window.start_fulltext_indexing()`` until
    ``window.fulltext_idle()`` says it is done."""
    from PySide6.QtCore import QEventLoop, QTimer

    w = _Window(library)
    w.wait_painted(0.0)
    start = getattr(w.window, "start_fulltext_indexing", None)
    idle = getattr(w.window, "fulltext_idle", None)
    if start is None or idle is None:
        w.close()
        R._report(skip="MainWindow has no start_fulltext_indexing() / fulltext_idle() yet")
        return
    # Wait in Qt's own event loop (as the application does), checking every 20 ms.
    loop = QEventLoop()
    done_at: list[float] = []

    def check() -> None:
        if idle():
            done_at.append(time.perf_counter())
            loop.quit()

    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(check)
    QTimer.singleShot(900_000, loop.quit)
    beat = _Heartbeat()
    t = time.perf_counter()
    start()
    poll.start()
    loop.exec()
    poll.stop()
    if not done_at:
        raise RuntimeError("the window's full-text indexing did not finish in 15 minutes")
    settle = time.perf_counter()  # whatever the window does when done (status, table)
    while time.perf_counter() - settle < 0.3:
        w.app.processEvents()
    longest = beat.stop()
    during, during_at = beat.longest_between(t, done_at[0])
    after, _ = beat.longest_between(done_at[0], time.perf_counter())
    status = None
    lib = getattr(w.window, "library", None)
    if lib is not None and hasattr(lib, "fulltext_status"):
        st = lib.fulltext_status()
        status = {"files": st.files, "indexed": st.indexed, "pages": st.pages}
    w.close()
    R._report(
        seconds=done_at[0] - t,
        freeze=longest,
        during=during,
        during_at=during_at,
        after=after,
        status=status,
    )


CHILDREN = {
    "gui-freeze-indexing": child_gui_freeze_indexing,
    "gui-open": child_gui_open,
    "gui-search": child_gui_search,
    "gui-type": child_gui_type,
    "gui-select": child_gui_select,
    "gui-memory": child_gui_memory,
    "gui-freeze-import": child_gui_freeze_import,
    "gui-freeze-export": child_gui_freeze_export,
    "gui-autoexport-edit": child_gui_autoexport_edit,
}


# -- in the runner ------------------------------------------------------------------------------


def _seeded_library(bench: R.Bench) -> str:
    """The 25-paper library a new Citedesk starts with (the reference for opening)."""
    from citedesk.db import Library

    path = bench.tmp / "seeded.sqlite"
    if not path.exists():
        Library.open(path).close()
    return str(path)


def _measure(args: list[str]) -> R.Sample:
    return R.measure(args, env=OFFSCREEN)


def fig_open(bench: R.Bench, size: str) -> None:
    lib = str(bench.library(size))
    ref = _seeded_library(bench)
    opens, refs, peak = [], [], 0.0
    for _ in range(bench.runs):
        for target, out in ((ref, refs), (lib, opens)):
            start = time.time()
            s = _measure(["gui-open", target])
            out.append(s.data["painted_wall"] - start)
            if target == lib:
                peak = max(peak, s.peak_mb)
    m, r = statistics.median(opens), statistics.median(refs)
    big = size == "100k"
    R._line(
        f"open {size} to painted window",
        opens,
        peak,
        f"= {m / r:.2f}× 25-paper library {R._fmt_s(r)}",
        "≤ 1.3× the 25-paper library" if big else "none at this size",
        m <= 1.3 * r if big else None,
        "process start to the table's first paint",
    )


def fig_gui_search(bench: R.Bench, size: str) -> None:
    lib = str(bench.library(size))
    samples, peak, worst = [], 0.0, ("", 0.0, 0)
    for _ in range(bench.runs):
        s = _measure(["gui-search", lib])
        samples += s.data["samples"]
        peak = max(peak, s.peak_mb)
        if s.data["worst"][1] > worst[1]:
            worst = tuple(s.data["worst"])  # type: ignore[assignment]
    med, p95 = statistics.median(samples), statistics.quantiles(samples, n=20)[-1]
    big = size == "100k"
    R._line(
        f"search keystroke {size} (window)",
        samples,
        peak,
        f"p95 {R._fmt_s(p95)}",
        "median ≤ 30 ms, p95 ≤ 60 ms" if big else "none at this size",
        (med <= 0.030 and p95 <= 0.060) if big else None,
        f"key + Return to table painted; slowest {worst[0]!r} {R._fmt_s(worst[1])}, "
        f"{worst[2]} rows",
    )


def fig_gui_type(bench: R.Bench, size: str) -> None:
    lib = str(bench.library(size))
    samples, peak, worst, searches = [], 0.0, ("", 0.0, 0), 0
    for _ in range(bench.runs):
        s = _measure(["gui-type", lib])
        samples += s.data["samples"]
        searches += s.data["searches"]
        peak = max(peak, s.peak_mb)
        if s.data["worst"][1] > worst[1]:
            worst = tuple(s.data["worst"])  # type: ignore[assignment]
    p95 = statistics.quantiles(samples, n=20)[-1]
    big = size == "100k"
    R._line(
        f"search typing {size} (window)",
        samples,
        peak,
        f"p95 {R._fmt_s(p95)}, {searches} searches for {len(samples)} keys",
        "p95 ≤ 50 ms" if big else "none at this size",
        p95 <= 0.050 if big else None,
        f"each key, no Return, to the table painted with its results; slowest "
        f"{worst[0]!r} {R._fmt_s(worst[1])}, {worst[2]} rows",
    )


def fig_select(bench: R.Bench, size: str) -> None:
    lib = str(bench.library(size))
    samples, peak = [], 0.0
    for _ in range(bench.runs):
        s = _measure(["gui-select", lib])
        samples += s.data["samples"]
        peak = max(peak, s.peak_mb)
    med = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1]
    R._line(
        f"select to detail filled {size}",
        samples,
        peak,
        f"p95 {R._fmt_s(p95)}",
        "≤ 30 ms",
        med <= 0.030,
        "Down key to the detail pane painted",
    )


def fig_gui_memory(bench: R.Bench, size: str) -> None:
    lib = str(bench.library(size))
    peaks = [_measure(["gui-memory", lib]).peak_mb for _ in range(bench.runs)]
    big = size == "100k"
    print(
        f"{'memory with ' + size + ' open':<28} peak {max(peaks):5.0f} MB (median "
        f"{statistics.median(peaks):.0f} MB, n={len(peaks)}; window open, scrolled, "
        f"searched)  budget {'≤ 300 MB' if big else 'none at this size':<26} "
        f"{('PASS' if max(peaks) <= 300 else 'FAIL') if big else ''}",
        flush=True,
    )


def fig_freeze_import(bench: R.Bench, size: str) -> None:
    bib = str(bench.bib(size))
    freezes, times, peak, during, after, during_at = [], [], 0.0, [], [], 0.0
    added, calls = 0, 0
    for i in range(bench.runs):
        lib = bench.target(f"freeze-import-{i}.sqlite")
        from citedesk.db import Library

        Library.open(lib).close()  # a new, seeded library, as a first-time user has
        s = _measure(["gui-freeze-import", lib, bib])
        freezes.append(s.data["freeze"])
        if not during or s.data["during"] > max(during):
            during_at = s.data["during_at"]
        during.append(s.data["during"])
        after.append(s.data["after"])
        times.append(s.seconds)
        added, calls = s.data["added"], s.data["progress_calls"]
        peak = max(peak, s.peak_mb)
    big = size == "100k"
    R._line(
        f"longest freeze, {size} import",
        freezes,
        peak,
        f"import took {R._fmt_s(statistics.median(times))} in the window",
        "≤ 100 ms" if big else "none at this size",
        max(freezes) <= 0.100 if big else None,
        f"heartbeat QTimer, 5 ms; the window's Importer: longest while the worker ran "
        f"{R._fmt_s(max(during))} ({during_at:.1f} s in), after it (undo step, table, "
        f"selection, report) {R._fmt_s(max(after))}; {added} added, {calls} progress "
        f"updates",
    )


def fig_freeze_export(bench: R.Bench, size: str) -> None:
    lib = str(bench.library(size))
    freezes, times, peak = [], [], 0.0
    for _ in range(bench.runs):
        s = _measure(["gui-freeze-export", lib, str(bench.tmp / "freeze-export.bib")])
        freezes.append(s.data["freeze"])
        times.append(s.seconds)
        peak = max(peak, s.peak_mb)
    big = size == "100k"
    R._line(
        f"longest freeze, {size} export",
        freezes,
        peak,
        f"export took {R._fmt_s(statistics.median(times))} in the window",
        "≤ 100 ms" if big else "none at this size",
        max(freezes) <= 0.100 if big else None,
        "heartbeat QTimer, 5 ms",
    )


def fig_autoexport_edit(bench: R.Bench, size: str) -> None:
    if size != "10k":
        return  # the budget is for a 10k-entry auto-export
    from citedesk.db import Library

    edits, currents, peak = [], [], 0.0
    for i in range(bench.runs):
        lib = bench.target(f"autoexport-{i}.sqlite")
        shutil.copy(bench.library(size), lib)
        target = str(bench.tmp / f"autoexport-{i}.bib")
        with Library.open(lib, seed=False) as library:
            library.add_autoexport(target)
        s = _measure(["gui-autoexport-edit", lib, target])
        edits += s.data["samples"]
        currents += s.data["current"]
        peak = max(peak, s.peak_mb)
    ok = statistics.median(edits) <= 0.050 and max(currents) <= 1.0
    R._line(
        "edit with 10k auto-export",
        edits,
        peak,
        f"file current after {R._fmt_s(statistics.median(currents))} "
        f"(max {R._fmt_s(max(currents))})",
        "edit ≤ 50 ms, file ≤ 1 s",
        ok,
        "title edited in the detail pane",
    )


def fig_freeze_indexing(bench: R.Bench, size: str) -> None:
    name = f"longest freeze, {size} indexing"
    if not R._has_fulltext(name):
        return
    template = bench.fulltext_library(size, False)  # 1,000 PDFs attached, not indexed
    freezes, times, during, after, peak, status = [], [], [], [], 0.0, None
    for i in range(bench.runs):
        lib = bench.target(f"freeze-indexing-{i}.sqlite")
        shutil.copyfile(template, lib)
        s = _measure(["gui-freeze-indexing", lib])
        if "skip" in s.data:
            print(f"{name:<28} SKIP ({s.data['skip']})", flush=True)
            return
        freezes.append(s.data["freeze"])
        times.append(s.seconds)
        during.append(s.data["during"])
        after.append(s.data["after"])
        status = s.data["status"]
        peak = max(peak, s.peak_mb)
    R._line(
        name,
        freezes,
        peak,
        f"indexing took {R._fmt_s(statistics.median(times))} in the window",
        "≤ 100 ms",
        max(freezes) <= 0.100,
        f"heartbeat QTimer, 5 ms; while indexing {R._fmt_s(max(during))}, after "
        f"{R._fmt_s(max(after))}; 1,000 PDFs; status after: {status}",
    )
