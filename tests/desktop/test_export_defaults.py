"""What the window's exports start with (issue 13, export point 2), and that exporting
nothing warns instead of writing a file of bare macros (point 1).

The .aux texts are those pdflatex wrote for a document with
``\\bibliography{...}`` and for one with biblatex and biber (keys changed; the .bcf cut down).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
)

from citedesk.actions import ActionId
from citedesk.dialogs import AuxExportDialog, ExportDialog
from citedesk.mainwindow import MainWindow
from tests.desktop.helpers import click, click_row

QYOLO = "wang2023qyolo"
BIBTEX_AUX = (
    "\\relax \n\\citation{" + QYOLO + "}\n\\bibstyle{plain}\n\\bibdata{IEEEabrv,mybib}\n"
    "\\gdef \\@abspage@last{1}\n"
)
BIBLATEX_AUX = (
    "\\relax \n\\abx@aux@refcontext{nty/global//global/global}\n"
    "\\abx@aux@cite{0}{" + QYOLO + "}\n\\abx@aux@segm{0}{0}{" + QYOLO + "}\n"
    "\\abx@aux@read@bbl@mdfivesum{nohash}\n\\abx@aux@read@bblrerun\n"
    "\\gdef \\@abspage@last{1}\n"
)
#: What biblatex writes beside it for biber: the .bib files the document reads.
BIBLATEX_BCF = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<bcf:controlfile version="3.10">\n'
    '  <bcf:bibdata section="0">\n'
    '    <bcf:datasource type="file" datatype="bibtex" glob="false">thesis.bib</bcf:datasource>\n'
    "  </bcf:bibdata>\n</bcf:controlfile>\n"
)


def no_save_dialog(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("nothing to export: no file should be asked for")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", refuse)


def open_aux_dialog(qtbot, window: MainWindow, monkeypatch, aux: Path) -> AuxExportDialog:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(aux), ""))
    window.action(ActionId.EXPORT_AUX).trigger()
    dialog = window.findChild(AuxExportDialog, "auxExportDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def test_export_with_three_papers_selected_offers_the_selection_first(
    qtbot, window: MainWindow
) -> None:
    click_row(qtbot, window, 0)
    click_row(qtbot, window, 3, Qt.KeyboardModifier.ShiftModifier)
    click_row(qtbot, window, 1, Qt.KeyboardModifier.ControlModifier)
    assert len(window.selected_ids()) == 3
    window.action(ActionId.EXPORT).trigger()
    dialog = window.findChild(ExportDialog, "exportDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.selection_button.isChecked()
    assert dialog.selection_button.text() == "Selected papers (3)"
    assert dialog.view_button.isEnabled() and dialog.all_button.isEnabled()


def test_export_with_one_paper_selected_offers_that_paper_first(qtbot, window: MainWindow) -> None:
    click_row(qtbot, window, 2)
    assert len(window.selected_ids()) == 1
    window.action(ActionId.EXPORT).trigger()
    dialog = window.findChild(ExportDialog, "exportDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.selection_button.isChecked()
    assert dialog.selection_button.text() == "Selected papers (1)"


def test_exporting_an_empty_view_warns_and_writes_nothing(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    qtbot.keyClicks(window.findChild(QLineEdit, "searchBox"), "zzqqxx")
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 0)
    no_save_dialog(monkeypatch)
    window.action(ActionId.EXPORT).trigger()
    dialog = window.findChild(ExportDialog, "exportDialog")
    qtbot.waitExposed(dialog)
    assert dialog.view_button.isChecked()
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "exportNothing") is not None)
    box = window.findChild(QMessageBox, "exportNothing")
    assert box.text() == "Nothing to export." and box.icon() == QMessageBox.Icon.Warning


def test_a_bibtex_aux_defaults_to_its_bib_file_and_the_bibtex_dialect(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    aux = tmp_path / "paper.aux"
    aux.write_text(BIBTEX_AUX, encoding="utf-8")
    dialog = open_aux_dialog(qtbot, window, monkeypatch, aux)
    # The last file it names: IEEEabrv (macros only, in the TeX tree) comes first.
    assert dialog.findChild(QLineEdit, "auxOutput").text() == str(tmp_path / "mybib.bib")
    assert dialog.findChild(QComboBox, "auxProfile").currentData() == "bibtex"


def test_a_biblatex_aux_defaults_to_the_bib_file_biber_reads_and_biblatex(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    aux = tmp_path / "paper.aux"
    aux.write_text(BIBLATEX_AUX, encoding="utf-8")
    aux.with_suffix(".bcf").write_text(BIBLATEX_BCF, encoding="utf-8")
    dialog = open_aux_dialog(qtbot, window, monkeypatch, aux)
    assert dialog.findChild(QLineEdit, "auxOutput").text() == str(tmp_path / "thesis.bib")
    assert dialog.findChild(QComboBox, "auxProfile").currentData() == "biblatex"
    click(qtbot, dialog.findChild(QPushButton, "auxExport"))
    qtbot.waitUntil((tmp_path / "thesis.bib").is_file, timeout=10000)


def test_an_aux_citing_nothing_in_the_library_warns_and_writes_nothing(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    aux = tmp_path / "paper.aux"
    aux.write_text("\\citation{ghost}\n\\bibdata{refs}\n", encoding="utf-8")
    dialog = open_aux_dialog(qtbot, window, monkeypatch, aux)
    assert "nothing to export" in dialog.findChild(QLabel, "auxSummary").text()
    click(qtbot, dialog.findChild(QPushButton, "auxExport"))
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "exportNothing") is not None)
    assert not (tmp_path / "refs.bib").exists()
    assert window.library.autoexports() == []
