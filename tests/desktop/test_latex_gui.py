"""The window's side of issue 4: profiles, .aux exports, keys, duplicates, auto-export.

Real widgets over a real library in ``tmp_path``; settings under ``tmp_path`` too. File
dialogs and question boxes are replaced by monkeypatching ``QFileDialog``'s and
``QMessageBox``'s static functions; dialogs opened with ``open()`` are found by object name
and driven through their widgets.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
)

from citedesk import db
from citedesk.actions import ActionId
from citedesk.db.export import ExportProfile
from citedesk.dialogs import AuxExportDialog, ExportDialog
from citedesk.duplicates import DuplicatesDialog
from citedesk.mainwindow import MainWindow
from citedesk.preferences import AutoExportDialog, ProfileDialog
from tests.desktop.helpers import click, exported_keys, open_preferences

QYOLO = "wang2023qyolo"
SGD_BOUNDS = "wang2022generalizationerrorbounds"

#: A journal version of a seeded paper (same title, year and first author), and one by DOI.
DUPLICATES_BIB = """\
@inproceedings{wang2023qyoloacpr,
  author = {Wang, Mingze and Sun, Huixin and Shi, Jun and Liu, Xuhui},
  title = {{Q-YOLO}: Efficient Inference for Real-Time Object Detection},
  booktitle = {Asian Conference on Pattern Recognition (ACPR)},
  year = {2023},
  pages = {307--321},
  doi = {10.1007/978-3-031-47665-5_25}
}

