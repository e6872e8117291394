"""Crashes and concurrency with real processes: SIGKILL mid-import and mid-export, two writers.

Waiting here is always for a subprocess's state (a progress line, a temporary file, a line
saying it holds the lock), polled, never a fixed sleep.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from citedesk.db import Library

WORDS = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
    "rho sigma tau upsilon phi chi psi omega"
).split()


def write_big_bib(path: Path, n: int = 20_000, prefix: str = "gen") -> Path:
    rng = random.Random(n)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            abstract = " ".join(rng.choice(WORDS) for _ in range(30))
            fh.write(
                f'@article{{{prefix}{i},\n  author = {{M{{\\"u}}ller, J{{\\"o}}rg and '
                f"Smith, Ann}},\n  title = {{Generated paper {i} on {rng.choice(WORDS)}}},\n"
                f"  journal = {{Journal of {rng.choice(WORDS)}}},\n  year = {1990 + i % 30},"
                f"\n  abstract = {{{abstract}}},\n}}\n\n"
            )
    return path


def snapshot(path: Path) -> dict[str, Any]:
    """Everything a person would miss: each paper's BibTeX, tags, notes and status."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        papers = conn.execute(
            "SELECT key, fields, source, tags, status FROM papers ORDER BY key"
        ).fetchall()
        notes = conn.execute("SELECT paper_id, body FROM notes ORDER BY id").fetchall()
        blocks = conn.execute("SELECT kind, source FROM blocks ORDER BY id").fetchall()
        fts = conn.execute("SELECT count(*) FROM papers_fts").fetchone()[0]
    finally:
        conn.close()
    return {"papers": papers, "notes": notes, "blocks": blocks, "fts": fts}


def personal_library(path: Path) -> Path:
    with Library.open(path) as lib:
        ids = lib.paper_ids()
        lib.add_tags(ids[:3], ["precious"])
        lib.add_note(ids[0], "notes I must not lose")
        lib.set_status(ids[:2], "read")
    return path


def wait_for(predicate: Any, proc: subprocess.Popen[Any], timeout: float = 60) -> bool:
    """Poll until ``predicate()`` or the process ends; True when the predicate held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return bool(predicate())
        time.sleep(0.001)
    raise AssertionError("timed out waiting for the subprocess")


def start(args: list[str], **kw: Any) -> subprocess.Popen[Any]:
    # Its own process group: the kill takes the import's worker processes with it, as a
    # crash of the program would.
    return subprocess.Popen([sys.executable, "-m", "citedesk", *args], start_new_session=True, **kw)


def kill(proc: subprocess.Popen[Any]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def big_bib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_big_bib(tmp_path_factory.mktemp("big") / "big.bib")


def test_sigkill_mid_import_leaves_the_library_as_it_was(tmp_path: Path, big_bib: Path) -> None:
    lib = personal_library(tmp_path / "lib.sqlite")
    before = snapshot(lib)
    proc = start(
        ["--library", str(lib), "import", "--progress", str(big_bib)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the first chunk is in, the transaction still open
    assert line.startswith("progress: ") and not line.startswith("progress: 6"), line
    kill(proc)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(lib) == before
    with Library.open(lib) as again:  # and it opens, and works, as ever
        assert again.count() == 25
        assert again.import_text("@misc{after_crash, title = {Works}}").added == ["after_crash"]


def test_sigkill_during_commit_leaves_old_or_new_never_half(tmp_path: Path, big_bib: Path) -> None:
    """Killed when the last progress line is out: while committing, or just after."""
    lib = personal_library(tmp_path / "lib.sqlite")
    before = snapshot(lib)
    proc = start(
        ["--library", str(lib), "import", "--progress", str(big_bib)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    size = big_bib.stat().st_size
    for line in proc.stderr:
        if line.startswith(f"progress: {size}/"):
            break
    kill(proc)
    proc.stderr.close()
    after = snapshot(lib)
    assert after == before or len(after["papers"]) == 20_025
    if after != before:
        assert after["notes"] == before["notes"] and after["fts"] == 20_025


@pytest.fixture(scope="module")
def big_library(tmp_path_factory: pytest.TempPathFactory, big_bib: Path) -> Path:
    path = tmp_path_factory.mktemp("biglib") / "lib.sqlite"
    with Library.open(path) as lib:
        assert lib.import_files([big_bib]).ok
    return path


def test_export_file_is_old_or_new_even_when_killed(tmp_path: Path, big_library: Path) -> None:
    out = tmp_path / "refs.bib"
    old = b"% the previous export, which must survive\n@misc{old, title = {Old}}\n"
    out.write_bytes(old)
    with Library.open(big_library) as lib:
        new = lib.export_text()[0].encode()
    killed_mid_write = False
    for _ in range(3):  # the write lasts a moment: try to catch it, check every state seen
        proc = start(
            ["--library", str(big_library), "export", "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def temp_file_there() -> bool:
            content = out.read_bytes()
            assert content in (old, new), f"partial export seen ({len(content)} bytes)"
            return any(p.name.startswith(".refs.bib.") for p in tmp_path.iterdir())

        killed_mid_write = wait_for(temp_file_there, proc)
        kill(proc)
        assert out.read_bytes() in (old, new)
        if killed_mid_write:
            assert out.read_bytes() == old
            break
        assert out.read_bytes() == new
        out.write_bytes(old)
    # The temporary file a killed export leaves is hidden and never mistaken for the export.
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["refs.bib"]


WRITER = """
import sys
from citedesk.db import Library
path, name, go = sys.argv[1], sys.argv[2], sys.argv[3]
lib = Library.open(path)
pid = lib.require_key("wang2023qyolo")
other = lib.require_key("vaswani2017attention") if lib.id_for_key("vaswani2017attention") \\
    else lib.paper_ids()[-1]
