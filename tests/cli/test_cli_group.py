"""``citedesk group ...`` against a real PostgreSQL the tests start (tests/pgfixtures.py),
as a real subprocess; and ``citedesk export --sort key``, which makes two members'
exports of one group the same bytes."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from citedesk.db import Library, Query

ADMIN = "citedesk_admin"


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """The environment every command runs in: none of the caller's PG* settings, and a
    home of the test's own, so no one's real ~/.pgpass answers for the server."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = str(home)
    return env


def citedesk(
    *args: str, lib: Path | None, env: dict[str, str], extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "citedesk"]
    if lib is not None:
        argv += ["--library", str(lib)]
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, env={**env, **(extra or {})}, timeout=120
    )


class Server:
    """The test's database as URLs: with the admin's password (typed), and without it."""

    def __init__(self, pg_url: str) -> None:
        d = conninfo_to_dict(pg_url)
        self.host, self.port, self.dbname = str(d["host"]), str(d["port"]), str(d["dbname"])
        self.password = str(d["password"])
        self.typed = pg_url
        self.plain = self.url(ADMIN)

    def url(self, user: str) -> str:
        return f"postgresql://{user}@{self.host}:{self.port}/{self.dbname}"

    def pgpass(self, folder: Path, *lines: tuple[str, str]) -> dict[str, str]:
        """A .pgpass (mode 0600) with (user, password) lines; the env that points to it."""
        path = folder / f"pgpass-{uuid.uuid4().hex[:8]}"
        path.write_text(
            "".join(f"{self.host}:{self.port}:{self.dbname}:{u}:{p}\n" for u, p in lines)
        )
        path.chmod(0o600)
        return {"PGPASSFILE": str(path)}


@pytest.fixture
def server(pg_url: str) -> Server:
    return Server(pg_url)


@pytest.fixture
def owner_pass(server: Server, tmp_path: Path) -> dict[str, str]:
    """Where the owner's later commands find the admin's password: a .pgpass file."""
    return server.pgpass(tmp_path, (ADMIN, server.password))


@pytest.fixture
def members(
    server: Server, tmp_path: Path, base_env: dict[str, str], owner_pass: dict[str, str]
) -> tuple[Path, Path]:
    """Ann made the group from her seeded library, Ben joined it (both as the admin)."""
    ann, ben = tmp_path / "ann.sqlite", tmp_path / "ben.sqlite"
    made = citedesk("group", "init", server.plain, lib=ann, env=base_env, extra=owner_pass)
    assert made.returncode == 0, made.stderr
    joined = citedesk("group", "join", server.plain, lib=ben, env=base_env, extra=owner_pass)
    assert joined.returncode == 0, joined.stderr
    return ann, ben


def keys_of(lib: Path, tag: str | None = None) -> list[str]:
    """The library's keys (with this tag), read in this process: quicker than a command."""
    assert lib.exists()
    with Library.open(lib) as library:
        return sorted(library.paper(pid).key for pid in library.paper_ids(Query(tag=tag)))


def settings(lib: Path) -> dict[str, object]:
    """The library's settings table as stored (each value is JSON)."""
    conn = sqlite3.connect(lib)
    try:
        return {str(n): json.loads(v) for n, v in conn.execute("SELECT name, value FROM settings")}
    finally:
        conn.close()


def dump(lib: Path) -> str:
    conn = sqlite3.connect(lib)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def set_fields(lib: Path, key: str, values: dict[str, str]) -> None:
    """An edit made in the window (the command line edits no fields)."""
    with Library.open(lib) as library:
        library.update_fields(library.require_key(key), values)


def field(lib: Path, key: str, name: str) -> str:
    with Library.open(lib) as library:
        return dict(library.paper(library.require_key(key)).fields)[name]


