"""Group libraries under stress, on a real PostgreSQL: members editing at once converge,
and a client or server killed in the middle of a sync leaves no partial state."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from citedesk.db import GroupError, Library
from tests.groupwork import settle, shared_state

ROOT = Path(__file__).resolve().parents[2]


def server_rows(pg_server, group_url: str, table: str = "entries") -> list[tuple]:
    dbname = conninfo_to_dict(group_url)["dbname"]
    return pg_server.execute(
        f"SELECT uid, key, data, deleted, version FROM citedesk.{table} ORDER BY uid",
        dbname=dbname,
    )


def server_version(pg_server, group_url: str) -> int:
    dbname = conninfo_to_dict(group_url)["dbname"]
    return int(pg_server.execute("SELECT version FROM citedesk.counter", dbname=dbname)[0][0])


def run_child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def converge(libs: list[Library], rng: random.Random) -> int:
    """Sync and settle conflicts round after round until nothing moves; the rounds taken."""
    for rounds in range(1, 12):
        moved = 0
        for lib in libs:
            report = lib.group_sync()
            moved += report.pulled + report.pushed + report.conflicts
            settle(lib, rng)
        if moved == 0:
            return rounds
    raise AssertionError("the members did not settle in 11 rounds")


def test_three_members_editing_at_once_converge(pg_server, group_url: str, tmp_path: Path) -> None:
    """Three members make 1,000 random edits each at the same time (own processes, syncing
    every 25 edits, settling some conflicts as they go); then all hold the same library:
    the same shared state and byte-identical exports."""
    ann = Library.open(tmp_path / "m0.sqlite")
    ann.group_init(group_url)
    ann.close()
    for n in (1, 2):
        lib = Library.open(tmp_path / f"m{n}.sqlite", seed=False)
        lib.group_join(group_url)
        lib.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.groupwork",
                str(tmp_path / f"m{n}.sqlite"),
                str(n),
                "1000",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    met: dict[str, int] = {}
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        for name, count in json.loads(out.splitlines()[-1]).items():
            met[name] = met.get(name, 0) + count
    took = time.perf_counter() - started
    # The edits met each other: merges, conflicts and messages (key clashes, deletions
    # against edits) all happened, or this test would prove little.
    assert met["merged"] > 0 and met["conflicts"] > 0 and met["messages"] > 0, met
    libs = [Library.open(tmp_path / f"m{n}.sqlite") for n in range(3)]
    rounds = converge(libs, random.Random(7))
    states = [shared_state(lib) for lib in libs]
    print(
        f"\n3 x 1,000 edits in {took:.1f} s; "
        f"server version {server_version(pg_server, group_url)}; "
        f"settled in {rounds} rounds; {len(states[0])} papers; met {met}"
    )
    assert states[0] == states[1] == states[2]
    exports = [lib.export_text(order="key")[0] for lib in libs]
    assert exports[0] == exports[1] == exports[2]  # byte for byte
    assert exports[0].count("\n@") + exports[0].startswith("@") >= len(states[0])
    # And each member's bases are what the server holds.
    live = {
        uid: data
        for uid, _key, data, deleted, _v in server_rows(pg_server, group_url)
        if not deleted
    }
    for lib in libs:
        uids = {uid for (uid,) in lib.conn.execute("SELECT uid FROM papers")}
        assert uids == set(live)
        assert lib.group_status(ask_server=False).pending == 0
        lib.close()


# -- killed in the middle -------------------------------------------------------------------------

KILL_DURING_PUSH = """
    import os, signal, sys
    from citedesk.db import Library
    from citedesk.db import group

    plain = group.Group._expect

    def expect_then_die(cur, sql, rows):
        plain(cur, sql, rows)
        os.kill(os.getpid(), signal.SIGKILL)  # the server's transaction is open

    group.Group._expect = staticmethod(expect_then_die)
    lib = Library.open(sys.argv[1])
    for pid in lib.paper_ids()[:20]:
        lib.update_fields(pid, {"note": "pushed in one go"})
    lib.group_sync()
"""

KILL_AFTER_COMMIT = """
    import os, signal, sys
    from citedesk.db import Library
    from citedesk.db import group

    def die(*args):
        os.kill(os.getpid(), signal.SIGKILL)  # the server committed, we wrote nothing yet

    group.Group._record_push = die
    lib = Library.open(sys.argv[1])
    for pid in lib.paper_ids()[:20]:
        lib.update_fields(pid, {"note": "committed, not recorded"})
    lib.group_sync()
