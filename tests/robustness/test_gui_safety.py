"""The window keeps data safe: import reports for bad files, notes that survive closing,
switching and SIGKILL, changes from another process, daily backups, damaged libraries.

Real windows (desktop.create_window) driven with qtbot; the SIGKILL test runs the window in
a subprocess and kills it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox, QPlainTextEdit, QSpinBox

from citedesk import db
from citedesk.actions import ActionId
from citedesk.app import open_window
from citedesk.db import backup as backup_mod
from citedesk.dialogs import ImportReportDialog
from citedesk.mainwindow import MainWindow
from citedesk.models import Column
from citedesk.preferences import PreferencesDialog
from citedesk.settings import SETTINGS_DIR_ENV

KEY = "wang2023qyolo"


@pytest.fixture
def library_path(tmp_path: Path) -> Path:
    path = tmp_path / "library.sqlite"
    db.Library.open(path).close()
    return path


def notes_editor(window: MainWindow) -> QPlainTextEdit:
    editor = window.findChild(QPlainTextEdit, "notesEditor")
    assert editor is not None
    return editor


def type_note(qtbot, window: MainWindow, text: str, key: str = KEY) -> int:
    assert window.select_key(key)
    editor = notes_editor(window)
    editor.setFocus()
    qtbot.keyClicks(editor, text)
    return window.library.require_key(key)


def notes_on_disk(library_path: Path, key: str = KEY) -> list[str]:
    with db.Library.open(library_path) as lib:
        return [n.body for n in lib.notes(lib.require_key(key))]


# -- import reports ------------------------------------------------------------------------------


def test_window_reports_every_bad_file_with_file_and_line(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch
) -> None:
    truncated = tmp_path / "truncated.bib"
    truncated.write_text("@misc{good, title = {Good}}\n\n@article{cut, title = {never end")
    binary = tmp_path / "binary.bib"
    binary.write_bytes(bytes(range(256)) * 64)
    empty = tmp_path / "empty.bib"
    empty.write_bytes(b"")
    gone = tmp_path / "gone.bib"
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        lambda *a, **k: (
            [str(p) for p in (truncated, binary, empty, gone)],
            "BibTeX files (*.bib)",
        ),
    )
    with qtbot.waitSignal(window.importer.finished, timeout=20000) as blocker:
        window.action(ActionId.IMPORT).trigger()
    report = blocker.args[0]
    assert report.added == ["good"]
    dialog = window.findChild(ImportReportDialog, "importReport")
    assert dialog is not None and dialog.isVisible()
    rows = [
        tuple(dialog.failures.topLevelItem(i).text(c) for c in range(3))
        for i in range(dialog.failures.topLevelItemCount())
    ]
    by_file = {r[0]: r for r in rows}
    assert by_file["truncated.bib"][1] == "3" and "not closed" in by_file["truncated.bib"][2]
    assert "binary data" in by_file["binary.bib"][2]
    assert "empty" in by_file["empty.bib"][2]
    assert "no such file" in by_file["gone.bib"][2]
    assert window.paper_model.rowCount() == 26


# -- notes ----------------------------------------------------------------------------------------


def test_note_typed_just_before_closing_survives(
    qtbot, window: MainWindow, library_path: Path
) -> None:
    type_note(qtbot, window, "typed a moment before closing")
    window.close()
    assert notes_on_disk(library_path) == ["typed a moment before closing"]


def test_note_typed_before_switching_papers_is_saved(
    qtbot, window: MainWindow, library_path: Path
) -> None:
    pid = type_note(qtbot, window, "half a thought")
    other = next(
        r
        for r in range(window.paper_model.rowCount())
        if window.paper_model.index(r, 0).data(Qt.ItemDataRole.UserRole) != pid
    )
    rect = window.table.visualRect(window.paper_model.index(other, Column.TITLE))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.library.notes(pid)[0].body == "half a thought"
    assert notes_on_disk(library_path) == ["half a thought"]


TYPE_THEN_WAIT = """
import os, sys, time
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from citedesk.app import create_window

window = create_window(sys.argv[1])
assert window.select_key(sys.argv[2])
editor = window.findChild(QPlainTextEdit, "notesEditor")
editor.setFocus()
QTest.keyClicks(editor, sys.argv[3])
end = time.monotonic() + 0.7
while time.monotonic() < end:  # the event loop runs; the autosave timer may fire
    QApplication.processEvents()
    time.sleep(0.01)
print("READY", flush=True)
while True:
    QApplication.processEvents()
    time.sleep(0.01)
