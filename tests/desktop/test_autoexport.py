"""The window's auto-exports: written off the GUI thread, over one kept connection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from citedesk import db
from citedesk.autoexport import AutoExporter
from citedesk.db import library as library_mod
from citedesk.mainwindow import MainWindow

QYOLO = "wang2023qyolo"


def edit_title(qtbot, window: MainWindow, text: str) -> None:
    title = window.detail.findChild(QLineEdit, "field_title")
    title.setFocus()
    title.selectAll()
    qtbot.keyClicks(title, text)
    qtbot.keyClick(title, Qt.Key.Key_Return)


def settled(exporter: AutoExporter) -> bool:
    return not exporter.pending and not exporter.running


@pytest.fixture
def exporter(qtbot, library: db.Library) -> Iterator[AutoExporter]:
    """An auto-exporter over the seeded library that writes at once after a change."""
    exporter = AutoExporter(library, delay_ms=0)
    yield exporter
    exporter.shutdown()


def test_every_run_reads_over_the_same_connection(
    qtbot, library_path: Path, open_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = tmp_path / "refs.bib"
    with db.Library.open(library_path) as lib:
        lib.add_autoexport(refs)
    readers: list[db.Library] = []  # the library each background run read
    real_run = db.Library.run_autoexports

    def recorded_run(self: db.Library) -> list[tuple[str, str]]:
        if threading.current_thread() is not threading.main_thread():
            readers.append(self)
        return real_run(self)

    monkeypatch.setattr(db.Library, "run_autoexports", recorded_run)
    window = open_window()
    qtbot.waitUntil(lambda: refs.is_file() and settled(window.autoexporter), timeout=5000)
    assert window.select_key(QYOLO)
    for n in range(3):
        edit_title(qtbot, window, f"Quantized YOLO, take {n}")
        qtbot.waitUntil(
            lambda n=n: f"Quantized YOLO, take {n}" in refs.read_text("utf-8"), timeout=5000
        )
    assert len(readers) >= 4
    assert all(reader is readers[0] for reader in readers)
    assert readers[0] is not window.library


def test_the_last_of_rapid_edits_wins(
    qtbot,
    exporter: AutoExporter,
    library: db.Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refs = tmp_path / "refs.bib"
    library.add_autoexport(refs)
    pid = library.id_for_key(QYOLO)
    # Hold the first run at its write, after it read the library, until the later edits.
    writing, go_on = threading.Event(), threading.Event()
    real_write = library_mod.write_export

    def held_write(dest, data) -> None:
        writing.set()
        go_on.wait(10)
        real_write(dest, data)

    monkeypatch.setattr(library_mod, "write_export", held_write)
    library.update_fields(pid, {"title": "First edit"})
    exporter.schedule()
    qtbot.waitUntil(writing.is_set, timeout=5000)
    for title in ("Second edit", "Third edit"):
        library.update_fields(pid, {"title": title})
        exporter.schedule()
    go_on.set()
    qtbot.waitUntil(lambda: settled(exporter), timeout=5000)
    text = refs.read_text(encoding="utf-8")
    assert "{Third edit}" in text and "{First edit}" not in text
    assert refs.read_bytes() == library.export_text()[0].encode("utf-8")


def test_a_library_file_that_is_gone_is_reported_not_created_again(
    qtbot, exporter: AutoExporter, library: db.Library, tmp_path: Path
) -> None:
    refs = tmp_path / "refs.bib"
    library.add_autoexport(refs)
    with qtbot.waitSignal(exporter.finished, timeout=5000) as first:
        exporter.schedule()
    assert first.args[0] == [(str(refs.resolve()), "written")]
    written = refs.read_bytes()
    library.path.unlink()  # the window's connection goes on; the file is no more
    library.update_fields(library.id_for_key(QYOLO), {"title": "Edited"})
    with qtbot.waitSignal(exporter.finished, timeout=5000) as second:
        exporter.schedule()
    [(path, outcome)] = second.args[0]
    assert path == "" and "library file is gone" in outcome
    assert not library.path.exists()  # not an empty new library, which would empty the .bib
    assert refs.read_bytes() == written


def test_closing_right_after_an_edit_still_writes_it(
    qtbot, library_path: Path, open_window, tmp_path: Path
) -> None:
    refs = tmp_path / "refs.bib"
    with db.Library.open(library_path) as lib:
        lib.add_autoexport(refs, profile="bibtex")
    window = open_window()
    qtbot.waitUntil(lambda: refs.is_file() and settled(window.autoexporter), timeout=5000)
    assert window.select_key(QYOLO)
    edit_title(qtbot, window, "Closing time")
    assert window.autoexporter.pending
    window.close()
    assert "{Closing time}" in refs.read_text(encoding="utf-8")


def test_the_kept_connection_does_not_hold_the_log_between_runs(
    qtbot, exporter: AutoExporter, library: db.Library, tmp_path: Path
) -> None:
    library.add_autoexport(tmp_path / "refs.bib", profile="biblatex")
    with qtbot.waitSignal(exporter.finished, timeout=5000):
        exporter.schedule()
    library.update_fields(library.id_for_key(QYOLO), {"title": "Edited"})
    # A reader still inside a statement would keep the log from being emptied (busy = 1).
    busy, _, _ = library.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0
