"""The import report: resizable, remembered, whole messages, and the report as text.

File dialogs are replaced by monkeypatching ``QFileDialog``'s static functions (they would
block); everything else is the real window and its dialogs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QListView, QPushButton, QTabWidget

from citedesk.actions import ActionId
from citedesk.mainwindow import MainWindow

WARNING = "field title is given more than once; BibTeX uses the first"
FAILURE = "the '{' opened on line 5 in field title is not closed before the file ends"


@pytest.fixture
def troubled(tmp_path: Path) -> Path:
    """A file with a good entry, one with a field given twice and a broken one."""
    bib = tmp_path / "troubled.bib"
    bib.write_text(
        "@article{good1, title={Fine}, author={Doe, Jane}, year={2020}}\n\n"
        "@article{twice, title={First}, title={Second}, author={Roe, Rick}, year=2021}\n\n"
        "@article{broken, title={Unclosed\n",
        encoding="utf-8",
    )
    return bib


def import_file(qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, bib: Path):
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(bib)], "BibTeX files (*.bib)")
    )
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.action(ActionId.IMPORT).trigger()
    dialog = window.importer.report_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def test_long_failures_and_warnings_wrap_instead_of_being_cut(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, troubled: Path
) -> None:
    dialog = import_file(qtbot, window, monkeypatch, troubled)
    dialog.resize(460, 420)
    failures = dialog.failures
    item = failures.topLevelItem(0)
    line = failures.fontMetrics().height()
    assert FAILURE in item.text(2)
    qtbot.waitUntil(
        lambda: failures.fontMetrics().horizontalAdvance(item.text(2)) > failures.columnWidth(2)
    )
    qtbot.waitUntil(lambda: failures.visualItemRect(item).height() >= 2 * line)

    warnings = dialog.findChild(QListView, "importWarnings")
    dialog.findChild(QTabWidget).setCurrentWidget(warnings)
    index = warnings.model().index(0, 0)
    assert WARNING in index.data()
    assert warnings.fontMetrics().horizontalAdvance(index.data()) > warnings.viewport().width()
    qtbot.waitUntil(lambda: warnings.visualRect(index).height() >= 2 * line)


def test_the_report_can_be_resized_and_opens_at_the_size_it_was_left(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, troubled: Path
) -> None:
    dialog = import_file(qtbot, window, monkeypatch, troubled)
    assert dialog.isSizeGripEnabled()
    dialog.resize(700, 500)
    dialog.close()
    again = import_file(qtbot, window, monkeypatch, troubled)
    assert again is not dialog
    assert again.size() == QSize(700, 500)


def test_copy_all_puts_the_whole_report_on_the_clipboard(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, troubled: Path
) -> None:
    dialog = import_file(qtbot, window, monkeypatch, troubled)
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.findChild(QPushButton, "copyImportReport"), Qt.MouseButton.LeftButton)
    text = QGuiApplication.clipboard().text()
    assert text.startswith(f"Imported {troubled}\n2 added, 0 duplicates, 1 failed\n")
    assert f"{troubled}:5 (entry broken): {FAILURE}" in text
    assert f"{troubled}:3 (entry twice): {WARNING}" in text
    assert "  good1\n  twice\n" in text


def test_save_writes_the_report_to_a_text_file(
    qtbot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    troubled: Path,
    tmp_path: Path,
) -> None:
    dialog = import_file(qtbot, window, monkeypatch, troubled)
    dest = tmp_path / "report.txt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    qtbot.mouseClick(dialog.findChild(QPushButton, "saveImportReport"), Qt.MouseButton.LeftButton)
    saved = dest.read_text(encoding="utf-8")
    assert saved.startswith(f"Imported {troubled}\n")
    assert f"(entry broken): {FAILURE}" in saved and f"(entry twice): {WARNING}" in saved
