"""The test PostgreSQL server (tests/pgserver.py) and its fixtures (tests/pgfixtures.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.pgserver import PgServer, PgServerError, find_bindir


def dbname_of(url: str) -> str:
    return str(conninfo_to_dict(url)["dbname"])


def test_server_answers_queries(pg_server: PgServer) -> None:
    assert pg_server.execute("SELECT 1 + 1") == [(2,)]


def test_server_listens_on_loopback_only(pg_server: PgServer) -> None:
    assert pg_server.execute("SHOW listen_addresses") == [("127.0.0.1",)]


@pytest.mark.parametrize("round_", [1, 2])
def test_each_pg_url_is_an_empty_database_of_its_own(pg_url: str, round_: int) -> None:
    # The second round would find the first round's table if databases were shared.
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchall() == []
        conn.execute("CREATE TABLE papers (id integer PRIMARY KEY)")


def test_pg_url_databases_are_separate(pg_server: PgServer, pg_url: str) -> None:
    other = pg_server.create_database()
    try:
        with psycopg.connect(pg_url) as conn:
            conn.execute("CREATE TABLE papers (id integer PRIMARY KEY)")
        with psycopg.connect(other) as conn:
            assert conn.execute("SELECT to_regclass('papers')").fetchone() == (None,)
    finally:
        pg_server.drop_database(dbname_of(other))


@pytest.fixture
def reader(pg_server: PgServer) -> Iterator[tuple[str, str]]:
    """A login role with a password (roles belong to the whole server, so a unique name)."""
    name, password = f"reader_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    pg_server.create_role(name, password)
    yield name, password
    pg_server.execute(f'DROP ROLE "{name}"')


def test_role_logs_in_over_loopback_with_a_pgpass_file(
    pg_server: PgServer,
    pg_url: str,
    reader: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, password = reader
    dbname = dbname_of(pg_url)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{pg_server.host}:{pg_server.port}:{dbname}:{name}:{password}\n")
    pgpass.chmod(0o600)  # libpq ignores a password file others may read
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    url = pg_server.url(dbname, user=name)
    assert url == f"postgresql://{name}@127.0.0.1:{pg_server.port}/{dbname}"

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (name,)


def test_loopback_login_without_a_password_is_refused(
    pg_server: PgServer, pg_url: str, reader: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    with pytest.raises(psycopg.OperationalError, match="no password supplied"):
        psycopg.connect(pg_server.url(dbname_of(pg_url), user=reader[0]))


def test_kill_then_restart_keeps_committed_data(pg_server_private: PgServer) -> None:
    server = pg_server_private
    url = server.create_database("kept")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE papers (title text)")
        conn.execute("INSERT INTO papers VALUES ('On Computable Numbers')")
    port = server.port

    server.kill()
    assert not server.running
    server.restart()

    assert server.port == port
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT title FROM papers").fetchall() == [("On Computable Numbers",)]


def test_stop_leaves_no_process_behind(pg_server_private: PgServer) -> None:
    server = pg_server_private
    with psycopg.connect(server.admin_url()):
        pids = server.pids()
        assert len(pids) > 1  # the postmaster, its helpers and our backend
        server.stop()
    assert not server.running
    assert [pid for pid in pids if Path(f"/proc/{pid}").exists()] == []


def test_failed_start_reports_the_log(pg_server_private: PgServer) -> None:
    server = pg_server_private
    server.stop()
    with open(server.data_dir / "postgresql.conf", "a") as conf:
        conf.write("shared_buffers = 'plenty'\n")
    with pytest.raises(PgServerError, match='invalid value for parameter "shared_buffers"'):
        server.restart()
    assert not server.running


def test_no_bindir_when_the_named_folder_has_no_initdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITEDESK_PG_BIN", str(tmp_path))
    assert find_bindir() is None