"""


def test_note_survives_sigkill_within_two_seconds_of_typing(
    library_path: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        SETTINGS_DIR_ENV: str(tmp_path / "child-settings"),
    }
    text = "an idea I must not lose"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(TYPE_THEN_WAIT), str(library_path), KEY, text],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)  # 0.7 s after the last keystroke
    _, err = proc.communicate(timeout=30)
    assert line == "READY\n", err
    assert proc.returncode == -signal.SIGKILL
    assert notes_on_disk(library_path) == [text]


# -- two processes --------------------------------------------------------------------------------


def test_window_shows_a_change_made_by_the_command_line(
    qtbot, window: MainWindow, library_path: Path
) -> None:
    row = next(
        r
        for r in range(window.paper_model.rowCount())
        if window.paper_model.index(r, Column.TITLE)
        .data(Qt.ItemDataRole.DisplayRole)
        .startswith("Q-YOLO")
    )
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "citedesk",
            "--library",
            str(library_path),
            "tag",
            KEY,
            "from-the-terminal",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    qtbot.waitUntil(
        lambda: (
            "from-the-terminal"
            in str(window.paper_model.index(row, Column.TAGS).data(Qt.ItemDataRole.DisplayRole))
        ),
        timeout=5000,
    )


def test_command_line_writes_while_the_window_writes(
    qtbot, window: MainWindow, library_path: Path
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "citedesk", "--library", str(library_path), "tag", KEY, "cli-tag"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid = window.library.require_key(KEY)
    for i in range(30):  # the window keeps writing meanwhile
        window.library.add_tags([pid], [f"window-{i}"])
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "locked" not in err, err
    qtbot.waitUntil(lambda: "cli-tag" in window.library.paper_tags(pid), timeout=5000)


# -- backups --------------------------------------------------------------------------------------


def test_window_makes_the_daily_backup(qtbot, window: MainWindow, library_path: Path) -> None:
    with qtbot.waitSignal(window.daily_backup.finished, timeout=20000) as blocker:
        pass
    made, error = blocker.args
    assert error == "" and Path(made).parent == library_path.parent / "backups"
    assert backup_mod.backups(library_path, auto_only=True) == [Path(made)]
    assert backup_mod.check_library(made)[1] == 25


def test_number_of_backups_kept_is_set_in_preferences(qtbot, window: MainWindow) -> None:
    window.action(ActionId.PREFERENCES).trigger()
    prefs = window.findChild(PreferencesDialog, "preferencesDialog")
    assert prefs is not None
    qtbot.waitExposed(prefs)
    prefs.tabs.setCurrentIndex(prefs.tabs.count() - 1)
    spin = prefs.findChild(QSpinBox, "backupKeep")
    assert spin.value() == backup_mod.DEFAULT_KEEP
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "3")
    qtbot.mouseClick(
        prefs.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    assert window.library.get_setting(backup_mod.KEEP_SETTING) == 3


def _damaged_with_backup(library_path: Path) -> Path:
    with db.Library.open(library_path) as lib:
        lib.add_tags([lib.require_key(KEY)], ["keep me"])
    saved = backup_mod.backup(library_path)
    for side in ("-wal", "-shm"):
        Path(f"{library_path}{side}").unlink(missing_ok=True)
    library_path.write_bytes(b"\x00garbage after a disk error" * 500)
    return saved


def _answer_damaged_dialog(qtbot, button: str) -> None:
    """Click a button of the damaged-library message once it shows (it is modal)."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "damagedLibrary":
            QTimer.singleShot(20, click)
            return
        target = (
            box.findChild(type(box.buttons()[0]), "restoreBackup")
            if button == "restore"
            else box.button(QMessageBox.StandardButton.Close)
        )
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


def test_damaged_library_offers_and_restores_the_newest_backup(qtbot, library_path: Path) -> None:
    _damaged_with_backup(library_path)
    damaged = library_path.read_bytes()
    _answer_damaged_dialog(qtbot, "restore")
    win = open_window(library_path)
    assert win is not None
    qtbot.addWidget(win)
    assert win.library.paper_tags(win.library.require_key(KEY)) == ["keep me"]
    [kept] = [p for p in library_path.parent.iterdir() if ".replaced-" in p.name]
    assert kept.read_bytes() == damaged


def test_damaged_library_is_left_alone_when_the_offer_is_declined(
    qtbot, library_path: Path
) -> None:
    _damaged_with_backup(library_path)
    damaged = library_path.read_bytes()
    _answer_damaged_dialog(qtbot, "close")
    assert open_window(library_path) is None
    assert library_path.read_bytes() == damaged
    assert not [p for p in library_path.parent.iterdir() if ".replaced-" in p.name]


# -- a long session -------------------------------------------------------------------------------


def test_a_long_session_of_qt_calls_does_not_abort(tmp_path: Path) -> None:
    """PySide6 6.12.0 on Python 3.11 loses a reference to None per void Qt call; without
    citedesk.qtfix the interpreter aborts after about 5,000 of them (a few minutes of use)."""
    code = textwrap.dedent("""
        import citedesk  # applies citedesk.qtfix before any Qt call
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QLabel
        app = QApplication([])
        timer, label = QTimer(), QLabel()
        for i in range(20_000):
            timer.start(10)
            label.setText(str(i))
        print("survived")
    """)
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert (r.returncode, r.stdout) == (0, "survived\n"), r.stderr
