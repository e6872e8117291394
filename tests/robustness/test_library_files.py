"""Old, damaged and future library files: refused with a clear message, never overwritten.

Every damaged file is made from a real library in tmp_path; each test checks the file's
bytes are unchanged after the refusal and that the newest backup is named when one exists.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from citedesk.db import Library, LibraryDamagedError, LibraryTooNewError, schema
from citedesk.db import backup as backup_mod


def make_library(path: Path) -> Path:
    with Library.open(path) as lib:
        lib.add_tags([lib.id_for_key("wang2023qyolo")], ["keep me"])
        lib.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    page = int.from_bytes(data[16:18], "big") if len(data) >= 100 else 4096  # header field
    page = 65536 if page == 1 else page
    if how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "truncated_mid_page":
        path.write_bytes(data[: len(data) // 2 + 100])
    elif how == "header_only":
        path.write_bytes(data[:50])
    elif how == "corrupt_pages":
        # Overwrite bytes in every page after the first: SQLite opens it, reading fails.
        buf = bytearray(data)
        for i in range(page + 100, len(buf), 509):
            buf[i] ^= 0x5A
        path.write_bytes(bytes(buf))
    elif how == "one_bad_page":
        # The papers table's root page scribbled over: the schema reads fine, reading fails.
        conn = sqlite3.connect(path)
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'papers'"
        ).fetchone()
        conn.close()
        buf = bytearray(data)
        start = (root - 1) * page
        buf[start : start + page] = b"\x0d" + random.Random(3).randbytes(page - 1)
        path.write_bytes(bytes(buf))
    else:  # pragma: no cover
        raise AssertionError(how)


DAMAGE = [
    "garbage",
    "truncated",
    "truncated_mid_page",
    "header_only",
    "corrupt_pages",
    "one_bad_page",
]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_library_is_refused_and_left_untouched(lib_path: Path, how: str) -> None:
    make_library(lib_path)
    damage(lib_path, how)
    before = lib_path.read_bytes()
    with pytest.raises(LibraryDamagedError) as info:
        Library.open(lib_path)
    assert str(lib_path) in str(info.value) and "left untouched" in str(info.value)
    assert "No backup of it was found" in str(info.value) and info.value.backup is None
    assert lib_path.read_bytes() == before
    assert sorted(p.name for p in lib_path.parent.iterdir()) == [lib_path.name]


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_library_names_the_newest_backup(lib_path: Path, how: str) -> None:
    make_library(lib_path)
    older = backup_mod.backup(lib_path)
    newer = backup_mod.backup(lib_path)
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    damage(lib_path, how)
    with pytest.raises(LibraryDamagedError) as info:
        Library.open(lib_path)
    assert info.value.backup == newer
    assert (
        f"The newest backup is {newer}; restore it with: citedesk --library {lib_path} "
        f"restore {newer}" in str(info.value)
    )


def test_emptied_library_with_a_backup_is_not_seeded_again(lib_path: Path) -> None:
    make_library(lib_path)
    saved = backup_mod.backup(lib_path)
    for side in ("-wal", "-shm"):
        Path(f"{lib_path}{side}").unlink(missing_ok=True)
    lib_path.write_bytes(b"")
    with pytest.raises(LibraryDamagedError, match="is empty") as info:
        Library.open(lib_path)
    assert info.value.backup == saved and lib_path.read_bytes() == b""


def test_sqlite_file_of_another_program_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "places.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE moz_places (url TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(LibraryDamagedError, match="another program"):
        Library.open(other)
    assert other.read_bytes() == before


def test_newer_library_is_refused_by_the_command_and_kept(lib_path: Path) -> None:
    make_library(lib_path)
    conn = sqlite3.connect(lib_path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    before = lib_path.read_bytes()
    r = subprocess.run(
        [sys.executable, "-m", "citedesk", "--library", str(lib_path), "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"citedesk: {lib_path} was written by a newer Citedesk")
    assert lib_path.read_bytes() == before
    with pytest.raises(LibraryTooNewError):
        Library.open(lib_path)


@pytest.mark.parametrize("how", ["garbage", "truncated", "corrupt_pages"])
def test_damaged_library_on_the_command_line_is_one_line(lib_path: Path, how: str) -> None:
    make_library(lib_path)
    saved = backup_mod.backup(lib_path)
    damage(lib_path, how)
    r = subprocess.run(
        [sys.executable, "-m", "citedesk", "--library", str(lib_path), "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    [line] = r.stderr.splitlines()
    assert line.startswith(f"citedesk: {lib_path} ") and f"restore {saved}" in line


def test_damage_found_only_while_reading_is_reported_without_traceback(tmp_path: Path) -> None:
    """A large library is not fully checked on open; damage met later is still one line."""
    lib_path = make_library(tmp_path / "lib.sqlite")
    saved = backup_mod.backup(lib_path)
    damage(lib_path, "one_bad_page")
    code = (
        "import sys; import citedesk.db.store as b; b.QUICK_CHECK_MAX_BYTES = 0; "
        "from citedesk.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, "--library", str(lib_path), "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in r.stderr and r.returncode == 1
    [line] = r.stderr.splitlines()
    assert "is damaged" in line and str(saved) in line


def test_migration_writes_a_backup_beside_the_library_first(
    lib_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_library(lib_path)
    old_version = schema.SCHEMA_VERSION
    monkeypatch.setattr(
        schema, "MIGRATIONS", [*schema.MIGRATIONS, "ALTER TABLE papers ADD COLUMN test_extra TEXT;"]
    )
    monkeypatch.setattr(schema, "SCHEMA_VERSION", old_version + 1)
    with Library.open(lib_path) as lib:
        assert lib.count() == 25
        assert lib.paper_tags(lib.id_for_key("wang2023qyolo")) == ["keep me"]
        assert lib.conn.execute("PRAGMA user_version").fetchone()[0] == old_version + 1
        columns = [r[1] for r in lib.conn.execute("PRAGMA table_info(papers)")]
        assert "test_extra" in columns
    [bak] = [p for p in lib_path.parent.iterdir() if p.name.endswith(".bak")]
    assert bak.name.startswith(f"{lib_path.name}.v{old_version}-")
    assert backup_mod.check_library(bak) == (old_version, 25)
    assert backup_mod.newest_backup(lib_path) == bak


def test_failed_migration_leaves_the_library_as_it_was(
    lib_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_library(lib_path)
    old_version = schema.SCHEMA_VERSION
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        [*schema.MIGRATIONS, "ALTER TABLE papers ADD COLUMN half TEXT; THIS IS NOT SQL;"],
    )
    monkeypatch.setattr(schema, "SCHEMA_VERSION", old_version + 1)
    with pytest.raises(LibraryDamagedError):
        Library.open(lib_path)
    monkeypatch.undo()
    with Library.open(lib_path) as lib:
        assert lib.conn.execute("PRAGMA user_version").fetchone()[0] == old_version
        assert "half" not in [r[1] for r in lib.conn.execute("PRAGMA table_info(papers)")]
        assert lib.count() == 25


def test_check_on_open_is_fast_for_a_seeded_library(lib_path: Path) -> None:
    make_library(lib_path)
    started = time.perf_counter()
    for _ in range(10):
        Library.open(lib_path).close()
    assert (time.perf_counter() - started) / 10 < 0.25