def closed_port() -> int:
    """A loopback port nothing listens on (just freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- export --sort key, without any group ---------------------------------------------------------


def test_export_sort_key_orders_entries_by_key_ignoring_case(
    tmp_path: Path, base_env: dict[str, str]
) -> None:
    bib = tmp_path / "in.bib"
    bib.write_text(
        '@preamble{"\\newcommand{\\noop}[1]{}"}\n\n@string{jn = {Journal of Notes}}\n\n'
        "@article{Zeta2020, title = {Z}, journal = jn, year = 2020}\n\n"
        "% a comment between entries\n\n"
        "@article{alpha2021, title = {A}, journal = jn, year = 2021}\n\n"
        "@article{Beta2019, title = {B}, year = 2019}\n"
    )
    lib = tmp_path / "lib.sqlite"
    assert citedesk("--empty", "import", str(bib), lib=lib, env=base_env).returncode == 0
    default = citedesk("export", lib=lib, env=base_env)
    assert default.returncode == 0, default.stderr
    assert default.stdout == bib.read_text()  # the library's own order and text, unchanged
    r = citedesk("export", "--sort", "key", lib=lib, env=base_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        '@preamble{"\\newcommand{\\noop}[1]{}"}\n\n@string{jn = {Journal of Notes}}\n\n'
        "@article{alpha2021, title = {A}, journal = jn, year = 2021}\n\n"
        "@article{Beta2019, title = {B}, year = 2019}\n\n"
        "@article{Zeta2020, title = {Z}, journal = jn, year = 2020}\n"
    )
    # A selection too, and the other formats.
    picked = ["--key", "Zeta2020", "--key", "Beta2019"]
    some = citedesk("export", "--sort", "key", *picked, lib=lib, env=base_env)
    assert some.stdout == (
        '@preamble{"\\newcommand{\\noop}[1]{}"}\n\n@string{jn = {Journal of Notes}}\n\n'
        "@article{Beta2019, title = {B}, year = 2019}\n\n"
        "@article{Zeta2020, title = {Z}, journal = jn, year = 2020}\n"
    )
    csl = citedesk("export", "--sort", "key", "--format", "csl-json", lib=lib, env=base_env)
    assert [item["id"] for item in json.loads(csl.stdout)] == ["alpha2021", "Beta2019", "Zeta2020"]


def test_export_order_in_db_refuses_an_unknown_order(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib.sqlite") as lib:
        text, n = lib.exports.export_text(order="key")
        keys = [line[6:].split(",")[0] for line in text.splitlines() if line.startswith("@misc{")]
        assert n == len(keys) == 25
        assert keys == sorted(keys, key=str.lower)
        assert lib.exports.export_text(order="library") == lib.export_text()
        with pytest.raises(ValueError, match="unknown export order"):
            lib.exports.export_text(order="year")


# -- init, join, sync ---------------------------------------------------------------------------


def test_init_then_join_gives_the_same_papers_and_the_same_sorted_export(
    server: Server, tmp_path: Path, base_env: dict[str, str]
) -> None:
    ann, ben = tmp_path / "ann.sqlite", tmp_path / "ben.sqlite"
    # The password typed in the URL is all the commands have: no PGPASSWORD, no .pgpass.
    made = citedesk("group", "init", server.typed, lib=ann, env=base_env)
    assert made.returncode == 0, made.stderr
    assert "synced to version 1: 0 in, 25 out" in made.stdout
    joined = citedesk("group", "join", server.typed, lib=ben, env=base_env)
    assert joined.returncode == 0, joined.stderr
    assert f"25 papers in {ben}" in joined.stdout
    for r in (made, joined):
        (warning,) = r.stderr.splitlines()
        assert "password in the URL was used for this command only and not stored" in warning
        assert f"{server.host}:{server.port}:{server.dbname}:{ADMIN}:PASSWORD" in warning
        assert "host:port:dbname:user:password" in warning and ".pgpass" in warning
        assert server.password not in r.stdout + r.stderr
    assert keys_of(ben) == keys_of(ann)
    assert len(keys_of(ben)) == 25  # the group's, no seeds of its own
    exports = [
        citedesk("export", "--sort", "key", lib=lib, env=base_env).stdout for lib in (ann, ben)
    ]
    assert exports[0] == exports[1] and exports[0].count("@misc{") == 25
    # Nothing of the password in either library: the settings name the server without it.
    for lib in (ann, ben):
        stored = settings(lib)
        assert conninfo_to_dict(str(stored["group_url"])) == conninfo_to_dict(server.plain)
        assert server.password not in dump(lib)


def test_members_with_different_file_layouts_export_the_same_bytes(
    members: tuple[Path, Path],
    server: Server,
    tmp_path: Path,
    base_env: dict[str, str],
    owner_pass: dict[str, str],
) -> None:
    """Ann's papers came from files (comments, blank lines, macros of their own), Ben's
    from the group: sorted by key, their exports are the same file."""
    ann, ben = members
    bib = tmp_path / "more.bib"
    bib.write_text(
        "% Ann's own file\n@string{jn = {Journal of Notes}}\n\n"
        "@article{Zulu2020, title = {Z}, journal = jn, year = 2020}\n"
        "@comment{jabref-meta: databaseType:bibtex;}\n\n\n"
        "@article{alpha2021,\n    title = {A},\n    journal = jn # { (2)},\n    year = 2021\n}\n"
    )
    assert citedesk("import", str(bib), lib=ann, env=base_env).returncode == 0
    assert citedesk("group", "sync", lib=ann, env=base_env, extra=owner_pass).returncode == 0
    assert citedesk("group", "sync", lib=ben, env=base_env, extra=owner_pass).returncode == 0
    plain = [citedesk("export", lib=lib, env=base_env).stdout for lib in (ann, ben)]
    assert plain[0] != plain[1]  # the layouts differ
    exports = [
        citedesk("export", "--sort", "key", lib=lib, env=base_env).stdout for lib in (ann, ben)
    ]
    assert exports[0] == exports[1]
    assert exports[0].startswith("@string{jn = {Journal of Notes}}\n\n@article{alpha2021,")
    assert exports[0].count("@article{") + exports[0].count("@misc{") == 27


def test_later_syncs_read_the_password_from_pgpassfile(
    server: Server, tmp_path: Path, base_env: dict[str, str]
) -> None:
    ann = tmp_path / "ann.sqlite"
    assert citedesk("group", "init", server.typed, lib=ann, env=base_env).returncode == 0
    without = citedesk("group", "sync", lib=ann, env=base_env)
    assert without.returncode == 1
    (line,) = without.stderr.splitlines()
    assert "cannot reach the group server" in line and "~/.pgpass" in line
    pgpass = server.pgpass(tmp_path, (ADMIN, server.password))
    r = citedesk("group", "sync", lib=ann, env=base_env, extra=pgpass)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "synced to version 1: 0 in, 0 out" and r.stderr == ""


def test_sync_carries_changes_both_ways(
    members: tuple[Path, Path], base_env: dict[str, str], owner_pass: dict[str, str]
) -> None:
    ann, ben = members
    key = keys_of(ann)[0]
    assert citedesk("tag", key, "from-ann", lib=ann, env=base_env).returncode == 0
    shared = citedesk("note", key, "for everyone", "--share", lib=ann, env=base_env)
    assert shared.returncode == 0, shared.stderr
    assert "'citedesk group sync' sends it" in shared.stderr
    assert citedesk("note", key, "my own", lib=ann, env=base_env).returncode == 0
    out = citedesk("group", "sync", lib=ann, env=base_env, extra=owner_pass)
    assert (out.returncode, out.stdout.strip()) == (0, "synced to version 2: 0 in, 2 out")
    got = citedesk("group", "sync", "--json", lib=ben, env=base_env, extra=owner_pass)
    assert got.returncode == 0, got.stderr
    report = json.loads(got.stdout)
    assert (report["pulled"], report["pushed"], report["version"]) == (2, 0, 2)
    assert report["summary"] == "synced to version 2: 2 in, 0 out"
    assert keys_of(ben, "from-ann") == [key]
    notes = citedesk("note", key, lib=ben, env=base_env).stdout
    assert "for everyone" in notes and "shared with the group" in notes and "my own" not in notes
    # And back.
    assert citedesk("tag", key, "from-ben", lib=ben, env=base_env).returncode == 0
    pulled = citedesk("group", "sync", "--pull-only", lib=ben, env=base_env, extra=owner_pass)
    assert pulled.stdout.strip() == "synced to version 2: 0 in, 0 out"
    assert citedesk("group", "sync", lib=ben, env=base_env, extra=owner_pass).returncode == 0
    back = citedesk("group", "sync", lib=ann, env=base_env, extra=owner_pass)
    assert back.stdout.strip() == "synced to version 3: 1 in, 0 out"
    assert keys_of(ann, "from-ben") == [key]
    ann_export = citedesk("export", "--sort", "key", lib=ann, env=base_env).stdout
    assert ann_export == citedesk("export", "--sort", "key", lib=ben, env=base_env).stdout


def test_status_shows_the_group_without_any_password(
    members: tuple[Path, Path], server: Server, base_env: dict[str, str], owner_pass: dict[str, str]
) -> None:
    ann, _ = members
    r = citedesk("group", "status", lib=ann, env=base_env, extra=owner_pass)
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(":", 1) for line in r.stdout.splitlines())
    assert lines["server"].strip() == f"{ADMIN}@{server.host}:{server.port}/{server.dbname}"
    assert lines["group"].strip() == settings(ann)["group_id"]
    assert lines["seen"].strip() == "version 1"
    assert lines["latest"].strip() == "1"
    assert lines["pending"].strip().startswith("0 ")
    assert (lines["conflicts"].strip(), lines["writable"].strip()) == ("0", "yes")
    key = keys_of(ann)[3]
    assert citedesk("tag", key, "new", lib=ann, env=base_env).returncode == 0
    js = citedesk("group", "status", "--json", lib=ann, env=base_env, extra=owner_pass)
    record = json.loads(js.stdout)
    assert {k: record[k] for k in ("seen", "latest", "pending", "conflicts", "writable")} == {
        "seen": 1,
        "latest": 1,
        "pending": 1,
        "conflicts": 0,
        "writable": True,
    }
    assert record["problem"] is None and record["group"] == settings(ann)["group_id"]
    offline = citedesk("group", "status", "--offline", lib=ann, env=base_env)
    assert offline.returncode == 0 and "latest:    (not asked)" in offline.stdout
    for out in (r, js, offline):
        assert server.password not in out.stdout + out.stderr
    assert server.password not in dump(ann)


def test_status_says_when_the_server_cannot_be_asked(
    members: tuple[Path, Path], base_env: dict[str, str]
) -> None:
    ann, _ = members
    r = citedesk("group", "status", lib=ann, env=base_env)  # no password anywhere
    assert r.returncode == 1
    assert "pending:   0" in r.stdout and "(unknown: the server did not answer)" in r.stdout
    (line,) = r.stderr.splitlines()
    assert line.startswith("citedesk: group status: cannot reach the group server")


# -- conflicts ----------------------------------------------------------------------------------


def test_conflicts_are_listed_and_resolved(
    members: tuple[Path, Path], base_env: dict[str, str], owner_pass: dict[str, str]
) -> None:
    ann, ben = members
    key = keys_of(ann)[0]
    # (Not the year: the date moves with it, and would be a third conflict.)
    set_fields(ann, key, {"title": "Ann's title", "note": "Ann's note"})
    set_fields(ben, key, {"title": "Ben's title", "note": "Ben's note"})
    assert citedesk("group", "sync", lib=ann, env=base_env, extra=owner_pass).returncode == 0
    r = citedesk("group", "sync", lib=ben, env=base_env, extra=owner_pass)
    assert r.returncode == 0, r.stderr
    assert "2 to choose" in r.stdout
    assert "2 parts changed here and in the group wait for your choice" in r.stderr
    listed = citedesk("group", "conflicts", lib=ben, env=base_env)
    assert listed.returncode == 0
    assert "  mine:   {Ben's title}" in listed.stdout
    assert "  theirs: {Ann's title}" in listed.stdout
    conflicts = json.loads(citedesk("group", "conflicts", "--json", lib=ben, env=base_env).stdout)
    assert sorted((c["key"], c["part"], c["mine"], c["theirs"]) for c in conflicts) == [
        (key, "note", "{Ben's note}", "{Ann's note}"),
        (key, "title", "{Ben's title}", "{Ann's title}"),
    ]
    title = next(c for c in conflicts if c["part"] == "title")
    done = citedesk("group", "resolve", str(title["id"]), "theirs", lib=ben, env=base_env)
    assert done.returncode == 0, done.stderr
    assert f"kept theirs for title of {key}" in done.stderr
    assert field(ben, key, "title") == "{Ann's title}"
    again = citedesk("group", "resolve", str(title["id"]), "mine", lib=ben, env=base_env)
    assert again.returncode == 1 and "no conflict" in again.stderr
    rest = citedesk("group", "resolve", "--all", "mine", lib=ben, env=base_env)
    assert rest.returncode == 0 and f"kept mine for note of {key}" in rest.stderr
    assert json.loads(citedesk("group", "conflicts", "--json", lib=ben, env=base_env).stdout) == []
    assert citedesk("group", "sync", lib=ben, env=base_env, extra=owner_pass).returncode == 0
    assert citedesk("group", "sync", lib=ann, env=base_env, extra=owner_pass).returncode == 0
    for lib in (ann, ben):
        assert (field(lib, key, "title"), field(lib, key, "note")) == (
            "{Ann's title}",
            "{Ben's note}",
        )


def test_resolve_wants_an_id_and_a_side(members: tuple[Path, Path], base_env) -> None:
    _, ben = members
    for args in ([], ["3"], ["3", "mine", "--all", "mine"]):
        r = citedesk("group", "resolve", *args, lib=ben, env=base_env)
        assert r.returncode == 2, args


# -- read-only members --------------------------------------------------------------------------


def test_a_read_only_members_changes_are_refused_and_kept(
    members: tuple[Path, Path],
    pg_server,
    server: Server,
    tmp_path: Path,
    base_env: dict[str, str],
    owner_pass: dict[str, str],
) -> None:
    ann, _ = members
    role = f"reader_{uuid.uuid4().hex[:10]}"
    pg_server.create_role(role, "reader-pw")
    granted = citedesk(
        "group", "grant", role, "--read-only", lib=ann, env=base_env, extra=owner_pass
    )
    assert granted.returncode == 0, granted.stderr
    assert f"{role} may read the group" in granted.stderr
    rita = tmp_path / "rita.sqlite"
    rita_pass = server.pgpass(tmp_path, (role, "reader-pw"))
    joined = citedesk("group", "join", server.url(role), lib=rita, env=base_env, extra=rita_pass)
    assert joined.returncode == 0, joined.stderr
    key = keys_of(rita)[0]
    assert citedesk("tag", key, "mine-only", lib=rita, env=base_env).returncode == 0
    r = citedesk("group", "sync", lib=rita, env=base_env, extra=rita_pass)
    assert r.returncode == 3
    assert "kept here (read-only)" in r.stdout
    (line,) = r.stderr.splitlines()
    assert "you may read this group but not change it" in line
    assert "1 change(s) are kept in this library" in line
    assert keys_of(rita, "mine-only") == [key]
    status = json.loads(
        citedesk("group", "status", "--json", lib=rita, env=base_env, extra=rita_pass).stdout
    )
    assert (status["pending"], status["writable"]) == (1, False)
    js = citedesk("group", "sync", "--json", lib=rita, env=base_env, extra=rita_pass)
    assert js.returncode == 3 and json.loads(js.stdout)["kept_back"] == 1
    assert "may read this group but not change it" in js.stderr
    # She still hears of the others' changes.
    set_fields(ann, key, {"year": "1999"})
    assert citedesk("group", "sync", lib=ann, env=base_env, extra=owner_pass).returncode == 0
    assert citedesk("group", "sync", lib=rita, env=base_env, extra=rita_pass).returncode == 3
    assert field(rita, key, "year") == "{1999}"
    # Made a writer, her change goes out.
    writer = citedesk("group", "grant", role, lib=ann, env=base_env, extra=owner_pass)
    assert writer.returncode == 0 and f"{role} may read and change the group" in writer.stderr
    out = citedesk("group", "sync", lib=rita, env=base_env, extra=rita_pass)
    assert (out.returncode, out.stderr) == (0, "")
    assert "1 out" in out.stdout
    citedesk("group", "sync", lib=ann, env=base_env, extra=owner_pass)
    assert keys_of(ann, "mine-only") == [key]


def test_grant_needs_a_server(tmp_path: Path, base_env: dict[str, str]) -> None:
    r = citedesk("group", "grant", "someone", lib=tmp_path / "solo.sqlite", env=base_env)
    assert r.returncode == 2 and "is in no group" in r.stderr


# -- refusals and failures ----------------------------------------------------------------------


def test_join_into_a_library_with_papers_is_refused(
    members: tuple[Path, Path],
    server: Server,
    tmp_path: Path,
    base_env: dict[str, str],
    owner_pass: dict[str, str],
) -> None:
    ann, _ = members
    seeded = tmp_path / "seeded.sqlite"
    assert citedesk("list", lib=seeded, env=base_env).returncode == 0
    r = citedesk("group", "join", server.plain, lib=seeded, env=base_env, extra=owner_pass)
    assert r.returncode == 1
    (line,) = r.stderr.splitlines()
    assert "already holds papers" in line and "group join URL" in line
    assert seeded.exists() and len(keys_of(seeded)) == 25
    assert "group_url" not in settings(seeded)
    again = citedesk("group", "join", server.plain, lib=ann, env=base_env, extra=owner_pass)
    assert again.returncode == 1 and "already in a group" in again.stderr


def test_a_failed_join_leaves_no_library_behind(
    server: Server, tmp_path: Path, base_env: dict[str, str], owner_pass: dict[str, str]
) -> None:
    new = tmp_path / "new.sqlite"
    # A server without a group, then no server at all.
    r = citedesk("group", "join", server.plain, lib=new, env=base_env, extra=owner_pass)
    assert r.returncode == 1 and "holds no Citedesk group" in r.stderr
    closed = f"postgresql://nobody@127.0.0.1:{closed_port()}/nothing"
    r2 = citedesk("group", "join", closed, lib=new, env=base_env)
    assert r2.returncode == 1 and len(r2.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("new")) == []
    # A file that was there stays (empty, and in no group).
    empty = tmp_path / "empty.sqlite"
    assert citedesk("--empty", "list", lib=empty, env=base_env).returncode == 0
    r3 = citedesk("group", "join", closed, lib=empty, env=base_env)
    assert r3.returncode == 1 and empty.exists() and "group_url" not in settings(empty)


def test_sync_of_a_library_in_no_group(tmp_path: Path, base_env: dict[str, str]) -> None:
    lib = tmp_path / "solo.sqlite"
    for args in (["sync"], ["status"]):
        r = citedesk("group", *args, lib=lib, env=base_env)
        assert r.returncode == 1
        (line,) = r.stderr.splitlines()
        assert "is not in a group" in line and "citedesk group init URL" in line


def test_an_unreachable_server_is_one_line_and_changes_nothing(
    members: tuple[Path, Path], tmp_path: Path, base_env: dict[str, str]
) -> None:
    ann, _ = members
    closed = f"postgresql://nobody@127.0.0.1:{closed_port()}/nothing"
    solo = tmp_path / "solo.sqlite"
    assert citedesk("list", lib=solo, env=base_env).returncode == 0
    before = dump(solo)
    r = citedesk("group", "init", closed, lib=solo, env=base_env)
    assert r.returncode == 1
    (line,) = r.stderr.splitlines()
    assert line.startswith("citedesk: cannot make a group on nobody@127.0.0.1:") or line.startswith(
        "citedesk: cannot reach the group server nobody@127.0.0.1:"
    )
    assert dump(solo) == before
    # A member whose server is away: the sync says so and the library stays as it was.
    key = keys_of(ann)[0]
    assert citedesk("tag", key, "offline-edit", lib=ann, env=base_env).returncode == 0
    before = dump(ann)
    s = citedesk("group", "sync", "--url", closed, lib=ann, env=base_env)
    assert s.returncode == 1
    (line,) = s.stderr.splitlines()
    assert "cannot reach the group server nobody@127.0.0.1:" in line
    assert s.stdout == "" and dump(ann) == before
    status = json.loads(
        citedesk("group", "status", "--json", "--offline", lib=ann, env=base_env).stdout
    )
    assert (status["pending"], status["seen"]) == (1, 1)


# -- notes --------------------------------------------------------------------------------------


def test_note_share_picks_the_note(tmp_path: Path, base_env: dict[str, str]) -> None:
    lib = tmp_path / "lib.sqlite"
    Library.open(lib).close()
    key = keys_of(lib)[0]
    assert citedesk("note", key, "first", lib=lib, env=base_env).returncode == 0
    r = citedesk("note", key, "--share", lib=lib, env=base_env)
    assert r.returncode == 0, r.stderr
    assert "this library is in no group yet" in r.stderr
    assert "shared with the group" in citedesk("note", key, lib=lib, env=base_env).stdout
    assert citedesk("note", key, "second", lib=lib, env=base_env).returncode == 0
    which = citedesk("note", key, "--share", lib=lib, env=base_env)
    assert which.returncode == 2 and "has 2 notes: say which" in which.stderr
    with Library.open(lib) as library:
        first, second = library.notes(library.require_key(key))
    assert citedesk("note", key, "--unshare", str(first.id), lib=lib, env=base_env).returncode == 0
    assert citedesk("note", key, "--share", str(second.id), lib=lib, env=base_env).returncode == 0
    with Library.open(lib) as library:
        shared = [(n.body, n.shared) for n in library.notes(library.require_key(key))]
    assert sorted(shared) == [("first", False), ("second", True)]
    other = keys_of(lib)[1]
    wrong = citedesk("note", other, "--share", str(first.id), lib=lib, env=base_env)
    assert wrong.returncode == 1 and f"{other} has no note {first.id}" in wrong.stderr
