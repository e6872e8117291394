"""Import and export through the window's actions, dialogs and drops.

File dialogs are replaced by monkeypatching ``QFileDialog``'s static functions (they would
block); everything else is the real widgets. Settings go under ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QRadioButton,
)

from citedesk import db
from citedesk.actions import ActionId
from citedesk.dialogs import ExportDialog, ImportReportDialog, NewPaperDialog
from citedesk.mainwindow import MainWindow
from citedesk.models import KEY_ROLE
from citedesk.preferences import PreferencesDialog
from tests.desktop.helpers import click, click_row, exported_keys, open_dialog

BIBDATA = Path(__file__).resolve().parents[2].parent / "shared" / "bibdata"
XAMPL = BIBDATA / "texlive" / "xampl.bib"
needs_bibdata = pytest.mark.skipif(
    not XAMPL.is_file(), reason=f"the shared BibTeX corpus is not at {BIBDATA}"
)


def choose_files(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        lambda *a, **k: ([str(p) for p in paths], "BibTeX files (*.bib)"),
    )


def save_to(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), "BibTeX files (*.bib)")
    )


def open_export_dialog(qtbot, window: MainWindow) -> ExportDialog:
    return open_dialog(qtbot, window, ActionId.EXPORT, ExportDialog, "exportDialog")


# -- import ----------------------------------------------------------------------------------------


@needs_bibdata
def test_import_action_fills_the_table_and_reports(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_files(monkeypatch, XAMPL)
    with qtbot.waitSignal(window.importer.finished, timeout=20000) as blocker:
        window.action(ActionId.IMPORT).trigger()
    report = blocker.args[0]
    assert isinstance(report, db.ImportReport) and len(report.added) == 36
    assert window.paper_model.rowCount() == 25 + 36
    assert window.library.id_for_key("article-full") is not None
    dialog = window.findChild(ImportReportDialog, "importReport")
    assert dialog is not None and dialog.isVisible()
    assert "36 papers added" in dialog.findChild(QLabel, "importSummary").text()
    # The new papers are selected, so the person sees what came in.
    assert len(window.selected_ids()) == 36


@needs_bibdata
def test_an_import_is_undone_in_one_step(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_files(monkeypatch, XAMPL)
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.action(ActionId.IMPORT).trigger()
    window.importer.report_dialog.close()
    window.action(ActionId.UNDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 25)
    assert window.library.id_for_key("article-full") is None
    window.action(ActionId.REDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 61)


def test_failed_blocks_are_reported_with_file_and_line(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bib = tmp_path / "mixed.bib"
    bib.write_text(
        "@article{good1, title={Fine}, author={Doe, Jane}, year={2020}}\n\n"
        "@article{broken, title={Unclosed\n\n"
        "@article{good2, title={Also fine}, author={Roe, Rick}, year={2021}}\n",
        encoding="utf-8",
    )
    choose_files(monkeypatch, bib)
    with qtbot.waitSignal(window.importer.finished, timeout=20000) as blocker:
        window.action(ActionId.IMPORT).trigger()
    report = blocker.args[0]
    assert sorted(report.added) == ["good1", "good2"]
    dialog = window.importer.report_dialog
    item = dialog.failures.topLevelItem(0)
    assert (item.text(0), item.text(1)) == ("mixed.bib", "3")
    assert dialog.failures.topLevelItemCount() == 1


def test_importing_a_file_twice_reports_duplicates(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bib = tmp_path / "one.bib"
    bib.write_text(
        "@book{knuth1984, title={The TeXbook}, author={Knuth, Donald E.}, year={1984}}\n",
        encoding="utf-8",
    )
    choose_files(monkeypatch, bib)
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.action(ActionId.IMPORT).trigger()
    with qtbot.waitSignal(window.importer.finished, timeout=20000) as blocker:
        window.action(ActionId.IMPORT).trigger()
    report = blocker.args[0]
    assert report.added == [] and len(report.duplicates) == 1
    assert window.paper_model.rowCount() == 26


def test_paste_bibtex_adds_the_clipboard_entry_and_selects_it(qtbot, window: MainWindow) -> None:
    QGuiApplication.clipboard().setText(
        "@inproceedings{vaswani2017attention, title={Attention Is All You Need}, "
        "author={Vaswani, Ashish and Shazeer, Noam}, booktitle={NeurIPS}, year={2017}}"
    )
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.action(ActionId.PASTE_BIBTEX).trigger()
    pid = window.library.id_for_key("vaswani2017attention")
    assert pid is not None
    assert window.table.current_paper == pid
    assert window.importer.report_dialog is None  # no report for a clean paste


def _drag_enter(mime: QMimeData) -> QDragEnterEvent:
    """A drag entering at (300, 300): PySide6 6.12 takes a QPointF, older ones a QPoint."""
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    try:
        return QDragEnterEvent(QPointF(300, 300), *args)
    except TypeError:
        return QDragEnterEvent(QPoint(300, 300), *args)


def test_dropping_a_bib_file_on_the_window_imports_it(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    bib = tmp_path / "dropped.bib"
    bib.write_text(
        "@misc{dropped2024, title={Dropped in}, author={Drop, Dee}, year={2024}}\n",
        encoding="utf-8",
    )
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bib))])
    enter = _drag_enter(mime)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(300, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        QApplication.sendEvent(window, drop)
    assert window.library.id_for_key("dropped2024") is not None


def test_dragging_other_files_is_refused(window: MainWindow, tmp_path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "photo.jpg"))])
    enter = _drag_enter(mime)
    enter.ignore()
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


# -- export ----------------------------------------------------------------------------------------


def test_export_of_the_selection_writes_those_entries(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    click_row(qtbot, window, 0)
    click_row(qtbot, window, 2, Qt.KeyboardModifier.ControlModifier)
    keys = {window.paper_model.index(r, 0).data(KEY_ROLE) for r in (0, 2)}
    dest = tmp_path / "out" / "selection.bib"
    dest.parent.mkdir()
    save_to(monkeypatch, dest)
    dialog = open_export_dialog(qtbot, window)
    assert dialog.selection_button.isChecked()  # several selected: that is the default
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(dest.is_file)
    assert set(exported_keys(dest)) == keys


def test_export_of_a_tag_writes_only_its_papers(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    window.events.changed.emit(window.library.add_tags([3, 5, 7], ["survey"]))
    window.events.changed.emit(window.library.add_tags([9], ["other"]))
    dest = tmp_path / "survey.bib"
    save_to(monkeypatch, dest)
    dialog = open_export_dialog(qtbot, window)
    click(qtbot, dialog.tag_button)
    combo = dialog.findChild(QComboBox, "exportTagChoice")
    combo.setCurrentIndex(combo.findData("survey"))
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(dest.is_file)
    rows = window.library.rows([3, 5, 7])
    assert sorted(exported_keys(dest)) == sorted(r.key for r in rows.values())


def test_export_of_all_and_of_the_view(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    everything = tmp_path / "all.bib"
    save_to(monkeypatch, everything)
    dialog = open_export_dialog(qtbot, window)
    click(qtbot, dialog.all_button)
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(everything.is_file)
    assert len(exported_keys(everything)) == 25

    qtbot.keyClicks(window.findChild(QLineEdit, "searchBox"), "sgd")
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 8)
    view = tmp_path / "view.bib"
    save_to(monkeypatch, view)
    dialog = open_export_dialog(qtbot, window)
    click(qtbot, dialog.view_button)
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(view.is_file)
    shown = {window.paper_model.index(r, 0).data(KEY_ROLE) for r in range(8)}
    assert set(exported_keys(view)) == shown


def test_the_default_profile_from_preferences_writes_latex_commands(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    window.events.changed.emit(
        window.library.import_text(
            "@article{goedel1931, title={Über formal unentscheidbare Sätze}, "
            "author={Gödel, Kurt}, journal={Monatshefte}, year={1931}}"
        ).changes
    )
    window.action(ActionId.PREFERENCES).trigger()
    prefs = window.findChild(PreferencesDialog, "preferencesDialog")
    qtbot.waitExposed(prefs)
    combo = prefs.findChild(QComboBox, "defaultProfile")
    combo.setCurrentIndex(combo.findData("bibtex"))
    click(qtbot, prefs.buttons.button(QDialogButtonBox.StandardButton.Ok))
    dest = tmp_path / "ascii.bib"
    save_to(monkeypatch, dest)
    dialog = open_export_dialog(qtbot, window)
    assert dialog.findChild(QComboBox, "exportProfile").currentData() == "bibtex"
    click(qtbot, dialog.all_button)
    click(qtbot, dialog.export_button)
    qtbot.waitUntil(dest.is_file)
    data = dest.read_bytes()
    data.decode("ascii")
    assert b'G\\"{o}del' in data or b'G{\\"o}del' in data


# -- preferences and new papers --------------------------------------------------------------------


def test_preferences_store_the_key_pattern_in_the_library(qtbot, window: MainWindow) -> None:
    click_row(qtbot, window, 0)
    window.action(ActionId.PREFERENCES).trigger()
    prefs = window.findChild(PreferencesDialog, "preferencesDialog")
    qtbot.waitExposed(prefs)
    pattern = prefs.findChild(QLineEdit, "keyPattern")
    ok = prefs.buttons.button(QDialogButtonBox.StandardButton.Ok)
    pattern.clear()
    qtbot.keyClicks(pattern, "[auth][yaer]")
    assert not ok.isEnabled()  # an unknown token cannot be saved
    assert "yaer" in prefs.findChild(QLabel, "keyPreview").text()
    pattern.clear()
    qtbot.keyClicks(pattern, "[auth][year]")
    assert ok.isEnabled()
    assert "<tt>" in prefs.findChild(QLabel, "keyPreview").text()
    click(qtbot, ok)
    assert window.library.key_pattern == "[auth][year]"


def test_new_paper_offers_the_entry_types_the_detail_pane_completes(
    qtbot, window: MainWindow
) -> None:
    editor = window.findChild(QLineEdit, "field_entrytype")
    completes = editor.completer().model()
    pane_types = [completes.index(i, 0).data() for i in range(completes.rowCount())]
    window.action(ActionId.NEW_PAPER).trigger()
    dialog = window.findChild(NewPaperDialog, "newPaperDialog")
    qtbot.waitExposed(dialog)
    offered = [dialog.entry_type.itemText(i) for i in range(dialog.entry_type.count())]
    dialog.reject()
    assert offered == pane_types and "article" in offered


def test_new_paper_is_added_selected_and_undoable(qtbot, window: MainWindow) -> None:
    window.action(ActionId.NEW_PAPER).trigger()
    dialog = window.findChild(NewPaperDialog, "newPaperDialog")
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.title, "Deep Residual Learning")
    qtbot.keyClicks(dialog.authors, "He, Kaiming and Zhang, Xiangyu")
    qtbot.keyClicks(dialog.year, "2016")
    click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok))
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 26)
    pid = window.table.current_paper
    assert pid is not None
    assert window.library.rows([pid])[pid].title == "Deep Residual Learning"
    window.action(ActionId.UNDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 25)


def test_a_file_comes_back_whole_in_its_own_encoding(
    qtbot, open_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: import into an empty library, export all keeping the encoding: same bytes."""
    bib = tmp_path / "ansi.bib"
    data = (
        "% Exported by hand\r\n@string{pub = {Presses Universitaires}}\r\n\r\n"
        "@book{b1, author = {Ødegård, Åse}, title = {Études}, publisher = pub, "
        "year = 1999}\r\n@comment{kept here}\r\n"
    ).encode("cp1252")
    bib.write_bytes(data)
    window = open_window(seed=False)
    choose_files(monkeypatch, bib)
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.action(ActionId.IMPORT).trigger()
    window.importer.report_dialog.close()
    dialog = open_export_dialog(qtbot, window)
    click(qtbot, dialog.findChild(QRadioButton, "exportAll"))
    keep = dialog.findChild(QCheckBox, "exportKeepEncoding")
    assert keep.isEnabled() and "Windows-1252" in keep.text() and not keep.isChecked()
    click(qtbot, keep)
    out = tmp_path / "out.bib"
    save_to(monkeypatch, out)
    with qtbot.waitSignal(window.exporter.finished, timeout=20000):
        click(qtbot, dialog.export_button)
    assert out.read_bytes() == data


@needs_bibdata
def test_undoing_an_import_takes_its_strings_and_preambles_too(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = window.library.export_text()[0]
    choose_files(monkeypatch, XAMPL)
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        window.action(ActionId.IMPORT).trigger()
    window.importer.report_dialog.close()
    imported = window.library.export_text()[0]
    assert "@preamble" in imported and imported.startswith(before)
    window.action(ActionId.UNDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 25)
    assert window.library.export_text()[0] == before
    window.action(ActionId.REDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 61)
    assert window.library.export_text()[0] == imported


def test_the_about_box_version_is_the_installed_package_version() -> None:
    from importlib.metadata import version

    from citedesk.dialogs import app_version

    assert app_version() == version("citedesk")
