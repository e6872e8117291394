"""The window's import runs in a worker thread: the GUI keeps going, Cancel and closing roll
it back, errors become messages, and what it added is undoable in one step.

Real windows over real library files, real .bib files of a few thousand entries (large
enough for the parallel engine, whose worker processes start from a forkserver here).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
)

from citedesk import db
from citedesk.actions import ActionId
from citedesk.importer import ImportProgressDialog
from citedesk.mainwindow import MainWindow

SEEDED = 25
WORDS = (
    "graph neural network attention kernel gradient descent convergence bayesian "
    "inference privacy federated robust adversarial diffusion sparse transformer"
).split()


def write_bib(path: Path, n: int) -> Path:
    """``n`` entries of about 900 bytes (an abstract each), journals as @string macros."""
    parts = [
        "@string{jmlr = {Journal of Machine Learning Research}}\n",
        "@string{tpami = {IEEE Transactions on Pattern Analysis}}\n\n",
    ]
    for i in range(n):
        abstract = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(100))
        parts.append(
            f'@article{{synth{i:05d},\n  author = {{M{{\\"u}}ller, J{{\\"o}}rg and '
            f"Garc{{\\'\\i}}a, Ana and Wang, Li}},\n"
            f"  title = {{A study of {WORDS[i % len(WORDS)]} number {i}}},\n"
            f"  journal = {'jmlr' if i % 2 else 'tpami'},\n  year = {{{1990 + i % 35}}},\n"
            f"  doi = {{10.1000/synth.{i}}},\n  abstract = {{{abstract}}}\n}}\n\n"
        )
    path.write_text("".join(parts), encoding="utf-8")
    return path


@pytest.fixture
def big_bib(tmp_path: Path) -> Path:
    return write_bib(tmp_path / "big.bib", 4000)


def choose_files(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        lambda *a, **k: ([str(p) for p in paths], "BibTeX files (*.bib)"),
    )


def count_on_disk(path: Path) -> int:
    with db.Library.open(path, seed=False) as other:
        return other.count(db.Query())


def cancel_button(window: MainWindow) -> QPushButton:
    dialog = window.findChild(ImportProgressDialog, "importProgress")
    assert dialog is not None and dialog.isVisible()
    button = dialog.findChild(QPushButton)
    assert button is not None
    return button


class Heartbeat:
    """A 10 ms timer on the GUI thread; records the gaps between its ticks while ``busy()``."""

    def __init__(self, busy: Callable[[], bool]) -> None:
        self.busy = busy
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.timer.start()

    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        if self.busy():
            self.gaps.append(now - self._last)
        self._last = now


# -- the GUI thread stays free ----------------------------------------------------------------


def test_the_gui_keeps_processing_events_while_a_file_imports(
    qtbot, window: MainWindow, big_bib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_files(monkeypatch, big_bib)
    progress: list[tuple[int, int]] = []
    window.importer.progressed.connect(lambda done, total: progress.append((done, total)))
    beat = Heartbeat(lambda: window.importer.running)
    with qtbot.waitSignal(window.importer.finished, timeout=120000) as blocker:
        window.action(ActionId.IMPORT).trigger()
    beat.timer.stop()
    assert len(blocker.args[0].added) == 4000
    # The import took a while, and the timer kept ticking all along: no freeze.
    assert len(beat.gaps) >= 10
    # (Adding the entries on the GUI thread, as before, stopped it for most of a second.)
    assert max(beat.gaps) < 0.5, f"longest gap {max(beat.gaps):.3f} s"
    # Bytes of the file, reported from the worker and delivered on the GUI thread.
    assert progress and progress[-1] == (big_bib.stat().st_size, big_bib.stat().st_size)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_files_are_written_by_a_worker_over_its_own_connection(
    qtbot, window: MainWindow, big_bib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, db.Library]] = []
    original = db.Library.import_files

    def spy(self: db.Library, *args, **kwargs):
        calls.append((threading.get_ident(), self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(db.Library, "import_files", spy)
    choose_files(monkeypatch, big_bib)
    with qtbot.waitSignal(window.importer.finished, timeout=120000):
        window.action(ActionId.IMPORT).trigger()
    [(thread, library)] = calls
    assert thread != threading.get_ident()
    assert library is not window.library
    # The window's connection sees the worker's commit, and so does the table.
    assert window.library.count(db.Query()) == SEEDED + 4000
    assert window.paper_model.rowCount() == SEEDED + 4000


def test_pasted_text_is_parsed_and_written_by_a_worker(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, db.Library]] = []
    original = db.Library.import_parsed

    def spy(self: db.Library, *args, **kwargs):
        calls.append((threading.get_ident(), self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(db.Library, "import_parsed", spy)
    QGuiApplication.clipboard().setText(
        "@article{pasted2024, title={Pasted}, author={Paste, Pat}, year={2024}}"
    )
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.action(ActionId.PASTE_BIBTEX).trigger()
    [(thread, library)] = calls
    assert thread != threading.get_ident() and library is not window.library
    assert window.library.id_for_key("pasted2024") is not None
    window.action(ActionId.UNDO).trigger()
    assert window.library.id_for_key("pasted2024") is None


# -- cancel, close, errors ------------------------------------------------------------------------


def test_cancel_mid_import_leaves_the_library_unchanged(
    qtbot, window: MainWindow, big_bib: Path, lib_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = window.library.export_text()[0]
    choose_files(monkeypatch, big_bib)
    seen: list[tuple[int, int]] = []

    def press_cancel(done: int, total: int) -> None:
        seen.append((done, total))
        if len(seen) == 1:
            qtbot.mouseClick(cancel_button(window), Qt.MouseButton.LeftButton)
            # The dialog stays up (and the window blocked) until the worker has stopped.
            assert window.findChild(ImportProgressDialog, "importProgress").isVisible()

    window.importer.progressed.connect(press_cancel)
    with qtbot.waitSignal(window.importer.finished, timeout=120000) as blocker:
        window.action(ActionId.IMPORT).trigger()
    assert blocker.args == [None]
    assert seen and seen[0][0] < seen[0][1]  # cancelled part way through the file
    assert window.library.count(db.Query()) == SEEDED
    assert count_on_disk(lib_path) == SEEDED
    assert window.library.export_text()[0] == before
    assert window.paper_model.rowCount() == SEEDED
    assert not window.action(ActionId.UNDO).isEnabled()
    assert "cancelled" in window.statusBar().currentMessage()
    assert (
        window.findChild(ImportProgressDialog, "importProgress") is None
        or not window.findChild(ImportProgressDialog, "importProgress").isVisible()
    )


def test_closing_the_window_mid_import_rolls_it_back(
    qtbot, open_window, big_bib: Path, lib_path: Path
) -> None:
    window = open_window()
    with qtbot.waitSignal(window.importer.progressed, timeout=120000):
        window.importer.import_files([big_bib])
    window.close()
    assert not window.importer.running
    assert count_on_disk(lib_path) == SEEDED
    again = open_window()  # the library opens cleanly: no lock left, nothing half-written
    assert again.paper_model.rowCount() == SEEDED


def test_quitting_the_application_mid_import_rolls_it_back(
    qtbot, window: MainWindow, big_bib: Path, lib_path: Path
) -> None:
    with qtbot.waitSignal(window.importer.progressed, timeout=120000):
        window.importer.import_files([big_bib])
    # What the desktop's "quit" does: the modal progress dialog is asked first, then the
    # window; neither may refuse.
    QApplication.closeAllWindows()
    assert not window.isVisible()
    assert not window.importer.running
    assert count_on_disk(lib_path) == SEEDED


def test_an_error_in_the_worker_is_a_message_not_a_crash(
    qtbot, window: MainWindow, big_bib: Path, lib_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: db.Library, *args, **kwargs):
        raise db.LibraryLockedError("the library is busy in another Citedesk")

    monkeypatch.setattr(db.Library, "import_files", fail)
    with qtbot.waitSignal(window.importer.finished, timeout=20000) as blocker:
        window.importer.import_files([big_bib])
    assert blocker.args == [None]
    box = window.findChild(QMessageBox, "importFailed")
    assert box is not None and box.isVisible()
    assert "busy in another Citedesk" in box.informativeText()
    assert "failed" in window.statusBar().currentMessage()
    assert count_on_disk(lib_path) == SEEDED
    assert not window.importer.running  # the next import may start


def test_a_bug_in_the_worker_says_so(
    qtbot, window: MainWindow, big_bib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(self: db.Library, *args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(db.Library, "import_files", bug)
    with qtbot.waitSignal(window.importer.finished, timeout=20000) as blocker:
        window.importer.import_files([big_bib])
    assert blocker.args == [None]
    box = window.findChild(QMessageBox, "importFailed")
    assert box is not None and "bug" in box.informativeText()


# -- what the window does around it ------------------------------------------------------------


def test_a_note_typed_just_before_an_import_is_saved_before_the_worker_writes(
    qtbot, window: MainWindow, big_bib: Path, lib_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = window.paper_model.paper_id(0)
    window.table.select_papers([pid], pid)
    editor = window.findChild(QPlainTextEdit, "notesEditor")
    editor.setFocus()
    qtbot.keyClicks(editor, "typed right before the import")
    on_disk_at_start: list[list[str]] = []

    def read_notes() -> None:
        with db.Library.open(lib_path, seed=False) as other:
            on_disk_at_start.append([n.body for n in other.notes(pid)])

    window.importer.started.connect(read_notes)
    choose_files(monkeypatch, big_bib)
    with qtbot.waitSignal(window.importer.finished, timeout=120000):
        window.action(ActionId.IMPORT).trigger()
    assert on_disk_at_start == [["typed right before the import"]]
    assert [n.body for n in window.library.notes(pid)] == ["typed right before the import"]


def test_a_large_import_is_undone_and_redone_in_one_step(
    qtbot, window: MainWindow, big_bib: Path, lib_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_files(monkeypatch, big_bib)
    with qtbot.waitSignal(window.importer.finished, timeout=120000):
        window.action(ActionId.IMPORT).trigger()
    window.importer.report_dialog.close()
    assert window.undo_stack.count() == 1
    window.action(ActionId.UNDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == SEEDED)
    assert count_on_disk(lib_path) == SEEDED
    window.action(ActionId.REDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == SEEDED + 4000)
    assert window.library.id_for_key("synth03999") is not None


def edit_title(qtbot, window: MainWindow, pid: int, text: str) -> None:
    window.table.select_papers([pid], pid)
    title = window.detail.findChild(QLineEdit, "field_title")
    title.setFocus()
    title.selectAll()
    qtbot.keyClicks(title, text)
    qtbot.keyClick(title, Qt.Key.Key_Return)


def test_an_edit_after_an_import_uses_the_imported_string_macros(
    qtbot, window: MainWindow, big_bib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An edit before the import: the window's connection has read the library's macros.
    edit_title(qtbot, window, window.paper_model.paper_id(0), "Edited before the import")
    choose_files(monkeypatch, big_bib)
    with qtbot.waitSignal(window.importer.finished, timeout=120000):
        window.action(ActionId.IMPORT).trigger()
    window.importer.report_dialog.close()
    pid = window.library.require_key("synth00001")
    edit_title(qtbot, window, pid, "Edited after the import")
    row = window.library.rows([pid])[pid]
    assert row.title == "Edited after the import"
    # The @string came in through the worker's connection; this one knows it too.
    assert row.venue == "Journal of Machine Learning Research"
