"""Attached files: stored and linked, named by key, and never lost by any sequence of edits.

Real library files and real files in tmp_path: the stored files are checked on disk.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from citedesk.db import Changes, Library, LibraryError, Query

SOURCE = """@article{alpha2020, author = {Li, Ann}, title = {Alpha robots}, year = 2020}
@article{beta2021, author = {Wu, Bo}, title = {Beta robots}, year = 2021}
@misc{gamma, title = {Gamma notes}, year = 2019}
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def lib(tmp_path: Path):
    lib = Library.open(tmp_path / "lib" / "library.sqlite", seed=False)
    lib.import_text(SOURCE)
    yield lib
    lib.close()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """Files a user attaches: distinct contents, one of them not a PDF."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    for i, name in enumerate(["paper.pdf", "supp.pdf", "slides.pdf", "data.csv"]):
        body = b"%PDF-1.4\n" if name.endswith(".pdf") else b"a,b\n"
        (folder / name).write_bytes(body + f"content {i} {name}\n".encode() * (i + 1))
    return folder


def pid(lib: Library, key: str) -> int:
    return lib.require_key(key)


def test_a_stored_file_is_copied_and_named_by_the_key(lib: Library, inbox: Path) -> None:
    p = pid(lib, "alpha2020")
    changes = lib.attach(p, [inbox / "paper.pdf", inbox / "supp.pdf", inbox / "data.csv"])
    assert changes.files and changes.papers == {p}
    files = lib.attachments_of(p)
    assert [(a.name, a.role, a.stored) for a in files] == [
        ("alpha2020.pdf", "main", True),
        ("alpha2020-2.pdf", "supplement", True),
        ("alpha2020.csv", "supplement", True),
    ]
    assert files[0].path == lib.files_dir / "alpha2020.pdf"
    assert lib.files_dir == lib.path.parent / "files"
    assert digest(files[0].path) == digest(inbox / "paper.pdf") == files[0].hash
    assert (inbox / "paper.pdf").exists()  # a copy: the original stays
    assert files[0].mime == "application/pdf" and files[2].mime == "text/csv"
    assert lib.main_file(p) == files[0]
    # The same content again is not attached twice.
    assert not lib.attach(p, [inbox / "paper.pdf"])


def test_a_linked_file_stays_where_it_is_and_shows_missing(lib: Library, inbox: Path) -> None:
    p = pid(lib, "beta2021")
    lib.attach(p, [inbox / "paper.pdf"], store=False)
    (a,) = lib.attachments_of(p)
    assert not a.stored and a.path == inbox / "paper.pdf" and not a.missing
    assert not lib.files_dir.exists() or not any(lib.files_dir.iterdir())
    (inbox / "paper.pdf").rename(inbox / "moved.pdf")
    (a,) = lib.attachments_of(p)
    assert a.missing  # shown as missing, never dropped
    with pytest.raises(LibraryError, match="linked, not stored"):
        lib.rename_attachment(a.id, "x.pdf")


def test_attaching_what_is_not_a_file_says_so(lib: Library, inbox: Path) -> None:
    with pytest.raises(LibraryError, match="does not exist"):
        lib.attach(pid(lib, "gamma"), [inbox / "nothing.pdf"])
    with pytest.raises(LibraryError, match="is a folder"):
        lib.attach(pid(lib, "gamma"), [inbox])
    assert lib.attachments_of(pid(lib, "gamma")) == []


def test_stored_files_follow_a_key_change_and_its_undo(lib: Library, inbox: Path) -> None:
    p = pid(lib, "alpha2020")
    lib.attach(p, [inbox / "paper.pdf", inbox / "supp.pdf"])
    changed = lib.set_key(p, "li2020robots")
    names = sorted(f.name for f in lib.files_dir.iterdir() if f.is_file())
    assert names == ["li2020robots-2.pdf", "li2020robots.pdf"]
    assert [a.name for a in lib.attachments_of(p)] == ["li2020robots.pdf", "li2020robots-2.pdf"]
    assert changed.undo is not None
    redo = lib.undo(changed.undo)
    assert sorted(f.name for f in lib.files_dir.iterdir() if f.is_file()) == [
        "alpha2020-2.pdf",
        "alpha2020.pdf",
    ]
    assert redo.undo is not None
    lib.undo(redo.undo)
    assert (lib.files_dir / "li2020robots.pdf").read_bytes() == (inbox / "paper.pdf").read_bytes()


def test_a_renamed_file_keeps_its_name_when_the_key_changes(lib: Library, inbox: Path) -> None:
    p = pid(lib, "alpha2020")
    lib.attach(p, [inbox / "paper.pdf"])
    (a,) = lib.attachments_of(p)
    lib.rename_attachment(a.id, "Li - Alpha robots")
    assert lib.attachment(a.id).name == "Li - Alpha robots.pdf"
    assert (lib.files_dir / "Li - Alpha robots.pdf").is_file()
    assert not (lib.files_dir / "alpha2020.pdf").exists()
    lib.set_key(p, "li2020")
    assert lib.attachment(a.id).name == "Li - Alpha robots.pdf"
    with pytest.raises(LibraryError, match="cannot be a file name"):
        lib.rename_attachment(a.id, "../escape.pdf")


def test_detach_puts_a_stored_file_in_the_trash_and_undo_brings_it_back(
    lib: Library, inbox: Path
) -> None:
    p = pid(lib, "gamma")
    lib.attach(p, [inbox / "paper.pdf"])
    (a,) = lib.attachments_of(p)
    gone = lib.detach([a.id])
    assert gone.files and lib.attachments_of(p) == []
    assert not a.path.exists()
    assert (lib.files_dir / ".trash" / a.hash).read_bytes() == (inbox / "paper.pdf").read_bytes()
    assert gone.undo is not None
    lib.undo(gone.undo)
    assert lib.attachments_of(p)[0].path.read_bytes() == (inbox / "paper.pdf").read_bytes()
    # Once nothing can bring it back, the trash may be emptied; a waiting file is kept.
    assert lib.empty_file_trash() == 0
    lib.detach([a.id])
    assert lib.empty_file_trash() == 1
    assert not (lib.files_dir / ".trash" / a.hash).exists()


def test_deleting_a_paper_keeps_its_files_for_the_undo(lib: Library, inbox: Path) -> None:
    p = pid(lib, "beta2021")
    lib.attach(p, [inbox / "paper.pdf", inbox / "slides.pdf"])
    before = {a.name: digest(a.path) for a in lib.attachments_of(p)}
    gone = lib.delete_papers([p])
    assert sorted(f.name for f in lib.files_dir.iterdir() if f.is_file()) == []
    assert gone.undo is not None
    lib.undo(gone.undo)
    assert {a.name: digest(a.path) for a in lib.attachments_of(p)} == before


def test_merging_duplicates_keeps_every_file(lib: Library, inbox: Path) -> None:
    a, b = pid(lib, "alpha2020"), pid(lib, "beta2021")
    lib.attach(a, [inbox / "paper.pdf"])
    lib.attach(b, [inbox / "supp.pdf", inbox / "paper.pdf"])
    lib.merge_papers(a, [b])
    files = lib.attachments_of(a)
    assert sorted(f.hash or "" for f in files) == sorted(
        {digest(inbox / "paper.pdf"), digest(inbox / "supp.pdf")}
    )
    assert all(f.path.is_file() for f in files)
    assert [f.role for f in files].count("main") == 1


def test_main_file_is_the_main_pdf_that_is_there(lib: Library, inbox: Path) -> None:
    p = pid(lib, "gamma")
    lib.attach(p, [inbox / "data.csv"])
    # Only PDFs open by themselves: a .bib from elsewhere can link any file.
    assert lib.main_file(p) is None
    lib.attach(p, [inbox / "paper.pdf", inbox / "supp.pdf"])
    assert lib.main_file(p).name == "gamma.pdf"
    (supp,) = [a for a in lib.attachments_of(p) if a.name == "gamma-2.pdf"]
    lib.set_attachment_role(supp.id, "main")
    assert lib.main_file(p).name == "gamma-2.pdf"
    assert [a.role for a in lib.attachments_of(p)].count("main") == 1


def test_relink_finds_moved_files_by_their_content(lib: Library, inbox: Path, tmp_path: Path):
    p = pid(lib, "alpha2020")
    lib.attach(p, [inbox / "paper.pdf", inbox / "supp.pdf"], store=False)
    elsewhere = tmp_path / "new place" / "deep"
    elsewhere.mkdir(parents=True)
    os.replace(inbox / "paper.pdf", elsewhere / "renamed.pdf")
    (inbox / "supp.pdf").unlink()
    assert [a.missing for a in lib.all_attachments()] == [True, True]
    report = lib.relink([tmp_path / "new place"])
    assert list(report.found.values()) == [elsewhere / "renamed.pdf"]
    assert len(report.missing) == 1
    (paper, supp) = lib.attachments_of(p)
    assert paper.path == elsewhere / "renamed.pdf" and not paper.missing
    assert supp.missing
    assert report.changes.undo is not None


def test_a_stored_file_moved_by_hand_inside_the_folder_is_found(lib: Library, inbox: Path):
    p = pid(lib, "alpha2020")
    lib.attach(p, [inbox / "paper.pdf"])
    (a,) = lib.attachments_of(p)
    (lib.files_dir / "sub").mkdir()
    os.replace(a.path, lib.files_dir / "sub" / "whatever.pdf")
    assert lib.attachments_of(p)[0].missing
    assert lib.restore_stored_files() == 1
    assert not lib.attachments_of(p)[0].missing
    # And when the library opens.
    os.replace(a.path, lib.files_dir / "sub" / "again.pdf")
    with Library.open(lib.path) as again:
        assert not again.attachments_of(p)[0].missing


def check_nothing_lost(lib: Library, contents: dict[str, bytes]) -> None:
    """Every stored row has its file, with its content; every content ever attached is in
    the files folder or its trash."""
    for a in lib.all_attachments():
        if a.stored:
            assert a.path.is_file(), f"{a.name} of paper {a.paper_id} is missing"
            assert digest(a.path) == a.hash
    on_disk = {digest(f) for f in lib.files_dir.rglob("*") if f.is_file()}
    assert set(contents) <= on_disk


def test_no_sequence_of_edits_loses_a_stored_file(lib: Library, inbox: Path) -> None:
    """Random attach, rename, key change, detach, delete, merge, undo and redo, 400 steps."""
    rng = random.Random(14)
    files = sorted(inbox.iterdir())
    contents: dict[str, bytes] = {}  # what has been attached so far
    done: list[Changes] = []
    undone: list[Changes] = []
    names = iter(f"name{i}" for i in range(10_000))
    keys = iter(f"key{i}" for i in range(10_000))
    for _ in range(400):
        papers = lib.paper_ids()
        attached = lib.all_attachments()
        op = rng.choice(["attach", "attach", "rename", "key", "detach", "undo", "undo", "redo"])
        change: Changes | None = None
        if op == "attach" and papers:
            chosen = rng.sample(files, rng.randint(1, 2))
            contents.update((digest(f), f.read_bytes()) for f in chosen)
            change = lib.attach(rng.choice(papers), chosen)
        elif op == "rename" and attached:
            stored = [a for a in attached if a.stored]
            if stored:
                change = lib.rename_attachment(rng.choice(stored).id, next(names))
        elif op == "key" and papers:
            change = lib.set_key(rng.choice(papers), next(keys))
        elif op == "detach" and attached:
            change = lib.detach([rng.choice(attached).id])
        elif op == "undo" and done:
            last = done.pop()
            assert last.undo is not None
            undone.append(lib.undo(last.undo))
        elif op == "redo" and undone:
            last = undone.pop()
            assert last.undo is not None
            done.append(lib.undo(last.undo))
        if change:
            done.append(change)
            undone.clear()
        check_nothing_lost(lib, contents)
    while done:
        last = done.pop()
        assert last.undo is not None
        lib.undo(last.undo)
        check_nothing_lost(lib, contents)
    assert lib.all_attachments() == []


def test_regenerating_keys_renames_every_stored_file(lib: Library, inbox: Path) -> None:
    a, b = pid(lib, "alpha2020"), pid(lib, "beta2021")
    lib.attach(a, [inbox / "paper.pdf"])
    lib.attach(b, [inbox / "supp.pdf"])
    changed = lib.regenerate_keys(None, "{auth}{year}x")
    assert changed.keys
    for p in (a, b):
        (att,) = lib.attachments_of(p)
        assert att.name == f"{lib.paper(p).key}.pdf" and att.path.is_file()


CRASH = """
import os, sys
from pathlib import Path
from citedesk.db import Library
from citedesk.db.attachments import Attachments
if sys.argv[3] == "before-commit":  # the file is copied in, the row not yet committed
    Attachments._before_commit = lambda self, w: os._exit(9)
