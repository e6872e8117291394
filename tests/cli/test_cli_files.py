"""``citedesk attach/detach/files/open/relink/fulltext`` and backups with files, end to end:
the real command (``main()`` in process, or a subprocess) over a real library in tmp_path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from citedesk import cli
from citedesk.db import Library
from citedesk.db import backup as backup_mod

KEY = "wang2023qyolo"
OTHER = "zhang2026learningdynamicstwolayer"


def run(capsys: pytest.CaptureFixture[str], lib: Path, *args: str) -> tuple[int, str, str]:
    """``citedesk --library LIB ARGS``, in process: (exit code, stdout, stderr)."""
    code = cli.main(["--library", str(lib), *args])
    out, err = capsys.readouterr()
    return code, out, err


def files_json(capsys: pytest.CaptureFixture[str], lib: Path, *args: str) -> list[dict]:
    code, out, err = run(capsys, lib, "files", "--json", *args)
    assert code in (0, 1), err
    return json.loads(out)


@pytest.fixture
def library(lib_path: Path) -> Path:
    with Library.open(lib_path) as lib:
        assert lib.id_for_key(OTHER) is not None
    return lib_path


@pytest.fixture
def pdf(tmp_path: Path, pdfs: Path) -> Path:
    """A real PDF, copied out of the shared folder (so tests may move or delete it)."""
    dest = tmp_path / "incoming" / "paper.pdf"
    dest.parent.mkdir()
    dest.write_bytes((pdfs / "minimal-document.pdf").read_bytes())
    return dest


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    dest = tmp_path / "incoming" / "data.csv"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text("a,b\n1,2\n")
    return dest


# -- attach ---------------------------------------------------------------------------------------


def test_attach_stores_by_default_and_says_where(capsys, library: Path, pdf: Path) -> None:
    code, out, err = run(capsys, library, "attach", KEY, str(pdf))
    assert code == 0, err
    stored = library.parent / "files" / f"{KEY}.pdf"
    assert out == f"{pdf} -> {stored}\n"
    assert stored.read_bytes() == pdf.read_bytes() and pdf.exists()
    [rec] = files_json(capsys, library)
    assert (rec["key"], rec["name"], rec["stored"], rec["role"]) == (
        KEY,
        f"{KEY}.pdf",
        True,
        "main",
    )


def test_attach_link_leaves_the_file_where_it_is(capsys, library: Path, text_file: Path) -> None:
    code, out, err = run(capsys, library, "attach", "--link", KEY, str(text_file))
    assert code == 0, err
    assert out == f"{text_file} -> linked\n"
    [rec] = files_json(capsys, library)
    assert (rec["path"], rec["stored"]) == (str(text_file), False)
    assert not (library.parent / "files").exists()


def test_attach_the_same_content_twice_says_so(capsys, library: Path, pdf: Path) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    code, out, _ = run(capsys, library, "attach", KEY, str(pdf))
    assert code == 0
    assert out == f"{pdf} -> already attached to {KEY} as {KEY}.pdf\n"
    assert len(files_json(capsys, library)) == 1


@pytest.mark.parametrize("problem", ["unknown key", "missing file", "folder"])
def test_attach_problem_is_one_line_exit_1_and_attaches_nothing(
    capsys, library: Path, pdf: Path, problem: str
) -> None:
    key, files = KEY, [str(pdf)]
    if problem == "unknown key":
        key, expected = "ghost", "citedesk: no paper with citation key 'ghost'"
    elif problem == "missing file":
        files.append(str(pdf.parent / "nope.pdf"))
        expected = f"citedesk: {pdf.parent / 'nope.pdf'}: no such file"
    else:
        files.append(str(pdf.parent))
        expected = f"citedesk: {pdf.parent} is a folder: attach the files in it, not the folder"
    code, out, err = run(capsys, library, "attach", key, *files)
    assert (code, out, err.strip()) == (1, "", expected)
    assert files_json(capsys, library) == []
    assert not (library.parent / "files" / f"{KEY}.pdf").exists()


# -- detach ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["name", "stored path", "absolute path"])
def test_detach_moves_a_stored_file_to_the_trash(
    capsys, library: Path, pdf: Path, spelling: str
) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    stored = library.parent / "files" / f"{KEY}.pdf"
    given = {"name": stored.name, "stored path": stored.name, "absolute path": str(stored)}
    code, out, err = run(capsys, library, "detach", KEY, given[spelling])
    assert code == 0, err
    assert files_json(capsys, library) == []
    trash = library.parent / "files" / ".trash"
    [kept] = list(trash.iterdir())
    assert out == (
        f"detached {KEY}.pdf from {KEY}; the file is now {kept} "
        "('citedesk files --empty-trash' deletes it)\n"
    )
    assert not stored.exists() and kept.read_bytes() == pdf.read_bytes()
    code, out, _ = run(capsys, library, "files", "--empty-trash")
    assert (code, out) == (0, f"deleted 1 file from {trash}\n")
    assert list(trash.iterdir()) == []


def test_detach_of_a_linked_file_leaves_it(capsys, library: Path, text_file: Path) -> None:
    run(capsys, library, "attach", "--link", KEY, str(text_file))
    code, out, _ = run(capsys, library, "detach", KEY, str(text_file))
    assert code == 0
    assert out == f"detached {text_file} from {KEY}; the linked file was not touched\n"
    assert text_file.exists() and files_json(capsys, library) == []


def test_detach_of_a_file_the_paper_does_not_have_names_its_files(
    capsys, library: Path, pdf: Path
) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    code, _, err = run(capsys, library, "detach", KEY, "paper.pdf")
    assert code == 1
    assert err == f"citedesk: {KEY} has no file 'paper.pdf' (its files: {KEY}.pdf)\n"
    assert len(files_json(capsys, library)) == 1


# -- files ----------------------------------------------------------------------------------------


def test_files_lists_every_paper_or_one(capsys, library: Path, pdf: Path, text_file: Path) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    run(capsys, library, "attach", "--link", OTHER, str(text_file))
    code, out, _ = run(capsys, library, "files")
    assert code == 0
    lines = sorted(out.splitlines(), key=lambda line: line.split()[0] != KEY)
    assert len(lines) == 2
    assert lines[0].split()[:3] == [KEY, "main", "stored"] and lines[0].endswith(f"{KEY}.pdf")
    assert lines[1].split()[:3] == [OTHER, "supplement", "linked"]
    assert lines[1].endswith(str(text_file))
    assert [r["key"] for r in files_json(capsys, library, OTHER)] == [OTHER]


def test_files_json_has_the_promised_fields(capsys, library: Path, pdf: Path) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    [rec] = files_json(capsys, library, KEY)
    stored = library.parent / "files" / f"{KEY}.pdf"
    assert rec == {
        "key": KEY,
        "name": f"{KEY}.pdf",
        "path": str(stored),
        "stored": True,
        "role": "main",
        "mime": "application/pdf",
        "size": pdf.stat().st_size,
        "hash": rec["hash"],
        "missing": False,
    }
    assert len(rec["hash"]) == 64


def test_files_missing_marks_them_and_exits_1_only_when_some_are(
    capsys, library: Path, pdf: Path, text_file: Path
) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    run(capsys, library, "attach", "--link", OTHER, str(text_file))
    assert run(capsys, library, "files", "--missing")[:2] == (0, "")
    text_file.unlink()
    code, out, err = run(capsys, library, "files", "--missing")
    assert code == 1
    assert out.splitlines()[0].split()[0] == OTHER and out.rstrip().endswith("MISSING")
    assert len(out.splitlines()) == 1
    assert "1 file missing" in err
    [rec] = files_json(capsys, library, "--missing")
    assert (rec["key"], rec["missing"]) == (OTHER, True)


def test_files_of_an_unknown_key_exits_1(capsys, library: Path) -> None:
    code, _, err = run(capsys, library, "files", "ghost")
    assert (code, err) == (1, "citedesk: no paper with citation key 'ghost'\n")


# -- open -----------------------------------------------------------------------------------------


@pytest.fixture
def opened(qapp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs handed to the desktop (QDesktopServices.openUrl), which answers yes."""
    from PySide6.QtGui import QDesktopServices

    urls: list[str] = []

    def record(url) -> bool:
        urls.append(url.toLocalFile())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", record)
    return urls


