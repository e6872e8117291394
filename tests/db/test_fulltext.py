"""Full text of attached PDFs: indexed once per content, found by search, ranked after a
paper's own data, and every unreadable file reported by name with its reason.

Real PDFs from ../shared/pdfs (the ``pdfs`` fixture) and broken ones made here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from citedesk.db import Library, LibraryError, Query

SOURCE = """@article{murray2011, author = {Murray, James M.}, title = {Quantum criticality
  for extended nodes}, year = 2011}
@article{other2020, author = {Wu, Bo}, title = {Superconductors in practice}, year = 2020}
@misc{lorem, title = {Filler text}, year = 2019}
@misc{broken, title = {Broken files}, year = 2019}
"""


@pytest.fixture
def lib(tmp_path: Path):
    lib = Library.open(tmp_path / "library.sqlite", seed=False)
    lib.import_text(SOURCE)
    yield lib
    lib.close()


@pytest.fixture
def broken(tmp_path: Path, pdfs: Path) -> dict[str, Path]:
    """Files named .pdf that cannot be read as text, and why each cannot."""
    folder = tmp_path / "broken"
    folder.mkdir()
    whole = (pdfs / "minimal-document.pdf").read_bytes()
    (folder / "zero.pdf").write_bytes(b"")
    (folder / "notapdf.pdf").write_bytes(b"PK\x03\x04 a zip, really")
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    shutil.copy(pdfs / "libreoffice-writer-password.pdf", folder / "locked.pdf")
    import pypdfium2 as pdfium

    blank = pdfium.PdfDocument.new()
    blank.new_page(595, 842)
    blank.save(folder / "scan.pdf")
    blank.close()
    return {p.name: p for p in folder.iterdir()}


def attach(lib: Library, key: str, *paths: Path) -> None:
    lib.attach(lib.require_key(key), list(paths), store=False, role="supplement")


def test_indexing_reads_every_pdf_and_reports_the_unreadable_by_name(
    lib: Library, pdfs: Path, broken: dict[str, Path]
) -> None:
    attach(lib, "murray2011", pdfs / "arxiv-1111.2011v2.pdf")
    attach(lib, "lorem", pdfs / "pdflatex-4-pages.pdf")
    attach(lib, "broken", *broken.values())
    assert lib.fulltext_status().pending == 7
    seen: list[tuple[int, int, str]] = []
    report = lib.index_fulltext(progress=lambda d, t, n: seen.append((d, t, n)))
    assert (report.indexed, report.pages) == (2, 12)
    reasons = dict(report.failed)
    assert set(reasons) == set(broken)
    assert "empty" in reasons["zero.pdf"]
    assert "not a PDF" in reasons["notapdf.pdf"]
    assert "password" in reasons["locked.pdf"]
    assert "damaged" in reasons["truncated.pdf"]
    assert "no text" in reasons["scan.pdf"]
    assert seen[0] == (0, 7, "") and seen[-1][:2] == (7, 7)
    status = lib.fulltext_status()
    assert (status.files, status.indexed, status.pages, status.pending) == (7, 2, 12, 0)
    assert dict(status.failed) == reasons


def test_words_of_a_pdf_find_its_paper_after_papers_that_hold_them(
    lib: Library, pdfs: Path
) -> None:
    murray, other = lib.require_key("murray2011"), lib.require_key("other2020")
    assert lib.paper_ids(Query(search="superconductors")) == [other]
    attach(lib, "murray2011", pdfs / "arxiv-1111.2011v2.pdf")
    lib.index_fulltext(workers=1)
    # "superconductors" is in other2020's title and on page 1 of murray2011's PDF.
    assert lib.paper_ids(Query(search="superconductors")) == [other, murray]
    assert lib.paper_ids(Query(search="superconductors"), descending=True) == [other, murray]
    assert lib.paper_ids(Query(search="fulltext:superconductors")) == [murray]
    assert lib.paper_ids(Query(search="nonuniform impurity")) == [murray]  # both on page 5
    assert lib.paper_ids(Query(search="nonuniform wu")) == []  # every word, one paper
    assert lib.paper_ids(Query(search="superconductors year:2011")) == [murray]
    assert lib.count(Query(search="superconductors")) == 2
    assert lib.paper_ids(Query(search="title:superconductors")) == [other]


def test_a_hit_names_its_page_and_shows_the_words_around_it(lib: Library, pdfs: Path) -> None:
    murray = lib.require_key("murray2011")
    attach(lib, "murray2011", pdfs / "arxiv-1111.2011v2.pdf")
    lib.index_fulltext(workers=1)
    (hit,) = lib.fulltext_hits(murray, "nonuniform")[:1]
    assert hit.page == 5 and hit.name == "arxiv-1111.2011v2.pdf"
    matched = [text for text, is_match in hit.segments() if is_match]
    assert matched and all(m.lower() == "nonuniform" for m in matched)
    assert len(hit.snippet) < 300
    assert [h.page for h in lib.fulltext_hits(murray, "hoppings")] == [8]
    assert lib.fulltext_hits(murray, "title:hoppings") == []


def test_a_content_is_read_once_and_a_changed_file_again(
    lib: Library, pdfs: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.pdf"
    shutil.copy(pdfs / "minimal-document.pdf", copy)
    attach(lib, "lorem", copy)
    lib.attach(lib.require_key("broken"), [pdfs / "minimal-document.pdf"])  # same content
    first = lib.index_fulltext(workers=1)
    assert (first.indexed, first.skipped) == (1, 1)
    again = lib.index_fulltext(workers=1)
    assert (again.indexed, again.skipped) == (0, 2)
    both = lib.paper_ids(Query(search="fulltext:consetetur"))
    assert sorted(both) == sorted([lib.require_key("lorem"), lib.require_key("broken")])
    shutil.copy(pdfs / "pdflatex-4-pages.pdf", copy)  # the linked file changed
    changed = lib.index_fulltext(workers=1)
    assert changed.indexed == 1
    assert lib.paper_ids(Query(search="fulltext:gefburn")) == [lib.require_key("lorem")]
    assert lib.paper_ids(Query(search="fulltext:consetetur")) == [lib.require_key("broken")]


def test_worker_processes_give_the_same_index(lib: Library, pdfs: Path) -> None:
    for key, name in [
        ("murray2011", "arxiv-1111.2011v2.pdf"),
        ("lorem", "pdflatex-4-pages.pdf"),
        ("other2020", "multicolumn.pdf"),
        ("broken", "habibi.pdf"),
    ]:
        attach(lib, key, pdfs / name)
    report = lib.index_fulltext(workers=2)
    assert report.indexed == 4 and not report.failed
    assert lib.paper_ids(Query(search="fulltext:hoppings")) == [lib.require_key("murray2011")]
    assert lib.paper_ids(Query(search="fulltext:vienna")) == [lib.require_key("other2020")]


def test_cancel_stops_and_the_next_run_goes_on(lib: Library, pdfs: Path) -> None:
    for key, name in [
        ("murray2011", "arxiv-1111.2011v2.pdf"),
        ("lorem", "pdflatex-4-pages.pdf"),
        ("other2020", "multicolumn.pdf"),
    ]:
        attach(lib, key, pdfs / name)
    cancel = threading.Event()
    report = lib.index_fulltext(progress=lambda d, t, n: d and cancel.set(), cancel=cancel)
    assert report.cancelled and report.indexed == 1
    assert lib.fulltext_status().pending == 2
    assert lib.index_fulltext().indexed == 2


KILLED = """
import os, sys
from citedesk.db import Library
lib = Library.open(sys.argv[1])
def progress(done, total, name):
    if done == 2:
        os._exit(9)
