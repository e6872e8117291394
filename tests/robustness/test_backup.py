"""Backups: ``citedesk backup``/``restore`` and db.backup's rotation, on real files."""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from citedesk.db import Library, LibraryDamagedError, LibraryError, LibraryTooNewError, schema
from citedesk.db import backup as backup_mod


def citedesk(
    *args: str, lib: Path, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citedesk", "--library", str(lib), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=stdin,
    )


def tag_of(lib_path: Path, key: str = "wang2023qyolo") -> list[str]:
    with Library.open(lib_path) as lib:
        return lib.paper_tags(lib.require_key(key))


@pytest.fixture
def library(lib_path: Path) -> Path:
    with Library.open(lib_path) as lib:
        lib.add_tags([lib.require_key("wang2023qyolo")], ["before"])
    return lib_path


# -- making backups ------------------------------------------------------------------------------


def test_backup_command_writes_a_timestamped_copy_in_backups(library: Path) -> None:
    r = citedesk("backup", lib=library)
    assert r.returncode == 0, r.stderr
    dest = Path(r.stdout.strip())
    assert dest.parent == library.parent / "backups"
    assert dest.name.startswith("library-") and dest.suffix == ".sqlite"
    assert backup_mod.check_library(dest) == (schema.SCHEMA_VERSION, 25)
    assert r.stderr == f"backed up {library} (25 papers) to {dest}\n"


def test_backup_to_a_file_or_a_folder(library: Path, tmp_path: Path) -> None:
    assert citedesk("backup", str(tmp_path / "copy.sqlite"), lib=library).returncode == 0
    assert backup_mod.check_library(tmp_path / "copy.sqlite")[1] == 25
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    r = citedesk("backup", str(folder), lib=library)
    assert Path(r.stdout.strip()).parent == folder


def test_backup_is_a_single_file_not_a_wal_database(library: Path, tmp_path: Path) -> None:
    dest = backup_mod.backup(library, tmp_path / "one.sqlite")
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".one")]


def test_backup_while_another_process_writes_is_consistent(library: Path, tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from citedesk.db import Library\n"
            "lib = Library.open(sys.argv[1])\npid = lib.require_key('wang2023qyolo')\n"
            "for i in range(300): lib.add_tags([pid], [f't{i}'])\nlib.close()",
            str(library),
        ]
    )
    copies = [backup_mod.backup(library, tmp_path / f"b{i}.sqlite") for i in range(5)]
    assert writer.wait(timeout=120) == 0
    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # The denormalised tag text agrees with the tag rows: no half-written transaction.
        text, rows = conn.execute(
            "SELECT tags, (SELECT count(*) FROM paper_tags WHERE paper_id = p.id) FROM papers p "
            "WHERE key = 'wang2023qyolo'"
        ).fetchone()
        conn.close()
        assert len(text.split(", ")) == rows


def test_backup_of_a_missing_library_creates_nothing(tmp_path: Path) -> None:
    r = citedesk("backup", lib=tmp_path / "none.sqlite")
    assert r.returncode == 1 and r.stderr == f"citedesk: no library at {tmp_path / 'none.sqlite'}\n"
    assert list(tmp_path.iterdir()) == []


def test_backup_of_a_damaged_library_says_so(library: Path) -> None:
    library.write_bytes(b"\0" * 8192)
    r = citedesk("backup", lib=library)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "not an SQLite" in r.stderr


# -- rotation ------------------------------------------------------------------------------------


def test_rotate_makes_one_backup_a_day_and_keeps_the_newest_n(library: Path) -> None:
    day = datetime(2026, 3, 1, 9, 0)
    made = [backup_mod.rotate(library, keep=3, now=day + timedelta(days=i)) for i in range(5)]
    assert all(made)
    assert backup_mod.rotate(library, keep=3, now=day + timedelta(days=4, hours=5)) is None
    autos = backup_mod.backups(library, auto_only=True)
    assert autos == list(reversed(made[2:]))
    assert [p.name[:25] for p in autos] == [
        "library-auto-20260305-090",
        "library-auto-20260304-090",
        "library-auto-20260303-090",
    ]


def test_rotate_reads_n_from_the_library_setting_and_spares_manual_backups(library: Path) -> None:
    manual = backup_mod.backup(library)
    with Library.open(library) as lib:
        lib.set_setting(backup_mod.KEEP_SETTING, 2)
        for i in range(4):
            backup_mod.rotate(lib, now=datetime(2026, 1, 1 + i))
    assert len(backup_mod.backups(library, auto_only=True)) == 2
    assert manual.exists() and manual in backup_mod.backups(library)