def test_open_hands_the_main_file_to_the_desktop(
    capsys, library: Path, pdf: Path, text_file: Path, opened: list[str]
) -> None:
    run(capsys, library, "attach", KEY, str(text_file), str(pdf))
    code, _, err = run(capsys, library, "open", KEY)
    assert code == 0, err
    assert opened == [str(library.parent / "files" / f"{KEY}.pdf")]


def test_open_without_a_file_says_so(capsys, library: Path, opened: list[str]) -> None:
    code, _, err = run(capsys, library, "open", KEY)
    assert code == 1 and opened == []
    assert err == f"citedesk: {KEY} has no file to open ('citedesk attach' adds one)\n"


def test_open_of_a_missing_file_says_so(
    capsys, library: Path, text_file: Path, opened: list[str]
) -> None:
    run(capsys, library, "attach", "--link", KEY, str(text_file))
    text_file.unlink()
    code, _, err = run(capsys, library, "open", KEY)
    assert code == 1 and opened == []
    assert f"{text_file}" in err and "citedesk relink DIR" in err


def test_open_that_the_desktop_refuses_exits_1(
    capsys, library: Path, pdf: Path, qapp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    run(capsys, library, "attach", KEY, str(pdf))
    code, _, err = run(capsys, library, "open", KEY)
    assert code == 1
    assert err.startswith("citedesk: the desktop could not open ")


@pytest.mark.parametrize("args", [["files"], ["files", "--json"], ["relink", "."]])
def test_file_subcommands_never_import_qt(lib_path: Path, args: list[str]) -> None:
    code = (
        "import sys, citedesk.cli as c; rc = c.main(sys.argv[1:]); "
        "assert 'PySide6' not in sys.modules, 'Qt imported'; sys.exit(rc)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, "--library", str(lib_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=lib_path.parent,
    )
    assert r.returncode == 0, r.stderr


# -- relink ---------------------------------------------------------------------------------------


def test_relink_finds_moved_files_by_content(
    capsys, library: Path, pdf: Path, text_file: Path, tmp_path: Path
) -> None:
    run(capsys, library, "attach", "--link", KEY, str(pdf))
    run(capsys, library, "attach", "--link", OTHER, str(text_file))
    moved = tmp_path / "elsewhere" / "deep"
    moved.mkdir(parents=True)
    os.replace(pdf, moved / "renamed.pdf")
    text_file.unlink()
    code, out, err = run(capsys, library, "relink", str(tmp_path / "elsewhere"))
    assert code == 1  # one is still missing
    assert out == f"found {KEY} paper.pdf at {moved / 'renamed.pdf'} (linked there now)\n"
    assert f"still missing: {OTHER} {text_file}" in err
    assert err.rstrip().endswith("1 found, 1 still missing")
    [rec] = files_json(capsys, library, KEY)
    assert (rec["path"], rec["missing"]) == (str(moved / "renamed.pdf"), False)


def test_relink_with_nothing_missing_exits_0(capsys, library: Path, tmp_path: Path) -> None:
    assert run(capsys, library, "relink", str(tmp_path)) == (0, "", "no file is missing\n")


# -- backups with files ---------------------------------------------------------------------------


def test_backup_with_files_writes_the_archive_beside_it(
    capsys, library: Path, pdf: Path, text_file: Path
) -> None:
    run(capsys, library, "attach", KEY, str(pdf), str(text_file))
    code, out, err = run(capsys, library, "backup", "--with-files")
    assert code == 0, err
    dest = Path(out.strip())
    archive = dest.with_name(dest.name + ".files.zip")
    assert "with 2 stored files" in err and str(archive) in err
    with zipfile.ZipFile(archive) as zf:
        names = sorted(zf.namelist())
        assert names == ["MANIFEST", f"files/{KEY}.csv", f"files/{KEY}.pdf"]
        assert zf.read(f"files/{KEY}.pdf") == pdf.read_bytes()
    # The backup itself is still an ordinary backup, listed as one (the archive is not).
    assert backup_mod.backups(library) == [dest]
    assert [p.name for p in dest.parent.iterdir() if ".tmp" in p.name] == []


def test_backup_without_files_writes_no_archive(capsys, library: Path, pdf: Path) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    code, out, _ = run(capsys, library, "backup")
    dest = Path(out.strip())
    assert code == 0 and not backup_mod.files_archive(dest).exists()


def test_backup_with_files_takes_a_detached_file_from_the_trash(
    capsys, library: Path, pdf: Path, tmp_path: Path
) -> None:
    """The archive holds what the backup's rows name, even if the folder changed since."""
    run(capsys, library, "attach", KEY, str(pdf))
    db_copy = tmp_path / "snapshot.sqlite"
    backup_mod.backup(library, db_copy)
    run(capsys, library, "detach", KEY, f"{KEY}.pdf")
    made = backup_mod.archive_files(
        db_copy, library.parent / "files", backup_mod.files_archive(db_copy)
    )
    assert (made.files, made.missing) == (1, [])


def test_backup_with_files_warns_of_files_the_library_misses(
    capsys, library: Path, pdf: Path
) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    (library.parent / "files" / f"{KEY}.pdf").unlink()
    code, _, err = run(capsys, library, "backup", "--with-files")
    assert code == 0
    assert f"citedesk: warning: {KEY}.pdf is missing from the library's files" in err
    assert "with 0 stored files" in err


def test_restore_brings_back_files_keeps_identical_and_sets_aside_different(
    capsys, library: Path, pdf: Path, text_file: Path
) -> None:
    run(capsys, library, "attach", KEY, str(pdf), str(text_file))
    _, out, _ = run(capsys, library, "backup", "--with-files")
    dest = Path(out.strip())
    files = library.parent / "files"
    # After the backup: the PDF is lost, the CSV is rewritten by hand.
    (files / f"{KEY}.pdf").unlink()
    (files / f"{KEY}.csv").write_text("changed by hand\n")
    code, _, err = run(capsys, library, "restore", "--yes", str(dest))
    assert code == 0, err
    assert (files / f"{KEY}.pdf").read_bytes() == pdf.read_bytes()
    assert (files / f"{KEY}.csv").read_bytes() == text_file.read_bytes()
    [aside] = list(files.glob(f"replaced-*/{KEY}.csv"))
    assert aside.read_text() == "changed by hand\n"
    assert f"restored 2 stored files from {backup_mod.files_archive(dest)}" in err
    assert f"{KEY}.csv in {files} was a different file; kept as {aside}" in err
    # Again: everything is in place, nothing is touched.
    code, _, err = run(capsys, library, "restore", "--yes", str(dest))
    assert code == 0 and "restored 0 stored files" in err and "(2 were there already)" in err
    assert files_json(capsys, library, "--missing") == []


def test_restore_into_a_new_place_brings_the_files_there(
    capsys, library: Path, pdf: Path, tmp_path: Path
) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    _, out, _ = run(capsys, library, "backup", "--with-files")
    elsewhere = tmp_path / "new" / "library.sqlite"
    code, _, err = run(capsys, elsewhere, "restore", "--yes", out.strip())
    assert code == 0, err
    [rec] = files_json(capsys, elsewhere)
    assert rec["path"] == str(tmp_path / "new" / "files" / f"{KEY}.pdf")
    assert rec["missing"] is False


def test_restore_with_a_damaged_archive_changes_nothing(capsys, library: Path, pdf: Path) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    _, out, _ = run(capsys, library, "backup", "--with-files")
    dest = Path(out.strip())
    backup_mod.files_archive(dest).write_bytes(b"not a zip")
    run(capsys, library, "tag", KEY, "after")
    code, _, err = run(capsys, library, "restore", "--yes", str(dest))
    assert code == 1
    assert err.startswith(f"citedesk: {backup_mod.files_archive(dest)} cannot be read")
    with Library.open(library) as lib:
        assert lib.paper_tags(lib.require_key(KEY)) == ["after"]


def test_restore_reports_a_file_damaged_in_the_archive(capsys, library: Path, pdf: Path) -> None:
    run(capsys, library, "attach", KEY, str(pdf))
    _, out, _ = run(capsys, library, "backup", "--with-files")
    dest = Path(out.strip())
    archive = backup_mod.files_archive(dest)
    with zipfile.ZipFile(archive) as zf:
        manifest = zf.read("MANIFEST")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("MANIFEST", manifest)
        zf.writestr(f"files/{KEY}.pdf", b"%PDF-1.4 something else")
    (library.parent / "files" / f"{KEY}.pdf").unlink()
    code, _, err = run(capsys, library, "restore", "--yes", str(dest))
    assert code == 1
    assert f"citedesk: {KEY}.pdf: damaged in the backup (hash differs)" in err
    assert not (library.parent / "files" / f"{KEY}.pdf").exists()


def test_rotation_deletes_the_archive_with_its_backup(library: Path) -> None:
    from datetime import datetime, timedelta

    start = datetime(2026, 1, 1, 9)
    first = backup_mod.rotate(library, keep=1, now=start)
    assert first is not None
    backup_mod.files_archive(first).write_bytes(b"")
    backup_mod.rotate(library, keep=1, now=start + timedelta(days=1))
    assert not first.exists() and not backup_mod.files_archive(first).exists()


def test_backup_and_restore_with_files_as_real_processes(
    library: Path, pdf: Path, tmp_path: Path
) -> None:
    def citedesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "citedesk", "--library", str(library), *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    assert citedesk("attach", KEY, str(pdf)).returncode == 0
    r = citedesk("backup", "--with-files", str(tmp_path / "b.sqlite"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{tmp_path / 'b.sqlite'}\n"
    (library.parent / "files" / f"{KEY}.pdf").unlink()
    r = citedesk("restore", str(tmp_path / "b.sqlite"))
    assert r.returncode == 1 and "add --yes" in r.stderr
    r = citedesk("restore", "--yes", str(tmp_path / "b.sqlite"))
    assert r.returncode == 0, r.stderr
    assert (library.parent / "files" / f"{KEY}.pdf").read_bytes() == pdf.read_bytes()


# -- full text ------------------------------------------------------------------------------------


def test_fulltext_indexes_and_reports_failures_by_name(
    capsys, library: Path, pdf: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "incoming" / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not really a PDF\n")
    run(capsys, library, "attach", KEY, str(pdf))
    run(capsys, library, "attach", OTHER, str(broken))
    code, out, err = run(capsys, library, "fulltext", "--status")
    assert code == 0
    assert out.splitlines()[:4] == ["files:   2", "indexed: 0", "pages:   0", "pending: 2"]
    code, out, err = run(capsys, library, "fulltext")
    assert code == 0, err
    assert f"citedesk: fulltext: {OTHER}.pdf: " in err
    assert "fulltext: 2/2 files" in err
    assert "indexed 1 file " in err and "1 failed" in err
    code, out, _ = run(capsys, library, "fulltext", "--status")
    lines = out.splitlines()
    assert lines[1] == "indexed: 1" and lines[3] == "pending: 0"
    assert lines[4] == "failed:  1" and lines[5].startswith(f"  {OTHER}.pdf: ")


def test_fulltext_stops_on_ctrl_c_with_exit_130(
    capsys, library: Path, pdfs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = sorted(p for p in pdfs.glob("*.pdf"))[:3]
    for i, src in enumerate(names):
        copy = tmp_path / f"p{i}.pdf"
        copy.write_bytes(src.read_bytes())
        run(capsys, library, "attach", KEY, str(copy))
    real = Library.index_fulltext

    def interrupted(self, progress=None, cancel=None, workers=None, rebuild=False):
        def on_progress(done: int, total: int, name: str) -> None:
            if done == 1:
                os.kill(os.getpid(), signal.SIGINT)  # as a Ctrl+C on the terminal
            if progress is not None:
                progress(done, total, name)

        return real(self, on_progress, cancel, 1, rebuild)

    monkeypatch.setattr(Library, "index_fulltext", interrupted)
    code, _, err = run(capsys, library, "fulltext")
    assert code == 130
    assert "stopping after the current file" in err and "(stopped)" in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_export_profile_with_files_writes_them(
    capsys, library: Path, pdf: Path, tmp_path: Path
) -> None:
    assert run(capsys, library, "attach", KEY, str(pdf))[0] == 0
    assert run(capsys, library, "profile", "add", "jabref", "--files")[0] == 0
    code, out, _ = run(capsys, library, "profile", "list")
    assert any(line.startswith("jabref") and "files=yes" in line for line in out.splitlines())
    out_bib = tmp_path / "with-files.bib"
    assert (
        run(capsys, library, "export", "--key", KEY, "--profile", "jabref", "-o", str(out_bib))[0]
        == 0
    )
    stored = Library.open(library)
    try:
        path = stored.attachments_of(stored.require_key(KEY))[0].path
    finally:
        stored.close()
    assert f"{{:{path}:PDF}}" in out_bib.read_text()
    plain = tmp_path / "plain.bib"
    assert run(capsys, library, "export", "--key", KEY, "-o", str(plain))[0] == 0
    assert "file" not in plain.read_text()


def test_the_files_folder_can_be_moved_with_its_files(
    capsys, library: Path, pdf: Path, tmp_path: Path
) -> None:
    assert run(capsys, library, "attach", KEY, str(pdf))[0] == 0
    code, out, _ = run(capsys, library, "files", "--folder")
    assert code == 0 and out.strip() == str(library.parent / "files")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    code, _, err = run(capsys, library, "files", "--folder", str(tmp_path / "busy"))
    assert code == 1 and "not an empty folder" in err
    code, out, _ = run(capsys, library, "files", "--folder", "papers/pdfs")
    assert code == 0 and out.strip().endswith(str(library.parent / "papers" / "pdfs"))
    assert (library.parent / "papers" / "pdfs" / f"{KEY}.pdf").read_bytes() == pdf.read_bytes()
    assert not (library.parent / "files").exists()
    records = files_json(capsys, library)
    assert [r["missing"] for r in records] == [False]
    assert records[0]["path"] == str(library.parent / "papers" / "pdfs" / f"{KEY}.pdf")
