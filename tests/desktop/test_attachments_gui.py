"""A paper's files in the window: the Files list of the detail pane, its actions, files
dropped on rows and on the pane, new papers from PDFs, and opening a paper's main file.

Real windows over real library files in ``tmp_path``; real files attached; drops are real
``QDropEvent``s sent to the viewport; ``QDesktopServices.openUrl`` is replaced so that
nothing is launched, and ``QFileDialog`` as the import tests do.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
)
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMenu, QWidget

from citedesk import db
from citedesk.actions import MENUS, ActionId
from citedesk.attachments import DETAIL_ROLE, MISSING_ROLE, AttachmentList
from citedesk.mainwindow import MainWindow
from citedesk.models import Column

from .helpers import click

KEY = "wang2023theoreticalanalysisnoise"
OTHER = "wu2022alignmentpropertysgd"
PDF = "arxiv-1111.2011v2.pdf"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[QUrl]:
    """Every URL handed to the desktop to open (nothing is launched)."""
    urls: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url) or True)
    return urls


def choose_files(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        lambda *a, **k: ([str(p) for p in paths], "PDF files (*.pdf)"),
    )


def write(path: Path, text: str = "some notes\n") -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def files_of(window: MainWindow) -> AttachmentList:
    return window.detail.info.files


def names(window: MainWindow) -> list[str]:
    tree = files_of(window).tree
    return [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]


def stored_files(library: db.Library) -> list[str]:
    """The files in the library's files folder (not its trash)."""
    folder = library.files_dir
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def undo(window: MainWindow) -> None:
    window.action(ActionId.UNDO).trigger()


def redo(window: MainWindow) -> None:
    window.action(ActionId.REDO).trigger()


