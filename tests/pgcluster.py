"""A real PostgreSQL cluster for the tests: Debian's server binaries, a temporary folder, 127.0.0.1.

``PostgresCluster.start()`` runs ``initdb`` into a new folder under the system's temporary
directory and ``pg_ctl start`` with the server listening on 127.0.0.1 on a free port and its
Unix socket in that folder (nothing of the machine's own PostgreSQL is touched). Durability is
off (``fsync``, ``synchronous_commit``, ``full_page_writes``): a test database need not survive
a power cut, and creating one per test is then cheap. ``database()`` makes a fresh database and
returns its URL; ``drop()`` removes it, closing any connection a test left open.

PostgreSQL refuses to run as root, so as root the folder is handed to the ``postgres`` user that
Debian's package creates and the server programs run as that user (``runuser``); as anyone else
they run as the user themselves.

The cluster stops with the test session, and also if the session dies: a small watchdog process
holds a pipe from the test process and stops the server and removes the folder when that pipe
closes, whichever way the test process ended (``python tests/pgcluster.py --watch DATA_DIR``).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
#: The superuser initdb makes; local connections are trusted (the socket folder is private).
USER = "digest"
#: Seconds any server program may take.
TIMEOUT = 60


def available() -> bool:
    return (BIN / "initdb").is_file() and (BIN / "pg_ctl").is_file()


def _as_server_user(command: list[str]) -> list[str]:
    """``command`` as the user the server runs as: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr or done.stdout}")


def _stop(data: Path) -> None:
    subprocess.run(
        _as_server_user([str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
        capture_output=True,
        timeout=TIMEOUT,
    )


class PostgresCluster:
    """One PostgreSQL server for a test session (see the module docstring)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="digest-pg-"))
        self.data = self.folder / "data"
        self.port = 0
        self._names = itertools.count(1)
        self._watchdog: subprocess.Popen[bytes] | None = None

    def start(self) -> PostgresCluster:
        from smtpserver import free_port  # here: the watchdog, this file run as a script, needs none of it

        if os.geteuid() == 0:
            server_user = pwd.getpwnam("postgres")
            os.chown(self.folder, server_user.pw_uid, server_user.pw_gid)
        _run(
            [
                str(BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )
        # The watchdog first: from here on, a dead test process never leaves a server running.
        self._watchdog = subprocess.Popen(
            [sys.executable, __file__, "--watch", str(self.data), str(self.folder)],
            stdin=subprocess.PIPE,
            start_new_session=True,
        )
        for attempt in range(3):
            self.port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c max_connections=300 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                _run([str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
                      "-w", "-t", str(TIMEOUT), "-o", options, "start"])  # fmt: skip
                break
            except RuntimeError:
                # Another program took the port between probing and listening: another port.
                if attempt == 2:
                    raise
        return self

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database; its URL."""
        name = f"test_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self._watchdog is not None and self._watchdog.stdin is not None:
            self._watchdog.stdin.close()  # the watchdog stops the server and removes the folder
            self._watchdog.wait(timeout=TIMEOUT)
            self._watchdog = None

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres").replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(statement.encode())


def _watch(data: Path, folder: Path) -> None:
    """Wait until the test process closes our standard input (or dies), then stop and clean up."""
    sys.stdin.buffer.read()
    try:
        _stop(data)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__" and sys.argv[1:2] == ["--watch"]:
    _watch(Path(sys.argv[2]), Path(sys.argv[3]))
