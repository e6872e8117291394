"""Full text in the window: background indexing with progress and Cancel, and the hits of a
search in the selected paper's PDFs, each opening its page."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QDesktopServices

from citedesk import db
from citedesk.fulltext import FulltextHits, FulltextIndexer, FulltextProgress, open_file


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
