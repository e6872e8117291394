"""A throwaway PostgreSQL server for the tests of group libraries (issue 17).

``PgServer`` runs ``initdb`` into a folder of its own, starts ``postgres`` on a free
loopback port with fsync and full-page writes off (a test server's data need not survive a
power cut; they do survive ``kill()``), and removes everything on cleanup.

PostgreSQL refuses to run as root, and CI runs as root: there the server runs as the
``postgres`` system user (``CITEDESK_PG_USER`` names another), which must own the data folder
and be able to reach it; elsewhere it runs as ourselves.

The postmaster is started directly rather than through ``pg_ctl start``, as our own child
with a parent-death signal: a test process that crashes, or is killed, takes its server down
with it instead of leaving a postgres running after the suite. Readiness is read from
``postmaster.pid``, as ``pg_ctl -w`` reads it.

Standalone, for poking at by hand: ``python tests/pgserver.py`` prints an admin URL and
runs until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import itertools
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

ADMIN = "citedesk_admin"
HOST = "127.0.0.1"
#: The folders ``temp_base_dir`` makes start with this, in the system's temporary folder.
TEMP_PREFIX = "citedesk-pg-"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

# Signals the postmaster reads as its three shutdown modes (see ``pg_ctl stop -m``).
_STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}
_PR_SET_PDEATHSIG = 1
# What the postmaster logs when another process took its port between our choice and its bind.
_PORT_CLASH = ("could not bind IPv4 address", "could not create any TCP/IP sockets")


class PgServerError(RuntimeError):
    """The test server could not be set up, started or stopped; the message says why."""


def find_bindir() -> Path | None:
    """Where PostgreSQL's programs (initdb, postgres) are, or None if it is not installed.

    ``CITEDESK_PG_BIN`` first, then ``pg_config --bindir``, then the newest Debian
    ``/usr/lib/postgresql/<version>/bin``.
    """
    if env := os.environ.get("CITEDESK_PG_BIN"):
        return Path(env) if (Path(env) / "initdb").is_file() else None
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out and (Path(out) / "initdb").is_file():
                return Path(out)
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]

    def version(bindir: Path) -> tuple[int, ...]:
        try:
            return tuple(int(part) for part in bindir.parent.name.split("."))
        except ValueError:
            return (-1,)

    return max(candidates, key=version, default=None)


def _server_user() -> pwd.struct_passwd | None:
    """The user the server runs as when we are root; None when we are not (it runs as us)."""
    if os.geteuid() != 0:
        return None
    wanted = os.environ.get("CITEDESK_PG_USER")
    names = [wanted] if wanted else ["postgres", "nobody"]
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PgServerError(
        f"PostgreSQL will not run as root and there is no user {' or '.join(names)} to run it"
        " as (set CITEDESK_PG_USER)"
    )


def _reachable_by(user: pwd.struct_passwd, folder: Path) -> Path | None:
    """The first parent of ``folder`` that ``user`` cannot pass through, or None."""
    groups = {user.pw_gid, *os.getgrouplist(user.pw_name, user.pw_gid)}
    for parent in reversed(folder.parents):
        st = parent.stat()
        if st.st_uid == user.pw_uid:
            ok = st.st_mode & 0o100
        elif st.st_gid in groups:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return parent
    return None


def _free_port() -> int:
    """A port nothing listens on now; another process may take it before we do (we retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _owner_record() -> str:
    """Who made a temp folder: our pid and its start time (pids are reused)."""
    start = _stat("self")[19]
    return f"{os.getpid()} {start}\n"


def _owner_gone(record: str) -> bool:
    try:
        pid, start = record.split()
        return _stat(int(pid))[19] != start
    except (OSError, ValueError, IndexError):
        return True


def _temp_root() -> Path:
    """``CITEDESK_PG_TMPDIR``, else /dev/shm when it has room, else the temporary folder.

    On memory (tmpfs) a server starts faster and a new database takes a fraction of the time:
    ``CREATE DATABASE`` copies the template's 300 files, 160 ms on this machine's ext4 and
    about 20 ms on /dev/shm. Docker's /dev/shm holds only 64 MB, hence the check for room.
    """
    if env := os.environ.get("CITEDESK_PG_TMPDIR"):
        return Path(env)
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        st = os.statvfs(shm)
        if st.f_bavail * st.f_frsize >= 1 << 30 and os.access(shm, os.W_OK | os.X_OK):
            return shm
    return Path(tempfile.gettempdir())


def temp_base_dir() -> Path:
    """A new folder for one server, on memory where there is room (see ``_temp_root``).

    pytest's ``tmp_path`` will not do when we are root: its parents are private to root
    (mode 0700) and the server's user cannot reach them. Folders left by a test process that
    died (its server died with it) are removed first.
    """
    root = _temp_root()
    for old in root.glob(f"{TEMP_PREFIX}*"):
        try:
            gone = _owner_gone((old / "owner").read_text())
        except OSError:
            continue  # not ours, or being made right now
        if gone:
            shutil.rmtree(old, ignore_errors=True)
    base = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=root))
    (base / "owner").write_text(_owner_record())
    return base


