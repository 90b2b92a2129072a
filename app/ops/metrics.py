"""The API's metrics endpoint: every worker process's series, added up by the supervisor.

Worker processes cannot share one in-memory registry, so prometheus_client's multiprocess
mode is used: each worker records into files of its own in a directory named by
PROMETHEUS_MULTIPROC_DIR, and a scrape of the supervisor's /metrics merges them
(counters and histograms summed, gauges as their multiprocess_mode says). The directory is
made afresh for each run and removed after it, so no file of an earlier run is ever counted;
a worker that dies has its live gauges removed (its counters stay: what it served happened).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from app.ops.server import STARTUP_FAILURE

log = logging.getLogger("pivotal.server")
DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# every request writes to the files through a memory map: in memory (tmpfs) when the system
# has one, so no page of them is ever written back to a disk
SHARED_MEMORY = "/dev/shm"


class WorkerMetrics:
    """The directory the worker processes record into, served on /metrics."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def process_dead(self, pid: int) -> None:
        """A worker exited: its gauges no longer describe anything live."""
        mark_process_dead(pid, self.directory)


@contextmanager
def serve_worker_metrics(host: str, port: int) -> Iterator[WorkerMetrics]:
    """Serve the merged metrics on host:port, in a thread of this process, while the block
    runs; worker processes started inside it record into the directory. When the address is
    taken, an error line and exit status STARTUP_FAILURE."""
    in_memory = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
    directory = tempfile.mkdtemp(prefix="pivotal-metrics-", dir=in_memory)
    # read by every worker process started from now on (and by Settings.from_env in each)
    os.environ[DIRECTORY_VARIABLE] = directory
    try:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        try:
            server, _ = start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            log.error("cannot serve metrics on %s:%s: %s", host, port, exc)
            raise SystemExit(STARTUP_FAILURE) from exc
        try:
            log.info("metrics on %s:%s", host, server.server_port)
            yield WorkerMetrics(directory)
        finally:
            server.shutdown()
            server.server_close()
    finally:
        os.environ.pop(DIRECTORY_VARIABLE, None)
        shutil.rmtree(directory, ignore_errors=True)
