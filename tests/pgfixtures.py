"""PostgreSQL fixtures for the group-library tests (issue 17), registered in conftest.py.

``pg_server`` is one server per test process (per xdist worker), started the first time a
test asks for it; ``pg_url`` gives each test an empty database of its own on it, dropped
afterwards. A test that stops or kills its server takes ``pg_server_private`` instead, so
the shared one stays up for the others.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.pgserver import PgServer, find_bindir, temp_base_dir

NOT_INSTALLED = "PostgreSQL is not installed (install Debian's postgresql package; .ci/run does)"


def _new_server() -> PgServer:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(NOT_INSTALLED)
    return PgServer(temp_base_dir(), bindir=bindir)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A running server shared by this process's tests; do not stop or kill it."""
    server = _new_server()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The admin URL of a new, empty database on ``pg_server``; dropped after the test."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(str(conninfo_to_dict(url)["dbname"]))


@pytest.fixture
def group_url(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``pg_url`` for a group's tests: libraries keep no password, so libpq finds it in
    PGPASSWORD, as a member's ~/.pgpass would give it."""
    monkeypatch.setenv("PGPASSWORD", conninfo_to_dict(pg_url)["password"] or "")
    return pg_url


@pytest.fixture
def pg_server_private() -> Iterator[PgServer]:
    """A server of the test's own, for tests that stop, kill or restart it."""
    server = _new_server()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