def test_newest_backup_skips_unreadable_files(library: Path) -> None:
    good = backup_mod.backup(library, library.parent / "backups" / "library-20200101-000000.sqlite")
    bad = library.parent / "backups" / "library-20300101-000000.sqlite"
    bad.write_bytes(b"not a database")
    assert backup_mod.backups(library)[0] == bad
    assert backup_mod.newest_backup(library) == good


# -- restoring -----------------------------------------------------------------------------------


def test_restore_with_yes_replaces_and_keeps_the_replaced_file(library: Path) -> None:
    saved = backup_mod.backup(library)
    with Library.open(library) as lib:
        lib.set_tags(lib.require_key("wang2023qyolo"), ["after"])
    r = citedesk("restore", str(saved), "--yes", lib=library)
    assert r.returncode == 0, r.stderr
    assert tag_of(library) == ["before"]
    [kept] = [p for p in library.parent.iterdir() if ".replaced-" in p.name]
    assert kept.name.startswith("library.sqlite.replaced-")
    assert f"the replaced library is kept as {kept}" in r.stderr
    assert tag_of(kept) == ["after"]


def test_restore_without_a_terminal_or_yes_refuses(library: Path) -> None:
    saved = backup_mod.backup(library)
    with Library.open(library) as lib:
        lib.set_tags(lib.require_key("wang2023qyolo"), ["after"])
    r = citedesk("restore", str(saved), lib=library)
    assert r.returncode == 1
    assert r.stderr == (
        f"citedesk: restore would replace {library} (25 papers); confirm on a "
        "terminal or add --yes\n"
    )
    assert tag_of(library) == ["after"]


@pytest.mark.parametrize(("answer", "restored"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_restore_on_a_terminal_asks_first(library: Path, answer: str, restored: bool) -> None:
    saved = backup_mod.backup(library)
    with Library.open(library) as lib:
        lib.set_tags(lib.require_key("wang2023qyolo"), ["after"])
    main, child = pty.openpty()
    try:
        os.write(main, answer.encode())
        r = citedesk("restore", str(saved), lib=library, stdin=child)
    finally:
        os.close(child)
        os.close(main)
    assert r.returncode == (0 if restored else 1), r.stderr
    assert tag_of(library) == (["before"] if restored else ["after"])
    if not restored:
        assert "nothing restored" in r.stderr
        assert not [p for p in library.parent.iterdir() if ".replaced-" in p.name]


def test_restore_while_a_library_is_open_is_seen_by_it(library: Path) -> None:
    saved = backup_mod.backup(library)
    with Library.open(library) as lib:
        pid = lib.require_key("wang2023qyolo")
        lib.set_tags(pid, ["after"])
        version = lib.data_version()
        backup_mod.restore(saved, library)
        assert lib.data_version() != version
        assert lib.paper_tags(pid) == ["before"]
        assert lib.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_restore_rescues_a_library_that_no_longer_opens(library: Path) -> None:
    saved = backup_mod.backup(library)
    library.write_bytes(b"scribbled over" * 1000)
    with pytest.raises(LibraryDamagedError) as info:
        Library.open(library)
    assert info.value.backup == saved
    r = citedesk("restore", str(info.value.backup), "--yes", lib=library)
    assert r.returncode == 0, r.stderr
    assert tag_of(library) == ["before"]
    [kept] = [p for p in library.parent.iterdir() if ".replaced-" in p.name]
    assert kept.read_bytes() == b"scribbled over" * 1000


@pytest.mark.parametrize("kind", ["garbage", "foreign", "too_new", "missing", "itself"])
def test_restore_checks_the_backup_first(library: Path, tmp_path: Path, kind: str) -> None:
    bad = tmp_path / f"{kind}.sqlite"
    if kind == "garbage":
        bad.write_bytes(os.urandom(10_000))
    elif kind == "foreign":
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE other (x)")
        conn.commit()
        conn.close()
    elif kind == "too_new":
        backup_mod.backup(library, bad)
        conn = sqlite3.connect(bad)
        conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
        conn.close()
    elif kind == "itself":
        bad = library
    before = library.read_bytes()
    error = {"too_new": LibraryTooNewError, "missing": LibraryError, "itself": LibraryError}.get(
        kind, LibraryDamagedError
    )
    with pytest.raises(error):
        backup_mod.restore(bad, library)
    r = citedesk("restore", str(bad), "--yes", lib=library)
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1
    assert library.read_bytes() == before
    assert not [p for p in library.parent.iterdir() if ".replaced-" in p.name]


def test_restore_into_a_new_place_keeps_nothing(library: Path, tmp_path: Path) -> None:
    saved = backup_mod.backup(library)
    target = tmp_path / "fresh" / "lib.sqlite"
    target.parent.mkdir()
    assert backup_mod.restore(saved, target) is None
    assert tag_of(target) == ["before"]
