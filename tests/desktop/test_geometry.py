"""Every splitter and every dialog comes back at the size it was left at, after a restart
too (desktop/geometry.py). Real windows and dialogs; settings under tmp_path; a second
``open_window()`` is a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QPushButton,
    QSplitter,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from citedesk.actions import ActionId
from citedesk.dialogs import AuxExportDialog, ExportDialog, ImportReportDialog, NewPaperDialog
from citedesk.duplicates import DuplicatesDialog
from citedesk.mainwindow import MainWindow
from citedesk.preferences import PreferencesDialog, ProfileDialog

#: Fits the offscreen screen (800 x 800), so nothing is clamped when it comes back.
WINDOW_SIZE = QSize(780, 720)
DIALOG_SIZE = QSize(700, 560)

Opener = Callable[[QtBot, MainWindow], QDialog]


def shown(qtbot: QtBot, parent: QWidget, kind: type[QDialog], name: str) -> QDialog:
    """The open dialog of that kind (one closed before may not be deleted yet)."""

    def open_one() -> QDialog | None:
        return next((d for d in parent.findChildren(kind, name) if d.isVisible()), None)

    qtbot.waitUntil(lambda: open_one() is not None)
    dialog = open_one()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def by_action(action: ActionId, kind: type[QDialog], name: str) -> Opener:
    def opener(qtbot: QtBot, window: MainWindow) -> QDialog:
        window.action(action).trigger()
        return shown(qtbot, window, kind, name)

    return opener


def profile_dialog(qtbot: QtBot, window: MainWindow) -> QDialog:
    prefs = by_action(ActionId.PREFERENCES, PreferencesDialog, "preferencesDialog")(qtbot, window)
    qtbot.mouseClick(prefs.findChild(QPushButton, "addProfile"), Qt.MouseButton.LeftButton)
    return shown(qtbot, prefs, ProfileDialog, "profileDialog")


def import_report(qtbot: QtBot, window: MainWindow) -> QDialog:
    bib = Path(window.library.path).with_name("sizes.bib")
    bib.write_text("@misc{geometry2024, title={Sizes}}\n", encoding="utf-8")
    with qtbot.waitSignal(window.importer.finished, timeout=20_000):
        window.importer.import_files([bib])
    return shown(qtbot, window, ImportReportDialog, "importReport")


DIALOGS: dict[str, Opener] = {
    "export": by_action(ActionId.EXPORT, ExportDialog, "exportDialog"),
    "new paper": by_action(ActionId.NEW_PAPER, NewPaperDialog, "newPaperDialog"),
    "duplicates": by_action(ActionId.FIND_DUPLICATES, DuplicatesDialog, "duplicatesDialog"),
    "preferences": by_action(ActionId.PREFERENCES, PreferencesDialog, "preferencesDialog"),
    "export profile": profile_dialog,
    "aux export": by_action(ActionId.EXPORT_AUX, AuxExportDialog, "auxExportDialog"),
    "import report": import_report,
}


@pytest.fixture
def aux_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The .aux file the .aux export asks for (its file dialog would block)."""
    aux = tmp_path / "paper.aux"
    aux.write_text("\\citation{wang2023qyolo}\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(aux), ""))
    return aux


def close_all(qtbot: QtBot, dialog: QDialog) -> None:
    """Esc in each open dialog, the innermost first, as a person would."""
    while isinstance(dialog, QDialog):
        parent = dialog.parentWidget()
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda d=dialog: not d.isVisible())
        dialog = parent


def notes_splitter(qtbot: QtBot, window: MainWindow) -> QSplitter:
    """The splitter of the Notes tab (list | editor | preview), on show."""
    tabs = window.detail.findChild(QTabWidget, "detailTabs")
    qtbot.mouseClick(
        tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(1).center()
    )
    splitter = window.findChild(QSplitter, "notesSplitter")
    qtbot.waitUntil(splitter.isVisible)
    return splitter


@pytest.mark.parametrize("name", DIALOGS)
def test_a_dialog_opens_at_the_size_it_was_left_at_after_a_restart(
    qtbot: QtBot, open_window, aux_file: Path, name: str
) -> None:
    window = open_window()
    dialog = DIALOGS[name](qtbot, window)
    assert dialog.size() != DIALOG_SIZE
    dialog.resize(DIALOG_SIZE)
    close_all(qtbot, dialog)
    window.close()

    again = open_window()
    assert DIALOGS[name](qtbot, again).size() == DIALOG_SIZE


def test_a_dialog_opened_again_comes_back_at_its_last_size(
    qtbot: QtBot, window: MainWindow
) -> None:
    dialog = DIALOGS["export"](qtbot, window)
    dialog.resize(DIALOG_SIZE)
    close_all(qtbot, dialog)

    assert DIALOGS["export"](qtbot, window).size() == DIALOG_SIZE


def test_the_notes_splitter_keeps_its_sizes_after_a_restart(qtbot: QtBot, open_window) -> None:
    window = open_window()
    window.resize(WINDOW_SIZE)
    splitter = notes_splitter(qtbot, window)
    before = splitter.sizes()
    handle = splitter.handle(2)  # between the editor and the preview
    middle = QPoint(handle.width() // 2, handle.height() // 2)
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=middle)
    qtbot.mouseMove(handle, middle + QPoint(0, 80))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=middle + QPoint(0, 80))
    dragged = splitter.sizes()
    assert dragged[1] > before[1]
    window.close()

    again = open_window()
    assert again.size() == WINDOW_SIZE
    assert notes_splitter(qtbot, again).sizes() == dragged


def test_every_splitter_of_the_window_is_remembered(
    qtbot: QtBot, window: MainWindow, private_settings: Path
) -> None:
    names = sorted(s.objectName() for s in window.findChildren(QSplitter))
    window.close()

    saved = (private_settings / "citedesk.ini").read_text(encoding="utf-8")
    assert names == ["mainSplitter", "notesSplitter"]
    assert "splitter=" in saved and "splitters\\notesSplitter=" in saved
