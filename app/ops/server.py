"""Serving the API with uvicorn (uvloop + httptools), one process per worker.

With several workers, each process listens on a socket of its own bound with SO_REUSEPORT, and
the kernel spreads new connections evenly over them. (Sharing one listening socket, as uvicorn's
own supervisor does, lets whichever worker wakes first take most of the keep-alive
connections, so one core queues while the other idles.) This process supervises: it restarts a
worker that dies, and on SIGTERM or SIGINT passes SIGTERM on and waits while they drain. With
a metrics port it also serves the workers' metrics, added up (app/ops/metrics.py); it then
supervises a single worker too, so that one process always serves them.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import socket
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn

from app.core.logs import log_config
from app.http.connection import BoundedHttpToolsProtocol, HeadLimits
from app.settings import Settings

if TYPE_CHECKING:
    from app.ops.metrics import WorkerMetrics

log = logging.getLogger("pivotal.server")
API_APP = "app.main:app_from_env"
# uvicorn's exit status for a worker that could not start (bad settings, app import failure):
# restarting it would fail the same way
STARTUP_FAILURE = 3
# a worker that keeps dying is restarted at most this often
RESTART_INTERVAL = 1.0


def serve(*, host: str, port: int, settings: Settings, workers: int = 1,
          app: str = API_APP, metrics: tuple[str, int] | None = None) -> None:
    """Run `app` (an import string of an app factory); logs are JSON lines on stdout, one per
    request (app/core/logs.py). With `metrics` (host, port), Prometheus metrics are served
    there."""
    config = ServerConfig(
        app,
        head_limits=HeadLimits.from_settings(settings),
        factory=True,
        host=host,
        port=port,
        loop="uvloop",
        # httptools, with the request head bounded in size and time (app/http/connection.py)
        http=BoundedHttpToolsProtocol,
        access_log=False,
        server_header=False,  # no "server: uvicorn" on every response
        log_config=log_config(settings.log_level),
        # idle keep-alive connections are closed after this many seconds. A client slow to send
        # its head is cut by the head timeout, one slow to send its body by the request deadline.
        timeout_keep_alive=5,
        # on SIGTERM stop accepting, then let in-flight requests finish: each ends by its
        # deadline (a 503 at worst), so the grace outlasts the deadline
        timeout_graceful_shutdown=math.ceil(settings.request_timeout_seconds or 20) + 2,
    )
    if workers <= 1 and metrics is None:
        _serve_one(config, None)
    else:
        _Supervisor(config, max(1, workers), metrics).run()


class ServerConfig(uvicorn.Config):
    """uvicorn's Config, carrying the limits BoundedHttpToolsProtocol puts on request heads."""

    def __init__(self, app: str, *, head_limits: HeadLimits, **options: Any) -> None:
        super().__init__(app, **options)
        self.head_limits = head_limits


def _serve_one(config: uvicorn.Config, sock: socket.socket | None) -> None:
    # uvicorn drains on SIGTERM (or Ctrl-C), then raises the signal again to the handler it
    # found: a drained shutdown is a clean one, so that handler exits 0
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    server = uvicorn.Server(config)
    server.run(sockets=[sock] if sock is not None else None)
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port with SO_REUSEPORT (not listening yet); when the address
    is taken, an error line and exit status STARTUP_FAILURE."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        log.error("cannot listen on %s:%s: %s", host, port, exc)
        raise SystemExit(STARTUP_FAILURE) from exc
    return sock


def _worker_main(config: uvicorn.Config) -> None:
    """A worker process: its own listening socket in the port's SO_REUSEPORT group."""
    config.configure_logging()
    sock = reuseport_socket(config.host, config.port)
    sock.listen(config.backlog)
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    _serve_one(config, sock)


def _stop_when_orphaned(parent: int) -> None:
    """Drain and exit when the supervisor is gone (killed, so it could not stop us)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


class _Supervisor:
    """Keeps `count` worker processes serving until SIGTERM or SIGINT."""

    def __init__(self, config: uvicorn.Config, count: int,
                 metrics: tuple[str, int] | None = None) -> None:
        self.config = config
        self.count = count
        self.metrics_address = metrics
        self.stopping = False
        self.context = multiprocessing.get_context("spawn")

    def run(self) -> None:
        # held for the supervisor's life, not listening: the port is ours (an address in use
        # fails here, once, rather than in every worker), and connections only go to workers
        reserved = reuseport_socket(self.config.host, self.config.port)
        self.config.port = reserved.getsockname()[1]  # port 0: the one the system chose
        try:
            with self._metrics() as metrics:
                self._supervise(metrics)
        finally:
            reserved.close()

    def _metrics(self) -> AbstractContextManager[WorkerMetrics | None]:
        """The workers' metrics served while they run, when a metrics address is given; set up
        before the first worker starts, which must find its directory."""
        if self.metrics_address is None:
            return nullcontext()
        from app.ops.metrics import serve_worker_metrics  # prometheus_client only when asked

        return serve_worker_metrics(*self.metrics_address)

    def _supervise(self, metrics: WorkerMetrics | None) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        processes = [self._start() for _ in range(self.count)]
        log.info("serving on %s:%s with %d workers", self.config.host, self.config.port,
                 self.count)
        last_restart = 0.0
        try:
            while not self.stopping:
                for index, process in enumerate(processes):
                    if process.is_alive() or self.stopping:
                        continue
                    if process.exitcode == STARTUP_FAILURE:
                        log.error("worker %s could not start; stopping", process.pid)
                        self._terminate(processes)
                        raise SystemExit(STARTUP_FAILURE)
                    time.sleep(max(0.0, last_restart + RESTART_INTERVAL - time.monotonic()))
                    log.warning("worker %s exited with %s; starting another", process.pid,
                                process.exitcode)
                    if metrics is not None and process.pid is not None:
                        metrics.process_dead(process.pid)
                    processes[index] = self._start()
                    last_restart = time.monotonic()
                time.sleep(0.2)
        finally:
            self._terminate(processes)

    def _start(self) -> SpawnProcess:
        process = self.context.Process(target=_worker_main, args=(self.config,), daemon=False)
        process.start()
        return process

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _terminate(self, processes: list[SpawnProcess]) -> None:
        """SIGTERM to every worker, then wait for each to drain (SIGKILL past the grace)."""
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + (self.config.timeout_graceful_shutdown or 20) + 5
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