lib = Library.open(sys.argv[1], seed=False)
pid = lib.require_key("alpha2020")
if sys.argv[3] == "after-commit":  # the row is committed, the file not yet in place
    Attachments.settle = lambda self: os._exit(9)
lib.attach(pid, [sys.argv[2]])
"""


@pytest.mark.parametrize("when", ["before-commit", "after-commit"])
def test_a_crash_in_a_stored_attach_leaves_library_and_files_consistent(
    lib: Library, inbox: Path, when: str
) -> None:
    path = lib.path
    lib.close()
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH), str(path), str(inbox / "paper.pdf"), when],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 9, run.stderr
    again = Library.open(path)
    try:
        files = again.all_attachments()
        if when == "before-commit":
            assert files == []  # the write never happened; the copy waits in the trash
        else:
            (a,) = files
            assert a.path.read_bytes() == (inbox / "paper.pdf").read_bytes()
        assert again.conn.execute("SELECT count(*) FROM file_moves").fetchone()[0] == 0
        assert again.paper_ids(Query(search="alpha"))
    finally:
        again.close()


def annotate(path: Path) -> bytes:
    """What a PDF viewer does to a stored file when the reader highlights: new content."""
    with path.open("ab") as fh:
        fh.write(b"% a highlight the reader made\n")
    return path.read_bytes()


def test_an_annotated_stored_file_follows_renames_key_changes_and_undo(
    lib: Library, inbox: Path
) -> None:
    p = pid(lib, "alpha2020")
    lib.attach(p, [inbox / "paper.pdf"])
    (a,) = lib.attachments_of(p)
    edited = annotate(a.path)
    renamed = lib.rename_attachment(a.id, "mine.pdf")
    assert lib.attachment(a.id).path.read_bytes() == edited
    assert renamed.undo is not None
    lib.undo(renamed.undo)
    assert lib.attachment(a.id).path.read_bytes() == edited
    lib.set_key(p, "li2020")
    assert lib.attachment(a.id).path.read_bytes() == edited
    gone = lib.detach([a.id])
    assert gone.undo is not None
    lib.undo(gone.undo)
    assert lib.attachment(a.id).path.read_bytes() == edited
    assert lib.empty_file_trash() == 0
    # Full-text indexing takes the new content's hash; an undo of an older edit does not
    # take the file away again.
    role = lib.set_attachment_role(a.id, "supplement")
    lib.index_fulltext(workers=1)
    assert lib.attachment(a.id).hash == digest(lib.attachment(a.id).path)
    assert role.undo is not None
    lib.undo(role.undo)
    assert lib.attachment(a.id).path.read_bytes() == edited
    lib.close()
    again = Library.open(lib.path)
    try:
        assert again.attachment(a.id).path.read_bytes() == edited
    finally:
        again.close()


def test_two_papers_with_the_same_file_both_get_it_back(lib: Library, inbox: Path) -> None:
    a, b = pid(lib, "alpha2020"), pid(lib, "beta2021")
    lib.attach(a, [inbox / "paper.pdf"])
    lib.attach(b, [inbox / "paper.pdf"])
    fa, fb = lib.attachments_of(a)[0].path, lib.attachments_of(b)[0].path
    (lib.files_dir / "sub").mkdir()
    os.replace(fa, lib.files_dir / "sub" / "moved by hand.pdf")
    fb.unlink()
    path = lib.path
    lib.close()
    with Library.open(path) as again:
        assert [x.missing for x in again.all_attachments()] == [False, False]
    assert fa.read_bytes() == fb.read_bytes() == (inbox / "paper.pdf").read_bytes()


def test_merging_keeps_linked_files_that_were_never_read(lib: Library, inbox: Path) -> None:
    lib.import_text("@article{dup, title = {Dup}, file = {:" + str(inbox / "supp.pdf") + ":PDF}}")
    keep, dup = pid(lib, "alpha2020"), pid(lib, "dup")
    lib.attach(keep, [inbox / "paper.pdf"])
    assert lib.attachments_of(dup)[0].hash is None  # imported: not read yet
    lib.merge_papers(keep, [dup])
    assert sorted(a.name for a in lib.attachments_of(keep)) == ["alpha2020.pdf", "supp.pdf"]


def test_a_note_keeps_its_link_to_the_annotations_through_undo(lib: Library, pdfs: Path) -> None:
    p = pid(lib, "gamma")
    lib.attach(p, [pdfs / "annotated_pdf.pdf"])
    (a,) = lib.attachments_of(p)
    lib.import_annotations(a.id)
    edits = [
        lambda: lib.detach([a.id]),
        lambda: lib.delete_papers([p]),
        lambda: lib.delete_note(lib.notes(p)[0].id),
    ]
    for edit in edits:
        change = edit()
        assert change.undo is not None
        lib.undo(change.undo)
        assert not lib.import_annotations(a.id)  # the same note, as it was: nothing to do
        assert len(lib.notes(p)) == 1
