"""The services a run needs: PostgreSQL and Redis, the bench database, the servers under load.

Everything started here is stopped by the context managers that started it, on failure too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import psutil

from app.ops.migrations import migrate
from bench.config import DATABASE, OUT_DIR, ROOT, BenchConfig
from devtools.devstack import Services, local_services

STACK_NAME = "bench"  # the embedded servers' own folder, .local/bench: never the dev stack
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@contextmanager
def services() -> Iterator[tuple[Services, str]]:
    """DATABASE_URL / REDIS_URL when both are set, else the embedded stack (stopped after)."""
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database_url and redis_url:
        yield Services(database_url, redis_url), "DATABASE_URL / REDIS_URL"
        return
    with local_services(STACK_NAME) as started:
        yield started, "embedded (devtools.devstack, .local/bench)"


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def recreate_database(server_url: str, name: str = DATABASE) -> str:
    """Drop and create a scratch database (the bench's by default), migrated; its url."""
    await drop_database(server_url, name)
    await _admin(server_url, f'create database "{name}"')
    url = with_database(server_url, name)
    migrate(url)
    return url


async def drop_database(server_url: str, name: str = DATABASE) -> None:
    """Drop a scratch database, closing any session still on it."""
    await _admin(server_url, f'drop database if exists "{name}" with (force)')


@dataclass
class Server:
    """An HTTP server process group this run started, and where it answers."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[psutil.Process]:
        """The uvicorn worker processes (children of the supervisor; spawn's helpers excluded)."""
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []
        return [child for child in children if "resource_tracker" not in " ".join(_cmdline(child))]

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time (user + system) each worker has used so far."""
        used = {}
        for worker in self.workers():
            try:
                times = worker.cpu_times()
            except psutil.Error:
                continue
            used[worker.pid] = times.user + times.system
        return used


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings; no PG* variables that could steer the servers elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PIVOTAL_"))}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, PIVOTAL_ENV="production")
    return env


def spawn(name: str, argv: list[str], env: dict[str, str], port: int = 0) -> Server:
    """A process in its own session, its output in bench/out/<name>.log (stop_server stops
    it and everything it started)."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log = OUT_DIR / f"{name}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    return Server(name, process, port, log)


@contextmanager
def running_server(name: str, argv: list[str], env: dict[str, str], port: int,
                   health_path: str) -> Iterator[Server]:
    """Start a server in its own process group, wait for its health route, stop it after."""
    server = spawn(name, argv, env, port)
    try:
        _wait_ready(server, health_path)
        yield server
    finally:
        stop_server(server)


def _wait_ready(server: Server, health_path: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited: see {server.log}")
        try:
            if httpx.get(server.url + health_path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not become ready: see {server.log}")


def stop_server(server: Server) -> None:
    """SIGTERM to the group this run started, SIGKILL if it lingers."""
    if server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def api_argv(config: BenchConfig, port: int) -> list[str]:
    """The API exactly as production runs it: `pivotal serve`, one worker per core."""
    pivotal = Path(sys.executable).parent / "pivotal"
    return [str(pivotal), "serve", "--port", str(port), "--workers", str(config.api_workers)]


def probe_argv(config: BenchConfig, port: int) -> list[str]:
    """The bare probe, under the same uvicorn settings and worker count."""
    return [sys.executable, "-m", "bench.probe", "--port", str(port),
            "--workers", str(config.api_workers)]


@contextmanager
def webhook_worker(env: dict[str, str]) -> Iterator[Server | None]:
    """The stack's SAQ worker (`pivotal worker`) beside the API under HTTP load.

    Off unless BENCH_WEBHOOK_WORKER=1: the HTTP scenarios have no endpoints, so the relay would
    only mark events fanned out. Webhooks are measured on their own by bench/webhooks.py.
    """
    if not os.environ.get("BENCH_WEBHOOK_WORKER"):
        yield None
        return
    worker = spawn("worker", [str(Path(sys.executable).parent / "pivotal"), "worker"], env)
    try:
        yield worker
    finally:
        stop_server(worker)


@dataclass
class RssSampler:
    """Peak resident memory of each server's worker processes, sampled in the background."""

    servers: list[Server]
    interval: float = 0.25
    peaks: dict[str, dict[int, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        for server in self.servers:
            peaks = self.peaks.setdefault(server.name, {})
            for worker in server.workers():
                try:
                    rss = worker.memory_info().rss
                except psutil.Error:
                    continue
                peaks[worker.pid] = max(peaks.get(worker.pid, 0), rss)

    def peak_mb(self, name: str) -> list[float]:
        """Each worker's peak RSS in MiB, largest first."""
        return sorted((rss / 2**20 for rss in self.peaks.get(name, {}).values()), reverse=True)
