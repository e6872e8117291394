"""Papers by their identifiers in the window (issue 15): File ▸ Add by Identifier (Ctrl+L),
pasting identifiers, and Paper ▸ Refresh from Sources (Ctrl+Shift+R).

Real windows over real library files; the lookups go to ``lookup_env``'s loopback server,
which replays answers recorded from doi.org, Crossref and arXiv (tests/lookupserver.py).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QComboBox, QToolButton, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from citedesk import db
from citedesk.lookupdialog import AddByIdentifierDialog, Column
from citedesk.mainwindow import MainWindow
from citedesk.refreshdialog import Column as DiffColumn
from citedesk.refreshdialog import RefreshDialog

from .helpers import click

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
WATER = "10.1126/science.169.3946.635"
WATER_KEY = "frank1970structureordinarywater"
UNKNOWN_DOI = "10.1000/nonexist123"
KEY = "wang2023theoreticalanalysisnoise"
ARXIV = "2310.00692"
#: Lookups here take tens of milliseconds; a slow machine gets this long.
WAIT_MS = 10_000


def activate(qtbot: QtBot, window: MainWindow) -> None:
    """Make the window the active one, as a person's click would (shortcuts need it)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def open_lookup(qtbot: QtBot, window: MainWindow) -> AddByIdentifierDialog:
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_L, CTRL)
    dialog = window.findChild(AddByIdentifierDialog, "addByIdentifierDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def look_up(qtbot: QtBot, dialog: AddByIdentifierDialog, text: str) -> list[QTreeWidgetItem]:
    """Type the text (paste it, if it has several lines), press Enter, wait for the
    results; the result rows."""
    if "\n" in text:
        QGuiApplication.clipboard().setText(text)
        qtbot.keyClick(dialog.text_box, Qt.Key.Key_V, CTRL)
    else:
        qtbot.keyClicks(dialog.text_box, text)
    qtbot.keyClick(dialog.text_box, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: not dialog.running and dialog.results.topLevelItemCount() > 0, timeout=WAIT_MS
    )
    return rows(dialog)


def rows(dialog: AddByIdentifierDialog) -> list[QTreeWidgetItem]:
    return [dialog.results.topLevelItem(i) for i in range(dialog.results.topLevelItemCount())]


def checked(item: QTreeWidgetItem) -> bool:
    return item.checkState(Column.TITLE) == Qt.CheckState.Checked


def add_water_paper(path: Path) -> int:
    """The library gets the DOI's paper under a key of its own (before the window opens)."""
    with db.Library.open(path) as lib:
        lib.import_text(
            "@article{water1970, title = {The Structure of Ordinary Water}, author = {Frank, "
            f"Henry S.}}, year = {{1970}}, doi = {{{WATER}}}}}"
        )
        pid = lib.id_for_key("water1970")
    assert pid is not None
    return pid


# -- Add by Identifier ------------------------------------------------------------------------


def test_ctrl_l_opens_add_by_identifier_with_the_text_box_ready(
    qtbot: QtBot, window: MainWindow
) -> None:
    dialog = open_lookup(qtbot, window)

    qtbot.keyClicks(dialog.text_box, f"doi:{WATER} and arXiv:1605.08386, arXiv:astro-ph/0601001")

    qtbot.waitUntil(lambda: dialog.found_label.text() == "3 identifiers found: 1 DOI, 2 arXiv ids")


def test_a_doi_and_enter_show_the_entry_with_its_key(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    dialog = open_lookup(qtbot, window)

    [row] = look_up(qtbot, dialog, WATER)

    assert row.text(Column.TITLE) == "The Structure of Ordinary Water"
    assert row.text(Column.BYLINE) == "Frank 1970"
    assert row.text(Column.KEY) == WATER_KEY
    assert checked(row)
    assert dialog.preview.toPlainText().startswith(f"@article{{{WATER_KEY},")
    assert f"doi       = {{{WATER}}}" in dialog.preview.toPlainText()
    assert dialog.add_button.text() == "Add 1 Paper"


def test_add_adds_the_paper_selected_and_one_undo_takes_it_back(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    before = window.library.count()
    dialog = open_lookup(qtbot, window)
    look_up(qtbot, dialog, WATER)

    click(qtbot, dialog.add_button)

    pid = window.library.id_for_key(WATER_KEY)
    assert pid is not None
    assert window.library.count() == before + 1
    assert window.selected_ids() == [pid]
    assert window.library.paper(pid).doi == WATER
    assert not dialog.isVisible()
    assert window.undo_stack.count() == 1
    qtbot.waitUntil(window.table.hasFocus)  # back in the window, on the new paper

    qtbot.keyClick(window.table, Qt.Key.Key_Z, CTRL)

    assert window.library.id_for_key(WATER_KEY) is None
    assert window.library.count() == before


def test_a_text_with_three_identifiers_gives_three_rows(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    dialog = open_lookup(qtbot, window)

    found = look_up(
        qtbot,
        dialog,
        f"[1] H. Frank, Science (1970), https://doi.org/{WATER}.\n"
        "[2] C. Stanley, T. Windisch, arXiv:1605.08386.\n"
        "[3] A. Gould et al., arXiv:astro-ph/0601001",
    )

    assert [r.text(Column.SOURCE) for r in found] == ["doi.org", "arXiv", "arXiv"]
    assert [r.text(Column.BYLINE) for r in found] == [
        "Frank 1970",
        "Stanley and Windisch 2016",
        "Gould et al. 2006",
    ]
    assert all(checked(r) for r in found)
    assert dialog.add_button.text() == "Add 3 Papers"


def test_a_paper_the_library_has_is_unchecked_and_open_existing_selects_it(
    qtbot: QtBot, open_window, library_path: Path, lookup_env
) -> None:
    existing = add_water_paper(library_path)
    window = open_window()
    window.table.clearSelection()
    dialog = open_lookup(qtbot, window)

    [row] = look_up(qtbot, dialog, WATER)

    assert not checked(row)
    assert not dialog.add_button.isEnabled()
    cell = dialog.note_cell(row)
    assert (
        "Already in the library as water1970 (same DOI)"
        in cell.findChild(type(dialog.status), "sameNote").text()
    )
    click(qtbot, cell.findChild(QToolButton, "openExisting"))

    assert window.selected_ids() == [existing]
    assert not dialog.isVisible()


def test_an_identifier_not_found_says_why_and_adds_nothing(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    before = window.library.count()
    dialog = open_lookup(qtbot, window)

    [row] = look_up(qtbot, dialog, UNKNOWN_DOI)

    assert row.text(Column.TITLE).startswith(f"DOI {UNKNOWN_DOI}: doi.org: DOI {UNKNOWN_DOI} is")
    assert "not registered" in row.text(Column.TITLE)
    assert not row.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert not dialog.add_button.isEnabled()
    click(qtbot, dialog.add_button)
    assert window.library.count() == before
    assert window.undo_stack.count() == 0


def test_a_published_preprint_is_added_as_its_journal_version_unless_the_preprint_is_chosen(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    lookup_env.add_arxiv_entry(
        ARXIV, "The Structure of Ordinary Water", ["Henry S. Frank"], "1970-01-05",
        "Water.", doi=WATER,
    )  # fmt: skip
    dialog = open_lookup(qtbot, window)
    [row] = look_up(qtbot, dialog, f"arXiv:{ARXIV}")
    choice = dialog.note_cell(row).findChild(QComboBox, "versionChoice")

    assert choice.currentText().startswith("Published version (Science, 10.1126/")
    assert dialog.preview.toPlainText().startswith("@article{")
    assert re.search(rf"eprint *= {{{ARXIV}(v1)?}}", dialog.preview.toPlainText())

    choice.setCurrentIndex(1)

    assert choice.currentText().startswith(f"Preprint (arXiv {ARXIV}")
    assert dialog.preview.toPlainText().startswith("@misc{")
    assert row.text(Column.SOURCE) == "arXiv"


def test_a_hundred_identifiers_give_a_hundred_rows(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    ids = [f"2401.{n:05d}" for n in range(1, 101)]
    for n, arxiv_id in enumerate(ids):
        lookup_env.add_arxiv_entry(
            arxiv_id, f"Paper number {n}", ["Ada Lovelace"], "2024-01-02", ""
        )
    dialog = open_lookup(qtbot, window)
    dialog.set_text("\n".join(ids))

    assert dialog.found_label.text() == "100 identifiers found: 100 arXiv ids"
    click(qtbot, dialog.look_up_button)
    qtbot.waitUntil(lambda: dialog.results.topLevelItemCount() == 100, timeout=WAIT_MS)

    keys = {r.text(Column.KEY) for r in rows(dialog)}
    assert len(keys) == 100  # unique among themselves too
    assert dialog.add_button.text() == "Add 100 Papers"


def test_cancel_stops_a_slow_lookup_and_the_window_keeps_responding(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    lookup_env.delay = 2.0
    before = window.library.count()
    dialog = open_lookup(qtbot, window)
    beats: list[float] = []
    heartbeat = QTimer(dialog)
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))

    qtbot.keyClicks(dialog.text_box, f"{WATER} arXiv:1605.08386")
    qtbot.keyClick(dialog.text_box, Qt.Key.Key_Return)
    heartbeat.start()
    assert dialog.progress.isVisible() and dialog.cancel_button.isVisible()
    qtbot.waitUntil(lambda: len(beats) >= 40)  # 0.4 s into a lookup that takes 2 s
    click(qtbot, dialog.cancel_button)
    heartbeat.stop()

    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    assert max(gaps) <= 0.1
    assert not dialog.running and not dialog.progress.isVisible()
    assert "cancelled" in dialog.status.text()
    assert dialog.look_up_button.isEnabled()
    qtbot.waitUntil(lambda: not window.lookups.running, timeout=WAIT_MS)
    assert dialog.results.topLevelItemCount() == 0
    assert window.library.count() == before


def test_pasting_a_doi_opens_add_by_identifier_and_looks_it_up(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    QGuiApplication.clipboard().setText(f"https://doi.org/{WATER}")

    qtbot.keyClick(window.table, Qt.Key.Key_V, CTRL | SHIFT)

    dialog = window.findChild(AddByIdentifierDialog, "addByIdentifierDialog")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.results.topLevelItemCount() == 1, timeout=WAIT_MS)
    assert rows(dialog)[0].text(Column.KEY) == WATER_KEY


def test_dropping_a_text_with_identifiers_looks_them_up(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    mime = QMimeData()
    mime.setText(f"As shown in doi:{WATER}, water is odd.")
    at = window.rect().center()
    enter = QDragEnterEvent(
        QPointF(at),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier(0),
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()

    drop = QDropEvent(
        QPointF(at), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier(0),
    )  # fmt: skip
    QApplication.sendEvent(window, drop)

    dialog = window.findChild(AddByIdentifierDialog, "addByIdentifierDialog")
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.results.topLevelItemCount() == 1, timeout=WAIT_MS)
    assert rows(dialog)[0].text(Column.KEY) == WATER_KEY


# -- Refresh from Sources ---------------------------------------------------------------------


@pytest.fixture
def with_arxiv_id(library_path: Path) -> Path:
    """The library, its paper KEY given the arXiv id the server knows it by."""
    with db.Library.open(library_path) as lib:
        lib.update_fields(lib.require_key(KEY), {"eprint": ARXIV})
    return library_path


def open_refresh(qtbot: QtBot, window: MainWindow, key: str = KEY) -> RefreshDialog:
    assert window.select_key(key)
    activate(qtbot, window)
    qtbot.keyClick(window.table, Qt.Key.Key_R, CTRL | SHIFT)
    dialog = window.findChild(RefreshDialog, "refreshDialog")
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    return dialog


def diff_rows(dialog: RefreshDialog) -> dict[str, QTreeWidgetItem]:
    items = [dialog.diff.topLevelItem(i) for i in range(dialog.diff.topLevelItemCount())]
    return {d.name: item for d, item in zip(dialog.diffs, items, strict=True)}


def test_refresh_applies_the_checked_fields_as_one_undo_step_and_keeps_the_key(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    pid = window.library.require_key(KEY)
    before = window.library.paper(pid)
    lookup_env.add_arxiv_entry(
        ARXIV, before.title, ["Mingze Wang", "Lei Wu"], "2024-02-03", "A new abstract.",
        primary_category="cs.LG",
    )  # fmt: skip
    dialog = open_refresh(qtbot, window)

    shown = diff_rows(dialog)
    assert {"year", "url", "abstract"} <= set(shown)
    assert shown["url"].text(DiffColumn.FIELD) == "url (added)"
    assert shown["url"].text(DiffColumn.CURRENT) == "(none)"
    assert shown["year"].text(DiffColumn.CURRENT) == "2023"
    assert shown["year"].text(DiffColumn.NEW) == "2024"
    assert dialog.status.text().startswith("From arXiv · Match by title and author: score 1.00.")

    shown["abstract"].setCheckState(DiffColumn.FIELD, Qt.CheckState.Unchecked)
    click(qtbot, dialog.apply_button)

    after = window.library.paper(pid)
    assert after.key == KEY
    assert after.text("abstract") == before.text("abstract")
    assert after.text("url").startswith(f"https://arxiv.org/abs/{ARXIV}")
    assert str(after.year) == "2024"
    assert not dialog.isVisible()
    assert window.selected_ids() == [pid]

    activate(qtbot, window)
    qtbot.keyClick(window.table, Qt.Key.Key_Z, CTRL)

    restored = window.library.paper(pid)
    assert restored.fields == before.fields
    assert restored.key == KEY


def test_refresh_without_a_good_match_says_so_and_offers_the_candidates(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    dialog = open_refresh(qtbot, window)

    assert dialog.status.text().startswith("No good match: the best candidate scores 0.")
    assert dialog.diff.topLevelItemCount() == 0
    assert not dialog.apply_button.isEnabled()
    assert dialog.candidates.isVisible()

    dialog.candidates.setCurrentIndex(1)  # the best candidate, chosen anyway

    assert dialog.diff.topLevelItemCount() > 0
    assert "score 0." in dialog.status.text()
    assert dialog.apply_button.isEnabled()


def test_refresh_of_several_papers_steps_through_them(
    qtbot: QtBot, window: MainWindow, lookup_env
) -> None:
    window.table.selectAll()
    n = len(window.selected_ids())
    qtbot.keyClick(window.table, Qt.Key.Key_R, CTRL | SHIFT)
    dialog = window.findChild(RefreshDialog, "refreshDialog")
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)

    assert dialog.step.text().startswith(f"Paper 1 of {n}: ")
    click(qtbot, dialog.skip_button)
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)

    assert dialog.step.text().startswith(f"Paper 2 of {n}: ")
    assert window.undo_stack.count() == 0


def test_refresh_of_a_paper_with_an_arxiv_id_looks_it_up_by_that_id(
    qtbot: QtBot, with_arxiv_id: Path, open_window, lookup_env
) -> None:
    window = open_window()
    lookup_env.add_arxiv_entry(
        ARXIV, "A quite different title", ["Mingze Wang"], "2023-10-01", "An abstract."
    )

    dialog = open_refresh(qtbot, window)

    assert dialog.status.text().startswith("From arXiv. ")
    assert diff_rows(dialog)["title"].text(DiffColumn.NEW) == "A quite different title"
    assert not dialog.candidates.isVisible()


# -- a paper made from a PDF is completed from its source ------------------------------------


def test_a_paper_from_a_pdf_with_an_arxiv_id_is_completed_from_arxiv(
    qtbot: QtBot, window: MainWindow, lookup_env, pdfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    from citedesk.actions import ActionId

    pdf = pdfs / "arxiv-1111.2011v2.pdf"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(pdf)], "PDF files (*.pdf)")
    )
    with qtbot.waitSignal(window.pdf_adder.finished, timeout=WAIT_MS) as finished:
        window.action(ActionId.ADD_PDF).trigger()
    (pid,) = finished.args[0].added
    key = window.library.paper(pid).key
    qtbot.waitUntil(lambda: window.library.paper(pid).text("primaryclass") != "", timeout=WAIT_MS)
    paper = window.library.paper(pid)
    assert paper.key == key  # completing never renames
    assert paper.title.startswith("Quantum Criticality for Extended Nodes on a Bethe Lattice")
    assert [p.display for p in paper.authors][:2] == ["James M. Murray", "Adrian Del Maestro"]
    assert paper.doi == "10.1103/PhysRevB.85.115117" and paper.arxiv == "1111.2011"
    assert "Completed" in window.status_bar.currentMessage()
    assert window.undo_stack.undoText() == f"Complete {key} from arXiv"
    window.undo_stack.undo()  # the completion alone: the paper and its PDF stay
    assert window.library.paper(pid).text("primaryclass") == ""
    assert window.library.main_file(pid) is not None