lib.index_fulltext(progress=progress, workers=2)
"""


def test_a_killed_indexing_leaves_a_sound_index_that_the_next_run_finishes(
    lib: Library, pdfs: Path
) -> None:
    for key, name in [
        ("murray2011", "arxiv-1111.2011v2.pdf"),
        ("lorem", "pdflatex-4-pages.pdf"),
        ("other2020", "multicolumn.pdf"),
        ("broken", "habibi.pdf"),
    ]:
        attach(lib, key, pdfs / name)
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED), str(lib.path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 9, run.stderr
    status = lib.fulltext_status()
    assert (status.indexed, status.pending) == (2, 2)
    assert lib.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert lib.index_fulltext().indexed == 2
    assert lib.fulltext_status().pending == 0


def test_a_paper_from_a_pdf_takes_what_the_pdf_says(lib: Library, pdfs: Path) -> None:
    made = lib.paper_from_pdf(pdfs / "arxiv-1111.2011v2.pdf")
    paper = lib.paper(made.new_paper)
    assert paper.raw("eprint") == "{1111.2011}" or "1111.2011" in (paper.raw("eprint") or "")
    assert "Bethe Lattice" in paper.title
    (a,) = lib.attachments_of(made.new_paper)
    assert a.stored and a.path.is_file() and a.name == f"{paper.key}.pdf"
    assert lib.paper_for_file(pdfs / "arxiv-1111.2011v2.pdf") == made.new_paper
    assert made.undo is not None
    lib.undo(made.undo)  # one step takes the paper and its file away
    assert made.new_paper not in lib.paper_ids()
    assert not a.path.exists()
    with pytest.raises(LibraryError, match="encrypted"):
        lib.paper_from_pdf(pdfs / "libreoffice-writer-password.pdf")


def test_annotations_become_a_note_that_keeps_what_the_reader_wrote(
    lib: Library, pdfs: Path
) -> None:
    pid = lib.require_key("lorem")
    lib.attach(pid, [pdfs / "annotated_pdf.pdf"])
    (a,) = lib.attachments_of(pid)
    made = lib.import_annotations(a.id)
    (note,) = lib.notes(pid)
    assert made.note_ids == {note.id}
    assert "Highlight comment" in note.body and "This is a text annotation." in note.body
    assert "p. 1" in note.body
    assert not lib.import_annotations(a.id)  # nothing new: nothing changed
    lib.update_note(note.id, note.body + "\nMy own thought.\n")
    lib.import_annotations(a.id)
    (again,) = lib.notes(pid)
    assert "My own thought." in again.body and "Highlight comment" in again.body
    assert made.undo is not None


def test_indexing_apart_runs_in_a_child_process_and_reports_back(
    lib: Library, pdfs: Path, tmp_path: Path
) -> None:
    from citedesk.db import index_apart

    attach(lib, "murray2011", pdfs / "arxiv-1111.2011v2.pdf")
    attach(lib, "lorem", pdfs / "pdflatex-4-pages.pdf")
    seen: list[tuple[int, int, str]] = []
    report = index_apart(lib.path, progress=lambda d, t, n: seen.append((d, t, n)))
    assert (report.indexed, report.pages) == (2, 12)
    assert seen[0] == (0, 2, "") and seen[-1][:2] == (2, 2)
    assert lib.paper_ids(Query(search="fulltext:hoppings")) == [lib.require_key("murray2011")]
    garbage = tmp_path / "not-a-library.sqlite"
    garbage.write_bytes(b"this is no database" * 100)
    with pytest.raises(LibraryError, match="not a Citedesk library"):
        index_apart(garbage)