"""

KILL_DURING_PULL = """
    import os, signal, sys
    from citedesk.db import Library
    from citedesk.db import group

    plain = group.Group._put_entry
    calls = []

    def put_then_die(self, *args):
        calls.append(1)
        if len(calls) == 10:
            os.kill(os.getpid(), signal.SIGKILL)  # halfway through the local transaction
        return plain(self, *args)

    group.Group._put_entry = put_then_die
    lib = Library.open(sys.argv[1])
    lib.group_sync()
"""


def two_members(group_url: str, tmp_path: Path) -> tuple[Path, Path]:
    ann = Library.open(tmp_path / "ann.sqlite")
    ann.group_init(group_url)
    ann.close()
    ben = Library.open(tmp_path / "ben.sqlite", seed=False)
    ben.group_join(group_url)
    ben.close()
    return tmp_path / "ann.sqlite", tmp_path / "ben.sqlite"


def test_client_killed_during_a_push_leaves_the_server_as_it_was(
    pg_server, group_url: str, tmp_path: Path
) -> None:
    ann_path, ben_path = two_members(group_url, tmp_path)
    before_rows, before_version = (
        server_rows(pg_server, group_url),
        server_version(pg_server, group_url),
    )
    done = run_child(KILL_DURING_PUSH, str(ann_path))
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert server_rows(pg_server, group_url) == before_rows
    assert server_version(pg_server, group_url) == before_version
    with Library.open(ann_path) as ann:
        assert ann.group_status(ask_server=False).pending == 20
        assert ann.group_sync().pushed == 20
        assert ann.group_status(ask_server=False).pending == 0
        with Library.open(ben_path) as ben:
            assert ben.group_sync().pulled == 20
            assert shared_state(ben) == shared_state(ann)


def test_client_killed_after_the_server_committed_finishes_next_time(
    pg_server, group_url: str, tmp_path: Path
) -> None:
    ann_path, ben_path = two_members(group_url, tmp_path)
    version = server_version(pg_server, group_url)
    done = run_child(KILL_AFTER_COMMIT, str(ann_path))
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert server_version(pg_server, group_url) == version + 1  # the push landed whole
    with Library.open(ann_path) as ann:
        report = ann.group_sync()
        # Its own push comes back as agreeing: nothing sent twice, no conflict.
        assert (report.pushed, report.conflicts) == (0, 0)
        assert ann.group_status(ask_server=False).pending == 0
        assert server_version(pg_server, group_url) == version + 1
        with Library.open(ben_path) as ben:
            ben.group_sync()
            assert shared_state(ben) == shared_state(ann)


def test_client_killed_during_a_pull_keeps_its_library_whole(
    pg_server, group_url: str, tmp_path: Path
) -> None:
    ann_path, ben_path = two_members(group_url, tmp_path)
    with Library.open(ann_path) as ann:
        for pid in ann.paper_ids():
            ann.update_fields(pid, {"note": "for Ben"})
        ann.group_sync()
        expected = shared_state(ann)
    with Library.open(ben_path) as ben:
        before = shared_state(ben)
    done = run_child(KILL_DURING_PULL, str(ben_path))
    assert done.returncode == -signal.SIGKILL, done.stderr
    with Library.open(ben_path) as ben:
        assert shared_state(ben) == before  # all or nothing
        assert ben.group_sync().pulled == 25
        assert shared_state(ben) == expected


def test_server_killed_in_the_middle_of_a_sync(
    pg_server_private, tmp_path: Path, monkeypatch
) -> None:
    """The server dies while a push is under way: the push is not half there after the
    restart, the member is told, and the next sync finishes."""
    from citedesk.db import group

    pg = pg_server_private
    group_url = pg.create_database("g")
    monkeypatch.setenv("PGPASSWORD", conninfo_to_dict(group_url)["password"] or "")
    ann_path, ben_path = two_members(group_url, tmp_path)
    before_rows = server_rows(pg, group_url)
    plain = group.Group._expect

    def expect_then_kill(cur, sql, rows):
        plain(cur, sql, rows)
        pg.kill()

    with Library.open(ann_path) as ann:
        for pid in ann.paper_ids()[:15]:
            ann.update_fields(pid, {"note": "while the server died"})
        monkeypatch.setattr(group.Group, "_expect", staticmethod(expect_then_kill))
        with pytest.raises(GroupError, match="nothing was half done"):
            ann.group_sync()
        monkeypatch.setattr(group.Group, "_expect", staticmethod(plain))
        with pytest.raises(GroupError, match="cannot reach the group server"):
            ann.group_sync()
        pg.restart()
        assert server_rows(pg, group_url) == before_rows
        assert ann.group_sync().pushed == 15
        with Library.open(ben_path) as ben:
            assert ben.group_sync().pulled == 15
            assert shared_state(ben) == shared_state(ann)
