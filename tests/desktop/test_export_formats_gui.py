"""File ▸ Export… in other tools' formats: CSL-JSON and RIS beside BibTeX.

The save dialog is replaced by monkeypatching ``QFileDialog.getSaveFileName`` (it would
block), recording what it was asked; everything else is the real window and dialog.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QFileDialog

from citedesk import db
from citedesk.actions import ActionId
from citedesk.dialogs import ExportDialog
from citedesk.mainwindow import MainWindow
from citedesk.models import KEY_ROLE
from tests.desktop.helpers import child, click, click_row, exported_keys, open_dialog


def save_to(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[tuple[str, str, str]]:
    """Answer the save dialog with ``path``; the list fills with (title, start, filter)."""
    asked: list[tuple[str, str, str]] = []

    def answer(parent, title, start, filters, *rest, **kw):
        asked.append((title, start, filters))
        return str(path), filters.split(";;")[0]

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    return asked


def open_export_dialog(qtbot, window: MainWindow, fmt: str = "bibtex") -> ExportDialog:
    dialog = open_dialog(qtbot, window, ActionId.EXPORT, ExportDialog, "exportDialog")
    combo = child(dialog, QComboBox, "exportFormat")
    combo.setCurrentIndex(combo.findData(fmt))
    return dialog


def export(qtbot, window: MainWindow, dialog: ExportDialog) -> list:
    """Press Choose File… and wait for the write; the finished signal's arguments."""
    with qtbot.waitSignal(window.exporter.finished, timeout=20000) as blocker:
        click(qtbot, dialog.export_button)
    assert blocker.args[2] == ""
    return blocker.args


def select_rows(qtbot, window: MainWindow, rows: tuple[int, ...]) -> set[str]:
    """Select these table rows by clicking; the titles of their papers."""
    click_row(qtbot, window, rows[0])
    for row in rows[1:]:
        click_row(qtbot, window, row, Qt.KeyboardModifier.ControlModifier)
    ids = [window.library.id_for_key(window.paper_model.index(r, 0).data(KEY_ROLE)) for r in rows]
    return {row.title for row in window.library.rows(ids).values()}


def ris_titles(text: str) -> list[str]:
    return [line[6:] for line in text.splitlines() if line.startswith("TI  - ")]


def imported_titles(path: Path, tmp_path: Path) -> set[str]:
    """The titles a fresh, empty library holds after importing ``path``."""
    fresh = db.Library.open(tmp_path / "fresh.sqlite", seed=False)
    try:
        report = fresh.import_files([path])
        assert not report.failures
        rows = fresh.rows(fresh.paper_ids())
        return {r.title for r in rows.values()}
    finally:
        fresh.close()


def test_csl_json_export_writes_the_selected_papers(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    titles = select_rows(qtbot, window, (0, 2))
    dest = tmp_path / "chosen.json"
    asked = save_to(monkeypatch, dest)
    dialog = open_export_dialog(qtbot, window, "csl-json")
    assert dialog.selection_button.isChecked()
    path, n, _ = export(qtbot, window, dialog)
    title, start, filters = asked[0]
    assert title == "Export CSL-JSON"
    assert Path(start).name == "references.json"
    assert filters.startswith("CSL-JSON files (*.json)")
    items = json.loads(dest.read_text(encoding="utf-8"))
    assert {item["title"] for item in items} == titles
    assert (path, n) == (str(dest), 2)
    assert window.status_bar.currentMessage() == f"Exported 2 entries to {dest}"


def test_ris_export_writes_one_record_per_paper(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    titles = select_rows(qtbot, window, (1, 3, 4))
    dest = tmp_path / "chosen.ris"
    asked = save_to(monkeypatch, dest)
    dialog = open_export_dialog(qtbot, window, "ris")
    export(qtbot, window, dialog)
    assert asked[0][0] == "Export RIS"
    assert asked[0][2].startswith("RIS files (*.ris)")
    text = dest.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert sum(line.startswith("TY  - ") for line in lines) == 3
    assert sum(line.startswith("ER  -") for line in lines) == 3
    assert set(ris_titles(text)) == titles


def test_a_name_without_suffix_gets_the_formats_suffix(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    save_to(monkeypatch, tmp_path / "bare")
    dialog = open_export_dialog(qtbot, window, "ris")
    click(qtbot, dialog.all_button)
    export(qtbot, window, dialog)
    assert (tmp_path / "bare.ris").is_file()
    assert not (tmp_path / "bare").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bare")] == []


def test_a_tag_export_is_named_after_the_tag_with_the_formats_suffix(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    window.events.changed.emit(window.library.add_tags([3, 5], ["survey"]))
    asked = save_to(monkeypatch, tmp_path / "survey.json")
    dialog = open_export_dialog(qtbot, window, "csl-json")
    click(qtbot, dialog.tag_button)
    tags = child(dialog, QComboBox, "exportTagChoice")
    tags.setCurrentIndex(tags.findData("survey"))
    export(qtbot, window, dialog)
    assert Path(asked[0][1]).name == "survey.json"
    assert len(json.loads((tmp_path / "survey.json").read_text(encoding="utf-8"))) == 2


def test_bibtex_is_the_default_and_still_writes_bib(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dest = tmp_path / "all.bib"
    asked = save_to(monkeypatch, dest)
    dialog = open_dialog(qtbot, window, ActionId.EXPORT, ExportDialog, "exportDialog")
    assert child(dialog, QComboBox, "exportFormat").currentData() == "bibtex"
    assert child(dialog, QComboBox, "exportProfile").isEnabled()
    click(qtbot, dialog.all_button)
    export(qtbot, window, dialog)
    assert asked[0][0] == "Export BibTeX"
    assert Path(asked[0][1]).name == "references.bib"
    assert len(exported_keys(dest)) == 25


def test_profile_and_encoding_are_for_bibtex_only(qtbot, window: MainWindow) -> None:
    dialog = open_dialog(qtbot, window, ActionId.EXPORT, ExportDialog, "exportDialog")
    formats = child(dialog, QComboBox, "exportFormat")
    profile = child(dialog, QComboBox, "exportProfile")
    keep = child(dialog, QCheckBox, "exportKeepEncoding")
    kept_before = keep.isEnabled()
    for fmt in ("csl-json", "ris"):
        formats.setCurrentIndex(formats.findData(fmt))
        assert not profile.isEnabled()
        assert not keep.isEnabled()
    formats.setCurrentIndex(formats.findData("bibtex"))
    assert profile.isEnabled()
    assert keep.isEnabled() == kept_before


@pytest.mark.parametrize("fmt, suffix", [("csl-json", ".json"), ("ris", ".ris")])
def test_an_exported_file_imports_back_with_the_same_titles(
    qtbot,
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fmt: str,
    suffix: str,
) -> None:
    dest = tmp_path / f"everything{suffix}"
    save_to(monkeypatch, dest)
    dialog = open_export_dialog(qtbot, window, fmt)
    click(qtbot, dialog.all_button)
    _, n, _ = export(qtbot, window, dialog)
    assert n == 25
    library = window.library
    expected = {r.title for r in library.rows(library.paper_ids()).values()}
    assert imported_titles(dest, tmp_path) == expected
