"""Preferences (the key pattern, the backup count, labels), "Merge all" asking first, and
restoring a backup from the window.

Questions go through ``QMessageBox.question`` (see desktop/messages.py), which the tests
replace; dialogs opened with ``open()`` are found by object name and driven through their
widgets.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTreeWidget,
)

from citedesk import db
from citedesk.actions import ActionId
from citedesk.backups import RestoreBackupDialog
from citedesk.duplicates import DuplicatesDialog
from citedesk.mainwindow import MainWindow
from tests.desktop.helpers import open_dialog, open_preferences

QYOLO = "wang2023qyolo"
#: A proceedings copy of a seeded @misc paper (same title, year and first author).
COPY_BIB = """\
@inproceedings{wang2023qyoloacpr,
  author = {Wang, Mingze and Sun, Huixin and Shi, Jun and Liu, Xuhui},
  title = {{Q-YOLO}: Efficient Inference for Real-Time Object Detection},
  booktitle = {Asian Conference on Pattern Recognition (ACPR)},
  year = {2023},
  doi = {10.1007/978-3-031-47665-5_25}
}

@article{wang2022sgdbounds,
  author = {Wang, Mingze and Ma, Chao},
  title = {Generalization error bounds for deep neural networks trained by {SGD}},
  journal = {arXiv preprint arXiv:2206.03299},
  year = {2022}
}
"""


def answer(monkeypatch: pytest.MonkeyPatch, button: QMessageBox.StandardButton) -> list[str]:
    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def ok_button(dialog) -> QPushButton:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


# -- the key pattern -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("[auth][yr", "unclosed [ at position 7"),
        ("auth]", "unmatched ] at position 5"),
        ("[auth][[year]", "unclosed [ at position 7"),
    ],
)
def test_an_unbalanced_key_pattern_is_refused_live_with_its_reason(
    qtbot, window: MainWindow, typed: str, reason: str
) -> None:
    prefs = open_preferences(qtbot, window)
    field = prefs.findChild(QLineEdit, "keyPattern")
    field.clear()
    qtbot.keyClicks(field, typed)
    preview = prefs.findChild(QLabel, "keyPreview")
    assert reason in preview.text()
    assert preview.isVisible()
    assert not ok_button(prefs).isEnabled()
    # Fixed, it is accepted again at once.
    field.clear()
    qtbot.keyClicks(field, "[auth][year]")
    assert "position" not in preview.text()
    assert ok_button(prefs).isEnabled()


def test_the_library_refuses_an_unbalanced_pattern_too(window: MainWindow) -> None:
    with pytest.raises(db.KeyPatternError, match=r"unclosed \[ at position 7"):
        window.library.set_key_pattern("[auth][yr")


# -- backups and labels --------------------------------------------------------------------


def test_the_backup_count_is_a_small_spin_box(qtbot, window: MainWindow) -> None:
    prefs = open_preferences(qtbot, window)
    tabs = [prefs.tabs.tabText(i) for i in range(prefs.tabs.count())]
    prefs.tabs.setCurrentIndex(tabs.index("Backups"))
    spin = prefs.findChild(QSpinBox, "backupKeep")
    qtbot.waitUntil(spin.isVisible)
    # Room for three digits and its arrows, not a field as wide as the form.
    assert spin.width() <= spin.fontMetrics().horizontalAdvance("0" * 10) + 40
    assert spin.width() < prefs.width() // 4


def test_the_contact_address_sent_with_lookups_is_set_in_preferences(
    qtbot, window: MainWindow
) -> None:
    prefs = open_preferences(qtbot, window)
    tabs = [prefs.tabs.tabText(i) for i in range(prefs.tabs.count())]
    prefs.tabs.setCurrentIndex(tabs.index("Lookups"))
    contact = prefs.findChild(QLineEdit, "lookupContact")
    qtbot.waitUntil(contact.isVisible)
    assert contact.text() == ""
    qtbot.keyClicks(contact, "reader@example.org")
    prefs.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert window.library.setting(db.LOOKUP_CONTACT) == "reader@example.org"
    with window.library.lookup() as lk:
        assert "mailto:reader@example.org" in lk.http.user_agent


def test_preferences_labels_are_in_sentence_case(qtbot, window: MainWindow) -> None:
    prefs = open_preferences(qtbot, window)
    tabs = [prefs.tabs.tabText(i) for i in range(prefs.tabs.count())]
    assert tabs == [
        "Citation keys",
        "Export profiles",
        "Auto-export",
        "Backups",
        "Lookups",
        "Citing",
    ]
    labels = [
        form.labelForField(form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget())
        for form in prefs.findChildren(QFormLayout)
        for row in range(form.rowCount())
        if form.itemAt(row, QFormLayout.ItemRole.FieldRole) is not None
        and form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget() is not None
    ]
    texts = [label.text() for label in labels if isinstance(label, QLabel) and label.text()]
    texts += [
        form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text()
        for form in prefs.findChildren(QFormLayout)
        for row in range(form.rowCount())
        if form.itemAt(row, QFormLayout.ItemRole.LabelRole) is not None
    ]
    assert "Key pattern:" in texts and "Backups kept:" in texts
    for text in texts:
        words = text.rstrip(":").split()
        assert all(not w[:1].isupper() for w in words[1:]), text


# -- merge all -------------------------------------------------------------------------------


@pytest.fixture
def with_duplicates(library_path: Path, tmp_path: Path) -> Path:
    bib = tmp_path / "dups.bib"
    bib.write_text(COPY_BIB, encoding="utf-8")
    with db.Library.open(library_path) as lib:
        lib.import_files([bib])
    return library_path


def open_duplicates(qtbot, window: MainWindow) -> DuplicatesDialog:
    return open_dialog(
        qtbot, window, ActionId.FIND_DUPLICATES, DuplicatesDialog, "duplicatesDialog"
    )


def test_merge_all_asks_first_and_cancel_merges_nothing(
    qtbot, with_duplicates: Path, open_window, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window()
    dialog = open_duplicates(qtbot, window)
    asked = answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(dialog.findChild(QPushButton, "mergeAllDuplicates"), Qt.MouseButton.LeftButton)
    assert len(asked) == 1
    assert "4 papers in 2 groups" in asked[0] and "2 papers go" in asked[0]
    assert window.library.count(db.Query()) == 27
    assert len(dialog.groups()) == 2
    assert not window.action(ActionId.UNDO).isEnabled()


def test_merge_all_merges_when_confirmed_and_keeps_a_type_that_fits(
    qtbot, with_duplicates: Path, open_window, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window()
    dialog = open_duplicates(qtbot, window)
    answer(monkeypatch, QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(dialog.findChild(QPushButton, "mergeAllDuplicates"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.groups())
    lib = window.library
    assert lib.count(db.Query()) == 25
    merged = lib.paper(lib.id_for_key(QYOLO))
    assert merged.entry_type == "inproceedings"  # the @misc took its venue's type
    assert lib.entry_text(merged.id).startswith("@inproceedings{wang2023qyolo,")


# -- restoring a backup ----------------------------------------------------------------------


@pytest.fixture
def backed_up(library_path: Path) -> Path:
    """A library backed up, then changed: paper QYOLO got a tag after the backup."""
    with db.Library.open(library_path) as lib:
        made = db.backup_library(lib)
        lib.add_tags([lib.id_for_key(QYOLO)], ["after-backup"])
    return made


def open_restore(qtbot, window: MainWindow) -> RestoreBackupDialog:
    return open_dialog(
        qtbot, window, ActionId.RESTORE_BACKUP, RestoreBackupDialog, "restoreBackupDialog"
    )


def test_file_menu_offers_to_restore_a_backup(window: MainWindow) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    assert window.action(ActionId.RESTORE_BACKUP) in file_menu.actions()


def test_restoring_a_backup_from_the_window_reloads_the_library(
    qtbot, backed_up: Path, library_path: Path, open_window, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window()
    lib = window.library
    pid = lib.id_for_key(QYOLO)
    assert lib.paper_tags(pid) == ["after-backup"]
    dialog = open_restore(qtbot, window)
    listing = dialog.findChild(QTreeWidget, "backupList")
    assert listing.topLevelItemCount() == 1
    item = listing.topLevelItem(0)
    stamp = backed_up.stem.rsplit("-", 2)[-2:]
    assert item.text(0) == (
        f"{stamp[0][:4]}-{stamp[0][4:6]}-{stamp[0][6:]} {stamp[1][:2]}:{stamp[1][2:4]}"
    )
    assert item.text(2) == "25" and item.text(3) == backed_up.name
    asked = answer(monkeypatch, QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.events.reloaded):
        qtbot.mouseClick(
            dialog.findChild(QPushButton, "restoreChosenBackup"), Qt.MouseButton.LeftButton
        )
    assert asked and "25 papers" in asked[0]
    assert lib.paper_tags(pid) == []  # the window's library is the backup now
    assert "after-backup" not in [t.name for t in lib.tags()]
    assert not window.action(ActionId.UNDO).isEnabled()
    replaced = list(library_path.parent.glob(f"{library_path.name}.replaced-*"))
    assert len(replaced) == 1
    box = window.findChild(QMessageBox, "backupRestored")
    assert box is not None and replaced[0].name in box.informativeText()


def test_cancelling_the_question_restores_nothing(
    qtbot, backed_up: Path, library_path: Path, open_window, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window()
    dialog = open_restore(qtbot, window)
    answer(monkeypatch, QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(
        dialog.findChild(QPushButton, "restoreChosenBackup"), Qt.MouseButton.LeftButton
    )
    assert window.library.paper_tags(window.library.id_for_key(QYOLO)) == ["after-backup"]
    assert not list(library_path.parent.glob(f"{library_path.name}.replaced-*"))


def test_with_no_backups_the_dialog_says_so(qtbot, window: MainWindow) -> None:
    dialog = open_restore(qtbot, window)
    assert dialog.findChild(QTreeWidget, "backupList").topLevelItemCount() == 0
    assert dialog.findChild(QLabel, "noBackups").isVisible()
    assert not dialog.findChild(QPushButton, "restoreChosenBackup").isEnabled()


def test_restoring_a_backup_with_files_brings_the_files_back(
    qtbot, tmp_path: Path, library_path: Path, open_window, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4 the paper itself")
    with db.Library.open(library_path) as lib:
        lib.attach(lib.require_key(QYOLO), [pdf])
        stored = lib.attachments_of(lib.require_key(QYOLO))[0].path
        db.backup_library(lib, with_files=True)
    stored.unlink()  # lost since the backup
    window = open_window()
    dialog = open_restore(qtbot, window)
    answer(monkeypatch, QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.events.reloaded):
        qtbot.mouseClick(
            dialog.findChild(QPushButton, "restoreChosenBackup"), Qt.MouseButton.LeftButton
        )
    assert stored.read_bytes() == pdf.read_bytes()
    box = window.findChild(QMessageBox, "backupRestored")
    assert box is not None and "1 stored file restored" in box.informativeText()