@article{wang2022sgdbounds,
  author = {Wang, Mingze and Ma, Chao},
  title = {Generalization error bounds for deep neural networks trained by {SGD}},
  journal = {arXiv preprint arXiv:2206.03299},
  year = {2022}
}
"""


def ok_button(dialog) -> QPushButton:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def choose(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} is not offered"
    combo.setCurrentIndex(index)


def answer_yes(asked: list[str]):
    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    return question


def sub_dialog(qtbot, parent, kind, name: str):
    dialog = parent.findChild(kind, name)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def select_row(qtbot, tree: QTreeWidget, text: str) -> None:
    item = tree.findItems(text, Qt.MatchFlag.MatchEndsWith, 0)[0]
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tree.currentItem() is item


# -- export with a profile -------------------------------------------------------------------------


def test_export_dialog_with_the_bibtex_profile_writes_ascii_and_the_tagged_entries(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lib = window.library
    window.events.changed.emit(
        lib.import_text(
            "@article{goedel1931, title={Über formal unentscheidbare Sätze}, "
            "author={Gödel, Kurt}, journal={Monatshefte für Mathematik}, year={1931}}"
        ).changes
    )
    goedel = lib.id_for_key("goedel1931")
    qyolo = lib.id_for_key(QYOLO)
    window.events.changed.emit(lib.add_tags([goedel, qyolo], ["logic"]))
    dest = tmp_path / "logic.bib"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))

    window.action(ActionId.EXPORT).trigger()
    dialog = sub_dialog(qtbot, window, ExportDialog, "exportDialog")
    click(qtbot, dialog.tag_button)
    choose(dialog.findChild(QComboBox, "exportTagChoice"), "logic")
    profiles = dialog.findChild(QComboBox, "exportProfile")
    assert [profiles.itemText(i) for i in range(3)] == [
        "As stored (lossless)",
        "BibTeX (ASCII)",
        "BibLaTeX (UTF-8)",
    ]
    choose(profiles, "bibtex")
    click(qtbot, dialog.export_button)

    qtbot.waitUntil(dest.is_file)
    data = dest.read_bytes()
    assert data.isascii()
    assert b'G{\\"o}del' in data or b'G\\"{o}del' in data
    assert sorted(exported_keys(dest)) == sorted(["goedel1931", QYOLO])
    assert b"abstract" not in data  # the BibTeX profile leaves abstracts out


def test_a_saved_profile_is_offered_in_the_export_dialog(qtbot, window: MainWindow) -> None:
    window.library.save_profile(ExportProfile("thesis", "bibtex", ("abstract", "url")))
    window.action(ActionId.EXPORT).trigger()
    dialog = sub_dialog(qtbot, window, ExportDialog, "exportDialog")
    profiles = dialog.findChild(QComboBox, "exportProfile")
    assert profiles.findData("thesis") > 0
    assert dialog.profile_choice() == ""  # exports start as stored unless told otherwise


# -- .aux export -----------------------------------------------------------------------------------


def test_aux_export_writes_the_cited_entries_and_names_a_missing_key(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    aux = tmp_path / "paper" / "paper.aux"
    aux.parent.mkdir()
    aux.write_text(
        "\\relax\n\\citation{" + QYOLO + "}\n"
        "\\citation{" + SGD_BOUNDS + ",knuth1984texbook}\n"
        "\\bibdata{refs}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(aux), ""))

    window.action(ActionId.EXPORT_AUX).trigger()
    dialog = sub_dialog(qtbot, window, AuxExportDialog, "auxExportDialog")
    output = dialog.findChild(QLineEdit, "auxOutput")
    assert output.text() == str(aux.with_name("refs.bib"))
    summary = dialog.findChild(QLabel, "auxSummary").text()
    assert "3 keys" in summary and "knuth1984texbook" in summary
    choose(dialog.findChild(QComboBox, "auxProfile"), "biblatex")
    click(qtbot, dialog.findChild(QPushButton, "auxExport"))

    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "auxExportResult") is not None, timeout=10000
    )
    result = window.findChild(QMessageBox, "auxExportResult")
    assert "Wrote 2 entries to refs.bib" in result.text()
    assert "knuth1984texbook" in result.text()
    assert exported_keys(aux.with_name("refs.bib")) == [QYOLO, SGD_BOUNDS]
    assert "1 cited key not in the library" in window.statusBar().currentMessage()


def test_aux_export_can_keep_the_file_current(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    aux = tmp_path / "paper.aux"
    aux.write_text("\\citation{" + QYOLO + "}\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(aux), ""))
    window.action(ActionId.EXPORT_AUX).trigger()
    dialog = sub_dialog(qtbot, window, AuxExportDialog, "auxExportDialog")
    click(qtbot, dialog.findChild(QCheckBox, "auxKeepCurrent"))
    click(qtbot, dialog.findChild(QPushButton, "auxExport"))
    qtbot.waitUntil(
        lambda: window.findChild(QMessageBox, "auxExportResult") is not None, timeout=10000
    )
    [spec] = window.library.autoexports()
    assert spec["aux"] == str(aux.resolve())
    assert spec["path"] == str(aux.with_name("refs.bib").resolve())


# -- preferences -----------------------------------------------------------------------------------


def test_preferences_keep_a_good_key_pattern_in_the_library_and_refuse_a_bad_one(
    qtbot, window: MainWindow, library_path: Path
) -> None:
    window.select_key(QYOLO)
    prefs = open_preferences(qtbot, window)
    pattern = prefs.findChild(QLineEdit, "keyPattern")
    preview = prefs.findChild(QLabel, "keyPreview")
    pattern.clear()
    qtbot.keyClicks(pattern, "[auth:upper][year][colour]")
    assert not ok_button(prefs).isEnabled()
    assert "[colour]" in preview.text()
    pattern.clear()
    qtbot.keyClicks(pattern, "[auth:lower]-[year]")
    assert ok_button(prefs).isEnabled()
    assert "wang-2023" in preview.text()  # the example is the selected paper's key
    click(qtbot, ok_button(prefs))
    with db.Library.open(library_path) as other:  # persisted in the file, not the window
        assert other.key_pattern == "[auth:lower]-[year]"


def test_profiles_are_added_edited_and_removed_in_preferences(qtbot, window: MainWindow) -> None:
    prefs = open_preferences(qtbot, window)
    click(qtbot, prefs.findChild(QPushButton, "addProfile"))
    editor = sub_dialog(qtbot, prefs, ProfileDialog, "profileDialog")
    name = editor.findChild(QLineEdit, "profileName")
    qtbot.keyClicks(name, "bibtex")
    assert not ok_button(editor).isEnabled()  # a built-in name
    name.clear()
    qtbot.keyClicks(name, "thesis")
    choose(editor.findChild(QComboBox, "profileDialect"), "bibtex")
    exclude = editor.findChild(QLineEdit, "profileExclude")
    exclude.clear()
    qtbot.keyClicks(exclude, "abstract, URL ,file")
    click(qtbot, editor.findChild(QCheckBox, "pageDashes"))
    click(qtbot, editor.findChild(QCheckBox, "profileFiles"))
    click(qtbot, ok_button(editor))
    profiles = prefs.findChild(QTreeWidget, "profileList")
    assert profiles.topLevelItem(0).text(0) == "thesis"
    assert window.library.profile_names() == ["biblatex", "bibtex"]  # nothing written yet
    click(qtbot, ok_button(prefs))
    assert window.library.profile("thesis") == ExportProfile(
        "thesis",
        "bibtex",
        ("abstract", "url", "file"),
        protect_capitals=True,
        page_dashes=False,
        files=True,
    )

    prefs = open_preferences(qtbot, window)
    profiles = prefs.findChild(QTreeWidget, "profileList")
    select_row(qtbot, profiles, "thesis")
    click(qtbot, prefs.findChild(QPushButton, "removeProfile"))
    assert profiles.topLevelItemCount() == 0
    click(qtbot, ok_button(prefs))
    assert "thesis" not in window.library.profile_names()


def test_cancel_in_preferences_changes_nothing(qtbot, window: MainWindow) -> None:
    prefs = open_preferences(qtbot, window)
    click(qtbot, prefs.findChild(QPushButton, "addProfile"))
    editor = sub_dialog(qtbot, prefs, ProfileDialog, "profileDialog")
    qtbot.keyClicks(editor.findChild(QLineEdit, "profileName"), "draft")
    click(qtbot, ok_button(editor))
    click(qtbot, prefs.buttons.button(QDialogButtonBox.StandardButton.Cancel))
    assert "draft" not in window.library.profile_names()


def test_auto_exports_are_added_and_removed_in_preferences(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    window.library.save_profile(ExportProfile("thesis", "bibtex"))
    dest = tmp_path / "thesis.bib"
    prefs = open_preferences(qtbot, window)
    click(qtbot, prefs.findChild(QPushButton, "addAutoExport"))
    adder = sub_dialog(qtbot, prefs, AutoExportDialog, "autoExportDialog")
    assert not ok_button(adder).isEnabled()  # no file yet
    qtbot.keyClicks(adder.findChild(QLineEdit, "autoExportPath"), str(dest))
    choose(adder.findChild(QComboBox, "autoExportProfile"), "thesis")
    click(qtbot, ok_button(adder))
    listing = prefs.findChild(QTreeWidget, "autoExportList")
    assert listing.topLevelItem(0).text(1) == "All papers"
    with qtbot.waitSignal(window.autoexporter.finished, timeout=10000):
        click(qtbot, ok_button(prefs))
    assert window.library.autoexports() == [
        {"path": str(dest.resolve()), "tag": None, "aux": None, "profile": "thesis"}
    ]
    assert len(exported_keys(dest)) == 25  # written at once

    prefs = open_preferences(qtbot, window)
    listing = prefs.findChild(QTreeWidget, "autoExportList")
    select_row(qtbot, listing, "/thesis.bib")
    click(qtbot, prefs.findChild(QPushButton, "removeAutoExport"))
    click(qtbot, ok_button(prefs))
    assert window.library.autoexports() == []


# -- keys ----------------------------------------------------------------------------------------


def test_regenerating_keys_asks_then_undo_restores_the_entry_exactly(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = window.library
    pid = lib.id_for_key(QYOLO)
    before = lib.entry_text(pid)
    lib.set_key_pattern("[auth][year]")
    assert window.select_key(QYOLO)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", answer_yes(asked))

    window.action(ActionId.REGENERATE_KEYS).trigger()

    assert asked and "1 citation key will change" in asked[0]
    assert "wang2023qyolo  →  Wang2023" in asked[0] and "aliases" in asked[0]
    assert lib.paper(pid).key == "Wang2023"
    assert lib.id_for_key(QYOLO) == pid  # the old key still finds the paper
    window.action(ActionId.UNDO).trigger()
    assert lib.paper(pid).key == QYOLO
    assert lib.entry_text(pid) == before
    assert lib.id_for_key("Wang2023") is None
    window.action(ActionId.REDO).trigger()
    assert lib.paper(pid).key == "Wang2023"


def test_regenerating_keys_that_already_follow_the_pattern_asks_nothing(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", answer_yes(asked))
    assert window.select_key(QYOLO)
    window.action(ActionId.REGENERATE_KEYS).trigger()
    assert asked == []
    assert "already follow" in window.statusBar().currentMessage()
    assert not window.action(ActionId.UNDO).isEnabled()


# -- duplicates ------------------------------------------------------------------------------------


@pytest.fixture
def with_duplicates(library_path: Path, tmp_path: Path) -> Path:
    """The seeded library with two duplicates imported, tags and notes on both sides."""
    bib = tmp_path / "dups.bib"
    bib.write_text(DUPLICATES_BIB, encoding="utf-8")
    with db.Library.open(library_path) as lib:
        lib.import_files([bib])
        seeded, copy = lib.id_for_key(QYOLO), lib.id_for_key("wang2023qyoloacpr")
        lib.add_tags([seeded], ["detection"])
        lib.add_tags([copy], ["quantization"])
        lib.add_note(seeded, "Read the PTQ section")
        lib.add_note(copy, "Published at ACPR")
    return library_path


def test_find_duplicates_merge_then_undo_restores_both_papers(
    qtbot, with_duplicates: Path, open_window
) -> None:
    window = open_window()
    lib = window.library
    seeded, copy = lib.id_for_key(QYOLO), lib.id_for_key("wang2023qyoloacpr")
    texts = {pid: lib.entry_text(pid) for pid in (seeded, copy)}
    window.action(ActionId.FIND_DUPLICATES).trigger()
    dialog = sub_dialog(qtbot, window, DuplicatesDialog, "duplicatesDialog")
    groups = dialog.groups()
    assert [g.ids for g in groups] == [
        [seeded, copy],
        [lib.id_for_key(SGD_BOUNDS), lib.id_for_key("wang2022sgdbounds")],
    ]
    group = groups[0]
    assert group.keep() == seeded  # the first added is chosen to keep
    click(qtbot, group.findChild(QPushButton, "mergeGroup"))

    qtbot.waitUntil(lambda: len(dialog.groups()) == 1)
    assert window.paper_model.rowCount() == 26
    merged = lib.paper(seeded)
    assert merged.tags == ["detection", "quantization"]
    assert sorted(n.body for n in merged.notes) == ["Published at ACPR", "Read the PTQ section"]
    assert lib.id_for_key("wang2023qyoloacpr") == seeded  # an alias now
    assert merged.doi == "10.1007/978-3-031-47665-5_25"  # the richer fields are kept

    window.action(ActionId.UNDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 27)
    qtbot.waitUntil(lambda: len(dialog.groups()) == 2)
    assert lib.paper(seeded).tags == ["detection"]
    assert lib.paper(copy).tags == ["quantization"]
    assert [n.body for n in lib.paper(copy).notes] == ["Published at ACPR"]
    assert [n.body for n in lib.paper(seeded).notes] == ["Read the PTQ section"]
    assert {pid: lib.entry_text(pid) for pid in (seeded, copy)} == texts
    window.action(ActionId.REDO).trigger()
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 26)
    assert lib.paper(seeded).tags == ["detection", "quantization"]


def test_the_paper_to_keep_can_be_changed_and_merge_all_is_one_undo_step(
    qtbot, with_duplicates: Path, open_window, monkeypatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", answer_yes(asked))  # Merge all asks first
    window = open_window()
    lib = window.library
    copy = lib.id_for_key("wang2023qyoloacpr")
    window.action(ActionId.FIND_DUPLICATES).trigger()
    dialog = sub_dialog(qtbot, window, DuplicatesDialog, "duplicatesDialog")
    first = dialog.groups()[0]
    radio = next(b for b in first.choice.buttons() if b.text() == "wang2023qyoloacpr")
    click(qtbot, radio)
    assert first.keep() == copy
    click(qtbot, dialog.findChild(QPushButton, "mergeAllDuplicates"))
    assert len(asked) == 1
    qtbot.waitUntil(lambda: not dialog.groups())
    assert lib.count(db.Query()) == 25
    assert lib.id_for_key(QYOLO) == copy
    assert "No duplicates" in dialog.findChild(QLabel, "duplicatesSummary").text()
    window.action(ActionId.UNDO).trigger()
    assert lib.count(db.Query()) == 27


# -- auto-export -----------------------------------------------------------------------------------


def test_adding_a_tag_in_the_window_updates_the_auto_export(
    qtbot, library_path: Path, open_window, tmp_path: Path
) -> None:
    refs = tmp_path / "refs.bib"
    with db.Library.open(library_path) as lib:
        lib.add_autoexport(refs, tag="thesis", profile="biblatex")
    window = open_window()
    assert window.select_key(QYOLO)
    editor = window.findChild(QLineEdit, "tagEditor")
    qtbot.keyClicks(editor, "thesis")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The edit is done; the export waits for a quiet moment and then runs elsewhere.
    assert window.library.paper_tags(window.library.id_for_key(QYOLO)) == ["thesis"]
    assert window.autoexporter.pending
    qtbot.waitUntil(
        lambda: refs.is_file() and QYOLO in refs.read_text(encoding="utf-8"), timeout=5000
    )
    assert exported_keys(refs) == [QYOLO]
    qtbot.waitUntil(lambda: "refs.bib updated" in window.statusBar().currentMessage())


def test_an_edit_that_does_not_change_the_export_leaves_the_file_alone(
    qtbot, library_path: Path, open_window, tmp_path: Path
) -> None:
    refs = tmp_path / "refs.bib"
    with db.Library.open(library_path) as lib:
        lib.add_autoexport(refs, profile="bibtex")
    window = open_window()
    qtbot.waitUntil(refs.is_file, timeout=5000)  # brought up to date on opening
    qtbot.waitUntil(lambda: not window.autoexporter.pending and not window.autoexporter.running)
    stamp = refs.stat().st_mtime_ns
    assert window.select_key(QYOLO)
    status = window.findChild(QComboBox, "statusSelector")
    with qtbot.waitSignal(window.autoexporter.finished, timeout=5000) as blocker:
        qtbot.keyClick(status, Qt.Key.Key_Down)  # reading status never goes into a .bib
    assert window.library.rows([window.library.id_for_key(QYOLO)]).popitem()[1].status == "reading"
    assert blocker.args[0] == [(str(refs.resolve()), "unchanged")]
    assert refs.stat().st_mtime_ns == stamp


def test_a_failing_auto_export_is_shown_until_it_works_again(
    qtbot, library_path: Path, open_window, tmp_path: Path
) -> None:
    blocker_file = tmp_path / "not-a-folder"
    blocker_file.write_text("", encoding="utf-8")
    with db.Library.open(library_path) as lib:
        lib.add_autoexport(blocker_file / "refs.bib")
    window = open_window()
    label = window.findChild(QLabel, "autoExportStatus")
    qtbot.waitUntil(label.isVisible, timeout=5000)
    assert "refs.bib" in label.text()
    assert "refs.bib" in window.statusBar().currentMessage()


def test_a_failed_undo_is_shown_in_the_status_bar(qtbot, window: MainWindow) -> None:
    window.events.failed.emit("Undo Edit title failed: the library is busy")
    assert "busy" in window.statusBar().currentMessage()
    box = window.findChild(QMessageBox, "failureMessage")
    assert box is not None and "busy" in box.text()