_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not in the child


def _set_parent_death_signal() -> None:
    # Runs in the child after it switched user (switching clears the setting). SIGQUIT is
    # the postmaster's immediate shutdown. Linux sends it when the *thread* that started
    # the server ends: pytest runs fixtures on the main thread, which ends with the process.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)


class PgServer:
    """One PostgreSQL server of its own, in ``base_dir``, on a free port of 127.0.0.1.

    ``base_dir`` is made if missing and holds the data folder, the Unix socket and the log;
    ``cleanup()`` (or leaving the ``with`` block) stops the server and removes them, and
    ``base_dir`` itself when it made it or ``temp_base_dir()`` did.
    """

    def __init__(self, base_dir: Path, *, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise PgServerError("PostgreSQL is not installed (no initdb found)")
        self.bindir = found
        self.base_dir = Path(base_dir).resolve()
        self._owns_base = not self.base_dir.exists() or (self.base_dir / "owner").is_file()
        self.data_dir = self.base_dir / "data"
        self.log_path = self.base_dir / "postgres.log"
        self.host = HOST
        self.port = 0
        self.password = secrets.token_urlsafe(18)
        self._user = _server_user()
        self._proc: subprocess.Popen[bytes] | None = None
        self._initialised = False
        self._names = itertools.count(1)

    # --- life cycle

    def start(self) -> PgServer:
        """initdb (the first time), then start and wait until it takes connections."""
        if self.running:
            return self
        if not self._initialised:
            self._initdb()
            self._initialised = True
            self._choose_port()
        for _ in range(5):
            try:
                self._launch()
                return self
            except _PortTaken:
                self._choose_port()
        raise PgServerError(f"no free port for PostgreSQL after 5 tries\n{self._log_tail()}")

    def restart(self) -> PgServer:
        """Start again on the same port and data, after ``stop()`` or ``kill()``."""
        if not self._initialised:
            raise PgServerError("restart() of a server never started")
        if not self.running:
            self._launch()
        return self

    def stop(self, mode: str = "fast") -> None:
        """Shut down (``smart``, ``fast`` or ``immediate``, as ``pg_ctl stop -m``) and wait."""
        proc = self._proc
        if proc is None:
            return
        pids = self.pids()
        if proc.poll() is None:
            proc.send_signal(_STOP_SIGNALS[mode])
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                raise PgServerError(
                    f"PostgreSQL did not stop ({mode}) in {STOP_TIMEOUT:.0f} s; killed it\n"
                    f"{self._log_tail()}"
                ) from None
        self._wait_gone(pids)
        self._proc = None

    def kill(self) -> None:
        """SIGKILL the postmaster and its children: a crash, for crash tests.

        The children go too (PostgreSQL's children each lead a process group of their own,
        so this is not one ``killpg``): left alone they exit only when they notice the
        postmaster's death, and until then they hold its shared memory and a ``restart()``
        would fail. The restart recovers from the write-ahead log, as after a real crash.
        """
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGSTOP)  # no new children while we collect them
        pids = self.pids()
        for pid in pids - {proc.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(STOP_TIMEOUT)
        self._wait_gone(pids)
        self._proc = None

    def cleanup(self) -> None:
        """Stop the server (fast) if it runs and remove its files."""
        try:
            self.stop()
        finally:
            if self._owns_base:
                shutil.rmtree(self.base_dir, ignore_errors=True)
            else:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                for path in [self.log_path, *self.base_dir.glob(".s.PGSQL.*")]:
                    path.unlink(missing_ok=True)

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while it runs."""
        return self._proc.pid if self.running and self._proc else None

    @property
    def version(self) -> int:
        """The major version, as the data folder's PG_VERSION says (15 for 15.4)."""
        return int((self.data_dir / "PG_VERSION").read_text().strip().split(".")[0])

    def pids(self) -> set[int]:
        """The postmaster and its children, those alive (a zombie counts as gone)."""
        if self._proc is None:
            return set()
        return _family(self._proc.pid)

    # --- URLs and SQL

    def url(self, dbname: str = "postgres", user: str = ADMIN, password: str | None = None) -> str:
        """A libpq URL; the admin's password is filled in for the admin, none for others
        unless given (so libpq looks in PGPASSWORD, ~/.pgpass or PGPASSFILE)."""
        if password is None and user == ADMIN:
            password = self.password
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(dbname, safe='')}"

    def admin_url(self, dbname: str = "postgres") -> str:
        return self.url(dbname)

    def execute(
        self, query: str | sql.Composable, params: Any = None, dbname: str = "postgres"
    ) -> list[tuple[Any, ...]]:
        """Runs one statement as the admin, autocommit; returns its rows (none for DDL)."""
        with psycopg.connect(self.admin_url(dbname), autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str | None = None, *, template: str = "template0") -> str:
        """A new empty database (UTF-8, C locale); returns its admin URL."""
        name = name or f"test_{next(self._names)}"
        # FILE_COPY (PostgreSQL 15 added the choice): 10-30 ms here, where the default,
        # WAL_LOG, writes the whole template to the log and takes 35-170 ms. Its checkpoints
        # cost little with fsync off.
        strategy = sql.SQL(" STRATEGY FILE_COPY" if self.version >= 15 else "")
        self.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
                sql.Identifier(name), sql.Identifier(template), strategy
            )
        )
        return self.admin_url(name)

    def drop_database(self, name: str) -> None:
        """Drops ``name``, closing whatever connections it still has."""
        self.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def create_role(self, name: str, password: str | None = None, *, login: bool = True) -> None:
        self.execute(
            sql.SQL("CREATE ROLE {} {} PASSWORD {}").format(
                sql.Identifier(name),
                sql.SQL("LOGIN" if login else "NOLOGIN"),
                sql.Literal(password),
            )
        )

    # --- inside

    def _run_as_server_user(self) -> dict[str, Any]:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _env(self) -> dict[str, str]:
        # No PGDATA, PGPORT, PGHOST... of the caller's reaches initdb or the server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        if self._user is not None:
            env.update(HOME=self._user.pw_dir, USER=self._user.pw_name)
        return env

    def _initdb(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            os.chown(self.base_dir, self._user.pw_uid, self._user.pw_gid)
            if blocked := _reachable_by(self._user, self.base_dir):
                raise PgServerError(
                    f"{self._user.pw_name}, who runs PostgreSQL (it refuses root), cannot reach "
                    f"{self.base_dir}: {blocked} is closed to it; use temp_base_dir()"
                )
        pwfile = self.base_dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._user is not None:
            os.chown(pwfile, self._user.pw_uid, self._user.pw_gid)
        pwfile.chmod(0o600)
        try:
            result = subprocess.run(
                [
                    str(self.bindir / "initdb"),
                    "--pgdata",
                    str(self.data_dir),
                    "--username",
                    ADMIN,
                    "--pwfile",
                    str(pwfile),
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",  # nothing here needs to survive a power cut
                    "--no-instructions",
                ],
                capture_output=True,
                text=True,
                env=self._env(),
                timeout=120,
                **self._run_as_server_user(),
            )
        finally:
            pwfile.unlink()
        if result.returncode != 0:
            raise PgServerError(f"initdb failed ({result.returncode}):\n{result.stderr[-4000:]}")

    def _choose_port(self) -> None:
        self.port = _free_port()
        self._write_config()

    def _write_config(self) -> None:
        settings = {
            "listen_addresses": HOST,
            "port": self.port,
            "unix_socket_directories": str(self.base_dir),
            "max_connections": 100,
            "shared_buffers": "32MB",
            # Dynamic shared memory in files of the data folder (pg_dynshmem/), not in
            # /dev/shm, where a killed server that is not restarted would leave its segments.
            "dynamic_shared_memory_type": "mmap",
            # Durability against a power cut off: a test server's data need not survive one.
            # A commit still writes its WAL to the kernel before it returns (synchronous_commit
            # on; cheap with fsync off), so what a test saw committed survives kill(), as it
            # would a real server's crash. With it off, commits of the last few hundred ms
            # would vanish with the killed processes and the crash tests would flake.
            "fsync": "off",
            "synchronous_commit": "on",
            "full_page_writes": "off",  # torn pages need an OS crash, not a killed process
            # Messages in English and times in UTC, whatever the machine's settings, so a
            # test may match them.
            "lc_messages": "C",
            "timezone": "UTC",
            "log_timezone": "UTC",
            "logging_collector": "off",
        }
        lines = [f"{key} = '{value}'" for key, value in settings.items()]
        conf = self.data_dir / "postgresql.conf"
        conf.write_text("# Written by tests/pgserver.py\n" + "\n".join(lines) + "\n")
        if self._user is not None:
            os.chown(conf, self._user.pw_uid, self._user.pw_gid)

    def _launch(self) -> None:
        """Starts the postmaster and waits until it is ready; raises with the log's tail."""
        with open(self.log_path, "ab") as log:
            offset = log.tell()
            proc = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self._env(),
                start_new_session=True,  # as pg_ctl: a terminal's Ctrl-C is not for it
                preexec_fn=_set_parent_death_signal,
                **self._run_as_server_user(),
            )
        self._proc = proc
        pid_file = self.data_dir / "postmaster.pid"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = None
                tail = self._log_tail(offset)
                if any(clash in tail for clash in _PORT_CLASH):
                    raise _PortTaken(tail)
                raise PgServerError(
                    f"PostgreSQL exited ({proc.returncode}) while starting:\n{tail}"
                )
            with contextlib.suppress(OSError):
                lines = pid_file.read_text().splitlines()
                # Line 1 the pid, line 8 the status (PostgreSQL 10+), as pg_ctl -w reads them.
                if len(lines) >= 8 and lines[0] == str(proc.pid) and lines[7].strip() == "ready":
                    return
            time.sleep(0.01)
        self.kill()
        raise PgServerError(
            f"PostgreSQL not ready in {START_TIMEOUT:.0f} s:\n{self._log_tail(offset)}"
        )

    def _wait_gone(self, pids: set[int]) -> None:
        deadline = time.monotonic() + STOP_TIMEOUT
        while alive := {pid for pid in pids if _alive(pid)}:
            if time.monotonic() > deadline:
                raise PgServerError(f"PostgreSQL's processes {sorted(alive)} outlived it")
            time.sleep(0.01)

    def _log_tail(self, offset: int = 0, size: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()[offset:]
        except OSError:
            return "(no log)"
        return data[-size:].decode("utf-8", "replace")


class _PortTaken(PgServerError):
    """Another process took the port between our choice and the postmaster's bind."""


def _stat(pid: int | str) -> list[str]:
    """/proc/<pid>/stat from the state on: state, ppid, pgrp, ... (the name may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _alive(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


def _family(postmaster: int) -> set[int]:
    pids = {postmaster} if _alive(postmaster) else set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = _stat(entry.name)
                if int(fields[1]) == postmaster and fields[0] != "Z":
                    pids.add(int(entry.name))
    return pids


if __name__ == "__main__":
    with PgServer(temp_base_dir()) as server:
        print(server.admin_url(), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