print("ready", flush=True)
while not __import__("os").path.exists(go):
    pass
for i in range(200):
    lib.add_tags([pid], [f"{name}-{i}"])
    lib.set_status([other], ("read", "reading", "unread")[i % 3])
lib.close()
print("done", flush=True)
"""


def test_two_processes_writing_at_once_both_succeed(tmp_path: Path) -> None:
    lib = personal_library(tmp_path / "lib.sqlite")
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(lib), name, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("one", "two")
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    go.touch()
    results = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0 and "locked" not in err and out == "done\n", err
    with Library.open(lib) as after:
        tags = after.paper_tags(after.require_key("wang2023qyolo"))
        assert len([t for t in tags if t.startswith(("one-", "two-"))]) == 400
        assert after.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


HOLDER = """
import sys, time
from citedesk.db import Library
lib = Library.open(sys.argv[1])
with lib._write():  # a long write, as a big import in the window would hold
    lib.conn.execute("UPDATE papers SET rating = 5 WHERE key = 'wang2023qyolo'")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", flush=True)
lib.close()
"""


def test_command_line_waits_for_another_process_instead_of_failing(tmp_path: Path) -> None:
    lib = personal_library(tmp_path / "lib.sqlite")
    small = tmp_path / "small.bib"
    small.write_text("@misc{fresh2024, title = {Fresh}, year = 2024}\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lib), "1.5"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    commands = [
        ["tag", "wang2023qyolo", "while-busy"],
        ["status", "wang2023qyolo", "reading"],
        ["import", str(small)],
        ["note", "wang2023qyolo", "written while busy"],
    ]
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "citedesk", "--library", str(lib), *c],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in commands
    ]
    for proc in running:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "locked" not in err and "busy" not in err, err
    out, _ = holder.communicate(timeout=30)
    assert holder.returncode == 0 and out == "released\n"
    with Library.open(lib) as after:
        p = after.paper_by_key("wang2023qyolo")
        assert "while-busy" in p.tags and p.status == "reading" and p.rating == 5
        assert p.notes[-1].body == "written while busy"
        assert after.id_for_key("fresh2024") is not None
