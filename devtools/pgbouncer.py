"""PgBouncer in transaction pooling mode in front of a PostgreSQL, for tests and benchmarks.

`python -m devtools.pgbouncer run -- COMMAND...` starts a PgBouncer (the system's `pgbouncer`,
Debian's package) in front of the server DATABASE_URL names, runs COMMAND with DATABASE_URL
pointing at PgBouncer, DATABASE_DIRECT_URL at PostgreSQL and PIVOTAL_DB_POOLER=transaction, and
stops PgBouncer afterwards. Its config, auth file, log and pid file live in a temporary folder.

The config is Debian's defaults where it matters to the service: no `ignore_startup_parameters`
(so a startup parameter PgBouncer refuses fails the run) and `application_name_add_host` off.
Any database name is accepted (`*`), so tests can create databases on the direct server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from devtools.devstack import free_port

# PgBouncer refuses to run as root; as root it drops to the first of these that exists
UNPRIVILEGED_USERS = ("postgres", "nobody")

CONFIG = """\
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen_port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
# tests make many databases, each its own pool: idle server sessions go soon, and the total
# stays under PostgreSQL's max_connections
server_idle_timeout = 10
max_user_connections = 60
# after a refused server login PgBouncer refuses its clients this long (Debian: 15 s); a
# database that comes back is then served again within 2 s
server_login_retry = 2
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


class PgBouncerError(RuntimeError):
    """PgBouncer is missing or did not start."""


@dataclass(frozen=True)
class Pooler:
    port: int
    folder: Path

    def url(self, direct_url: str) -> str:
        """`direct_url` (any database on the server behind) as reached through PgBouncer."""
        parts = urlsplit(direct_url)
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@127.0.0.1:{self.port}" if user else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))


def binary() -> str:
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists()
                                          else None)
    if found is None:
        raise PgBouncerError("pgbouncer is not installed (Debian: apt-get install -y pgbouncer)")
    return found


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for user in UNPRIVILEGED_USERS:
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return user
    raise PgBouncerError(f"running as root, and none of {UNPRIVILEGED_USERS} exists to run pgbouncer")


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@contextmanager
def running(direct_url: str) -> Iterator[Pooler]:
    """A PgBouncer in front of the server of `direct_url`, stopped on exit."""
    server = urlsplit(direct_url)
    user = server.username or "postgres"
    with tempfile.TemporaryDirectory(prefix="pivotal-pgbouncer-") as name:
        folder = Path(name)
        pooler = Pooler(free_port(), folder)
        (folder / "pgbouncer.ini").write_text(CONFIG.format(
            host=server.hostname or "127.0.0.1", port=server.port or 5432,
            listen_port=pooler.port, folder=folder))
        (folder / "users.txt").write_text(f'"{user}" ""\n')
        argv = [binary(), "-d"]
        system_user = _run_as()
        if system_user is not None:
            shutil.chown(folder, system_user)
            for path in folder.iterdir():
                shutil.chown(path, system_user)
            argv += ["-u", system_user]
        started = subprocess.run([*argv, str(folder / "pgbouncer.ini")], capture_output=True,
                                 text=True, check=False)
        try:
            if started.returncode != 0:
                raise PgBouncerError(f"pgbouncer did not start: {started.stderr or started.stdout}")
            _wait_for(pooler)
            yield pooler
        finally:
            _stop(folder)


def _wait_for(pooler: Pooler) -> None:
    for _ in range(100):
        if _accepts(pooler.port):
            return
        time.sleep(0.1)
    log = pooler.folder / "pgbouncer.log"
    raise PgBouncerError(f"pgbouncer does not listen on {pooler.port}: "
                         f"{log.read_text() if log.exists() else ''}")


def _stop(folder: Path) -> None:
    pidfile = folder / "pgbouncer.pid"
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text().strip())
    # SIGTERM: immediate shutdown (SIGINT would wait for every client to leave)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def pooled_env(pooler: Pooler, direct_url: str) -> dict[str, str]:
    return {"DATABASE_URL": pooler.url(direct_url), "DATABASE_DIRECT_URL": direct_url,
            "PIVOTAL_DB_POOLER": "transaction"}


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[:2] != ["run", "--"]:
        print("usage: python -m devtools.pgbouncer run -- COMMAND...", file=sys.stderr)
        return 2
    direct_url = os.environ.get("DATABASE_URL")
    if not direct_url:
        print("DATABASE_URL must name the PostgreSQL to pool", file=sys.stderr)
        return 2
    try:
        with running(direct_url) as pooler:
            env = dict(os.environ, **pooled_env(pooler, direct_url))
            print(f"pgbouncer {pooler.url(direct_url)} -> {direct_url}", flush=True)
            return subprocess.run(argv[2:], env=env, check=False).returncode
    except PgBouncerError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
