"""Full text in the window: background indexing with progress and Cancel, and the hits of a
search in the selected paper's PDFs, each opening its page."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QLabel

from citedesk import db
from citedesk.actions import ActionId
from citedesk.attachments import open_file
from citedesk.fulltext import FulltextHits, FulltextIndexer, FulltextProgress


@pytest.fixture
def indexed_lib(tmp_path: Path, pdfs: Path):
    lib = db.Library.open(tmp_path / "library.sqlite", seed=False)
    lib.import_text(
        "@article{murray2011, title = {Quantum criticality}, year = 2011}\n"
        "@misc{lorem, title = {Filler}, year = 2019}\n"
        "@misc{cols, title = {Columns}, year = 2024}\n"
    )
    for key, name in [
        ("murray2011", "arxiv-1111.2011v2.pdf"),
        ("lorem", "pdflatex-4-pages.pdf"),
        ("cols", "multicolumn.pdf"),
    ]:
        lib.attach(lib.require_key(key), [pdfs / name], store=False)
    yield lib
    lib.close()


def test_the_indexer_reads_in_the_background_and_reports(qtbot, indexed_lib) -> None:
    indexer = FulltextIndexer(indexed_lib.path)
    progress = FulltextProgress()
    qtbot.addWidget(progress)
    indexer.progressed.connect(progress.show_progress)
    seen: list[tuple[int, int]] = []
    indexer.progressed.connect(lambda d, t, n: seen.append((d, t)))
    with qtbot.waitSignal(indexer.finished, timeout=60_000) as done:
        indexer.start()
        assert indexer.running
    report, error = done.args
    assert error == "" and report.indexed == 3 and not report.failed
    assert seen[-1] == (3, 3)
    assert progress.label.text() == "Reading PDFs for search: 3 of 3"
    assert not indexer.running
    # The window's own connection sees what the thread wrote.
    ids = indexed_lib.paper_ids(db.Query(search="fulltext:hoppings"))
    assert ids == [indexed_lib.require_key("murray2011")]


def test_asked_again_while_running_it_runs_once_more(qtbot, indexed_lib, pdfs) -> None:
    indexer = FulltextIndexer(indexed_lib.path)
    reports = []
    indexer.finished.connect(lambda r, e: reports.append(r))
    indexer.start()
    indexed_lib.attach(indexed_lib.require_key("lorem"), [pdfs / "habibi.pdf"], store=False)
    indexer.start()
    qtbot.waitUntil(lambda: len(reports) == 2 and not indexer.running, timeout=60_000)
    assert sum(r.indexed for r in reports) == 4


def test_cancel_stops_a_run(qtbot, indexed_lib) -> None:
    indexer = FulltextIndexer(indexed_lib.path)
    with qtbot.waitSignal(indexer.finished, timeout=60_000) as done:
        indexer.start()
        indexer.cancel()  # before the worker processes have read a file
    report, _ = done.args
    assert report.cancelled and report.indexed == 1  # the file under way is kept
    assert indexed_lib.fulltext_status().pending == 3 - report.indexed


def test_hits_show_page_and_words_and_open_that_page(qtbot, indexed_lib, monkeypatch) -> None:
    indexed_lib.index_fulltext(workers=1)
    murray = indexed_lib.require_key("murray2011")
    hits_view = FulltextHits()
    qtbot.addWidget(hits_view)
    hits_view.show_hits(indexed_lib.fulltext_hits(murray, "nonuniform"))
    assert hits_view.isVisibleTo(hits_view.parentWidget() or hits_view)
    label = hits_view.findChild(type(hits_view.layout().itemAt(1).widget()), "fulltext_hit_0")
    assert "p. 5" in label.text() and "<b>nonuniform</b>" in label.text().lower()
    with qtbot.waitSignal(hits_view.open_requested) as opened:
        label.linkActivated.emit("hit:0")
    attachment_id, page = opened.args
    assert page == 5
    urls: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url.toString()))
    open_file(indexed_lib.attachment(attachment_id).path, page)
    assert urls == [f"file://{indexed_lib.attachment(attachment_id).path}#page=5"]
    hits_view.show_hits([])
    assert hits_view.isHidden()


# -- in the window ---------------------------------------------------------------------------


@pytest.fixture
def library_path(tmp_path: Path, pdfs: Path) -> Path:
    """The seeded library with the arXiv paper's PDF linked to one paper, not read yet."""
    path = tmp_path / "library.sqlite"
    with db.Library.open(path) as lib:
        lib.attach(lib.require_key(KEY), [pdfs / "arxiv-1111.2011v2.pdf"], store=False)
        lib.attach(lib.require_key(KEY), [pdfs / "annotated_pdf.pdf"])
    return path


KEY = "wang2023theoreticalanalysisnoise"


def test_the_window_reads_new_pdfs_and_search_finds_their_pages(qtbot, window, monkeypatch) -> None:
    qtbot.waitUntil(window.fulltext_idle, timeout=60_000)
    assert "Read 2 PDFs for search" in window.status_bar.currentMessage()
    assert window.fulltext_progress.isHidden()
    qtbot.keyClicks(window.search_box, "hoppings")
    qtbot.waitUntil(lambda: window.paper_model.rowCount() == 1)
    pid = window.library.require_key(KEY)
    assert window.paper_model.paper_id(0) == pid
    window.select_key(KEY)
    hits = window.detail.info.fulltext_hits
    qtbot.waitUntil(lambda: bool(hits.hits))
    assert [(h.name, h.page) for h in hits.hits] == [("arxiv-1111.2011v2.pdf", 8)]
    assert hits.isVisibleTo(window)
    urls: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url.toString()))
    label = hits.findChild(QLabel, "fulltext_hit_0")
    label.linkActivated.emit("hit:0")
    assert urls and urls[0].endswith("arxiv-1111.2011v2.pdf#page=8")
    window.search_box.clear()
    qtbot.waitUntil(lambda: not hits.hits)
    assert hits.isHidden()


def test_attaching_a_pdf_reads_it_soon_after(qtbot, window, pdfs, monkeypatch) -> None:
    qtbot.waitUntil(window.fulltext_idle, timeout=60_000)
    window.select_key("wu2022alignmentpropertysgd")
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileNames",
        lambda *a, **k: ([str(pdfs / "multicolumn.pdf")], "PDF files (*.pdf)"),
    )
    window.detail.info.files.choose_files()
    assert not window.fulltext_idle()  # a run is due
    qtbot.waitUntil(window.fulltext_idle, timeout=60_000)
    ids = window.library.paper_ids(db.Query(search="fulltext:vienna"))
    assert ids == [window.library.require_key("wu2022alignmentpropertysgd")]


def test_a_note_from_annotations_is_one_undo_step(qtbot, window) -> None:
    window.select_key(KEY)
    files = window.detail.info.files
    assert files.select_file(f"{KEY}.pdf")
    menu = files.context_menu()
    action = next(a for a in menu.actions() if a.objectName() == "annotationsNoteAction")
    assert action.isEnabled()
    action.trigger()
    pid = window.library.require_key(KEY)
    (note,) = window.library.notes(pid)
    assert "Highlight comment" in note.body and "p. 1" in note.body
    window.action(ActionId.UNDO).trigger()
    assert window.library.notes(pid) == []


def test_cancel_in_the_status_bar_stops_reading(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.fulltext.running, timeout=10_000)
    window.fulltext_progress.show_progress(0, 2, "")
    window.fulltext_progress.cancel_button.click()
    qtbot.waitUntil(window.fulltext_idle, timeout=60_000)
    assert window.fulltext_progress.isHidden()