def drop(target: QWidget, paths: list[Path], pos: QPoint) -> bool:
    """Drag files from a file manager onto ``target`` at ``pos`` and let go: True if the
    drop was taken."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(QPointF(pos), *args)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    move = QDragMoveEvent(QPointF(pos), *args)
    move.accept()  # as Qt sends it after an accepted enter: a widget may still refuse
    QApplication.sendEvent(target, move)
    if not move.isAccepted():
        QApplication.sendEvent(target, QDragLeaveEvent())  # the drag moves on
        return False
    dropped = QDropEvent(QPointF(pos), *args)
    QApplication.sendEvent(target, dropped)
    return dropped.isAccepted()


def row_point(window: MainWindow, key: str) -> QPoint:
    pid = window.library.require_key(key)
    row = window.paper_model.row_of(pid)
    assert row is not None
    return window.table.visualRect(window.paper_model.index(row, Column.TITLE)).center()


def below_rows(window: MainWindow) -> QPoint:
    viewport = window.table.viewport()
    point = QPoint(20, viewport.height() - 4)
    assert not window.table.indexAt(point).isValid(), "the table has no empty area"
    return point


@pytest.fixture
def three_files(window: MainWindow, tmp_path: Path, pdfs: Path) -> list[Path]:
    """The KEY paper with a stored PDF (its main file), a linked text file and a linked
    file since deleted; the paper shown."""
    outside = tmp_path / "outside"
    outside.mkdir()
    notes = write(outside / "reading-notes.txt")
    gone = write(outside / "experiments.zip", "PK")
    lib = window.library
    pid = lib.require_key(KEY)
    for paths, store in (([pdfs / PDF], True), ([notes, gone], False)):
        window.events.changed.emit(lib.attach(pid, paths, store=store))
    gone.unlink()
    window.select_key(OTHER)
    assert window.select_key(KEY)
    return [pdfs / PDF, notes, gone]


# -- the list ------------------------------------------------------------------------------------


def test_the_files_list_shows_each_file_its_size_role_and_where_it_is_kept(
    window: MainWindow, three_files: list[Path]
) -> None:
    tree = files_of(window).tree
    assert tree.isVisible()
    assert names(window) == [f"{KEY}.pdf", "reading-notes.txt", "experiments.zip"]
    details = [tree.topLevelItem(i).data(0, DETAIL_ROLE) for i in range(3)]
    assert details[0].endswith("KB · main file · stored")
    assert details[1] == "11 B · linked"
    assert details[2] == "missing · linked"
    assert tree.topLevelItem(0).font(0).bold()  # the main file stands out


def test_a_missing_file_is_marked_and_its_tooltip_says_where_it_was_looked_for(
    window: MainWindow, three_files: list[Path]
) -> None:
    item = files_of(window).tree.topLevelItem(2)
    assert item.data(0, MISSING_ROLE) is True
    assert str(three_files[2]) in item.toolTip(0)
    assert item.toolTip(0).startswith("Missing")
    assert not item.icon(0).isNull()
    files_of(window).select_file("experiments.zip")
    assert not files_of(window).open_button.isEnabled()  # nothing there to open


def test_a_paper_without_files_says_how_to_add_some(window: MainWindow) -> None:
    assert window.select_key(KEY)
    files = files_of(window)
    assert not files.tree.isVisible()
    assert files.findChild(QWidget, "noFilesLabel").isVisible()


# -- actions on a file ---------------------------------------------------------------------------


def test_open_enter_and_double_click_hand_the_file_to_the_desktop(
    qtbot, window: MainWindow, three_files: list[Path], opened: list[QUrl]
) -> None:
    files = files_of(window)
    stored = window.library.files_dir / f"{KEY}.pdf"
    click(qtbot, files.open_button)
    assert opened == [QUrl.fromLocalFile(str(stored))]

    files.select_file("reading-notes.txt")
    files.tree.setFocus()
    qtbot.keyClick(files.tree, Qt.Key.Key_Return)
    assert opened[-1] == QUrl.fromLocalFile(str(three_files[1]))

    rect = files.tree.visualItemRect(files.tree.topLevelItem(0))
    qtbot.mouseClick(files.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(files.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened[-1] == QUrl.fromLocalFile(str(stored))
    assert all(u.isLocalFile() for u in opened)


def test_opening_a_file_records_when_its_paper_was_opened(
    qtbot, window: MainWindow, three_files: list[Path], opened: list[QUrl]
) -> None:
    pid = window.library.require_key(KEY)
    assert window.library.rows([pid])[pid].opened is None
    steps = window.undo_stack.count()
    click(qtbot, files_of(window).open_button)
    assert opened
    assert window.library.rows([pid])[pid].opened is not None  # the reading queue shows it
    assert window.undo_stack.count() == steps  # not an edit: nothing to undo


def test_show_in_folder_opens_the_folder_the_file_is_in(
    window: MainWindow, three_files: list[Path], opened: list[QUrl]
) -> None:
    files = files_of(window)
    rect = files.tree.visualItemRect(files.tree.topLevelItem(1))
    files.tree.customContextMenuRequested.emit(rect.center())
    menu = files.findChild(QMenu, "fileContextMenu")
    assert menu is not None and menu.isVisible()
    action = next(a for a in menu.actions() if a.objectName() == "showInFolderAction")
    action.trigger()
    menu.close()
    assert opened == [QUrl.fromLocalFile(str(three_files[1].parent))]


def test_attach_file_stores_a_copy_and_undo_redo_take_it_away_and_back(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.select_key(KEY)
    source = write(tmp_path / "supplement.txt")
    choose_files(monkeypatch, source)
    click(qtbot, files_of(window).attach_button)

    stored = f"{KEY}.txt"
    assert names(window) == [stored]
    assert stored_files(window.library) == [stored]
    assert source.exists()  # a copy was stored; the original stays
    assert window.undo_stack.undoText() == "Attach supplement.txt"

    undo(window)
    assert names(window) == []
    assert stored_files(window.library) == []
    redo(window)
    assert names(window) == [stored]
    assert (window.library.files_dir / stored).read_text(encoding="utf-8") == "some notes\n"


def test_the_delete_key_detaches_a_file_not_the_paper_and_undo_brings_the_file_back(
    qtbot, window: MainWindow, three_files: list[Path]
) -> None:
    files = files_of(window)
    papers = window.library.count(db.Query())
    stored = window.library.files_dir / f"{KEY}.pdf"
    content = stored.read_bytes()
    files.tree.setFocus()
    files.select_file(stored.name)
    qtbot.keyClick(files.tree, Qt.Key.Key_Delete)

    assert names(window) == ["reading-notes.txt", "experiments.zip"]
    assert not stored.exists()
    assert window.library.count(db.Query()) == papers  # Delete Papers did not run
    assert window.undo_stack.undoText() == f"Detach {stored.name}"

    undo(window)
    assert names(window) == [stored.name, "reading-notes.txt", "experiments.zip"]
    assert stored.read_bytes() == content
    redo(window)
    assert not stored.exists()


def test_f2_renames_a_stored_file_on_disk_and_undo_gives_back_its_name(
    qtbot, window: MainWindow, three_files: list[Path]
) -> None:
    files = files_of(window)
    folder = window.library.files_dir
    files.tree.setFocus()
    files.select_file(f"{KEY}.pdf")
    qtbot.keyClick(files.tree, Qt.Key.Key_F2)
    dialog = files.findChild(QInputDialog, "renameFileDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.textValue() == f"{KEY}.pdf"
    dialog.setTextValue("noise-geometry.pdf")
    dialog.accept()

    assert names(window)[0] == "noise-geometry.pdf"
    assert stored_files(window.library) == ["noise-geometry.pdf"]
    undo(window)
    assert names(window)[0] == f"{KEY}.pdf"
    assert (folder / f"{KEY}.pdf").is_file() and not (folder / "noise-geometry.pdf").exists()
    redo(window)
    assert stored_files(window.library) == ["noise-geometry.pdf"]


def test_a_linked_file_cannot_be_renamed(window: MainWindow, three_files: list[Path]) -> None:
    files = files_of(window)
    rect = files.tree.visualItemRect(files.tree.topLevelItem(1))
    files.tree.customContextMenuRequested.emit(rect.center())
    menu = files.findChild(QMenu, "fileContextMenu")
    rename = next(a for a in menu.actions() if a.objectName() == "renameFileAction")
    assert not rename.isEnabled()
    menu.close()


def test_make_main_file_from_the_context_menu_is_one_undo_step(
    window: MainWindow, three_files: list[Path]
) -> None:
    files = files_of(window)
    rect = files.tree.visualItemRect(files.tree.topLevelItem(1))
    files.tree.customContextMenuRequested.emit(rect.center())
    menu = files.findChild(QMenu, "fileContextMenu")
    make_main = next(a for a in menu.actions() if a.objectName() == "makeMainFileAction")
    make_main.trigger()
    menu.close()

    def roles() -> dict[str, str]:
        return {
            a.name: a.role for a in window.library.attachments_of(window.library.require_key(KEY))
        }

    assert names(window)[0] == "reading-notes.txt"
    assert roles()["reading-notes.txt"] == "main"
    assert roles()[f"{KEY}.pdf"] == "supplement"
    undo(window)
    assert roles()[f"{KEY}.pdf"] == "main"
    assert names(window)[0] == f"{KEY}.pdf"


# -- dropping files --------------------------------------------------------------------------------


def test_files_dropped_on_a_row_are_stored_with_that_paper_in_one_undo_step(
    window: MainWindow, tmp_path: Path
) -> None:
    assert window.select_key(KEY)
    a, b = write(tmp_path / "a.txt", "a"), write(tmp_path / "b.txt", "b")
    steps = window.undo_stack.count()
    assert drop(window.table.viewport(), [a, b], row_point(window, OTHER))

    other = window.library.require_key(OTHER)
    assert [f.name for f in window.library.attachments_of(other)] == [
        f"{OTHER}.txt",
        f"{OTHER}-2.txt",
    ]
    assert window.library.attachments_of(window.library.require_key(KEY)) == []
    assert window.undo_stack.count() == steps + 1
    assert stored_files(window.library) == [f"{OTHER}-2.txt", f"{OTHER}.txt"]
    undo(window)
    assert window.library.attachments_of(other) == []
    assert stored_files(window.library) == []


def test_files_dropped_on_the_detail_pane_are_attached_to_its_paper(
    window: MainWindow, tmp_path: Path
) -> None:
    assert window.select_key(KEY)
    note = write(tmp_path / "slides.txt")
    pane = window.detail
    assert drop(pane, [note], QPoint(pane.width() // 2, pane.height() // 2))
    assert names(window) == [f"{KEY}.txt"]
    undo(window)
    assert names(window) == []


def test_a_bib_file_dropped_on_a_row_is_imported_not_attached(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    bib = write(tmp_path / "more.bib", "@misc{more2024, title={More}}\n")
    with qtbot.waitSignal(window.importer.finished, timeout=20000):
        assert drop(window.table.viewport(), [bib], row_point(window, KEY))
    assert window.library.id_for_key("more2024") is not None
    assert window.library.attachments_of(window.library.require_key(KEY)) == []


def test_a_text_file_dropped_below_the_rows_is_not_taken(
    window: MainWindow, tmp_path: Path
) -> None:
    papers = window.library.count(db.Query())
    assert not drop(window.table.viewport(), [write(tmp_path / "x.txt")], below_rows(window))
    assert window.library.count(db.Query()) == papers


# -- opening a paper -----------------------------------------------------------------------------


def test_double_clicking_a_paper_opens_its_main_pdf(
    qtbot, window: MainWindow, three_files: list[Path], opened: list[QUrl]
) -> None:
    point = row_point(window, KEY)
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseDClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert opened == [QUrl.fromLocalFile(str(window.library.files_dir / f"{KEY}.pdf"))]
    pid = window.library.require_key(KEY)
    assert window.library.rows([pid])[pid].opened is not None  # for the reading queue


def test_double_clicking_a_paper_without_files_still_opens_its_link(
    qtbot, window: MainWindow, opened: list[QUrl]
) -> None:
    pid = window.library.require_key(KEY)
    window.events.changed.emit(
        window.library.update_fields(pid, {"url": "https://example.org/paper"})
    )
    point = row_point(window, KEY)
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.mouseDClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert [u.toString() for u in opened] == ["https://example.org/paper"]


# -- new papers from PDFs --------------------------------------------------------------------------


def test_add_pdf_is_in_the_file_menu() -> None:
    assert ActionId.ADD_PDF in MENUS["&File"]


def test_pdfs_dropped_below_the_rows_become_papers_each_an_undo_step(
    qtbot, window: MainWindow, pdfs: Path
) -> None:
    papers = window.library.count(db.Query())
    files = [pdfs / PDF, pdfs / "crazyones-pdfa.pdf"]
    with qtbot.waitSignal(window.pdf_adder.finished, timeout=20000) as finished:
        assert drop(window.table.viewport(), files, below_rows(window))
    report = finished.args[0]
    assert len(report.added) == 2 and not report.failed
    assert window.library.count(db.Query()) == papers + 2
    assert sorted(window.table.selected_ids()) == sorted(report.added)
    titles = {window.library.paper(pid).title for pid in report.added}
    assert "The Crazy Ones" in titles
    for pid in report.added:
        assert window.library.main_file(pid) is not None
    undo(window)
    assert window.library.count(db.Query()) == papers + 1


def test_a_pdf_the_library_has_already_selects_its_paper(
    qtbot, window: MainWindow, three_files: list[Path], pdfs: Path
) -> None:
    window.select_key(OTHER)
    papers = window.library.count(db.Query())
    with qtbot.waitSignal(window.pdf_adder.finished, timeout=20000):
        assert drop(window.table.viewport(), [pdfs / PDF], below_rows(window))
    assert window.library.count(db.Query()) == papers
    assert window.table.current_paper == window.library.require_key(KEY)


def test_file_add_pdf_makes_papers_of_the_chosen_pdfs(
    qtbot, window: MainWindow, pdfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    choose_files(monkeypatch, pdfs / "crazyones-pdfa.pdf", pdfs / "libreoffice-writer-password.pdf")
    with qtbot.waitSignal(window.pdf_adder.finished, timeout=20000) as finished:
        window.action(ActionId.ADD_PDF).trigger()
    report = finished.args[0]
    assert len(report.added) == 1
    assert [name for name, _ in report.failed] == ["libreoffice-writer-password.pdf"]
    assert "could not read" in window.status_bar.currentMessage()
