"""Serving the API with uvicorn (uvloop + httptools)."""

from __future__ import annotations

import math
import signal
from types import FrameType

import uvicorn

from app.logs import log_config
from app.settings import Settings


def serve(*, host: str, port: int, settings: Settings, workers: int = 1) -> None:
    """Run the API; logs are JSON lines on stdout, one per request (app/logs.py)."""
    # uvicorn drains on SIGTERM, then raises it again to the handler it found: a drained
    # shutdown is a clean one, so that handler exits 0
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        "app.main:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=log_config(settings.log_level),
        # idle keep-alive connections are closed after this many seconds. A client slow to send
        # its body is cut by the request deadline; slow headers are a reverse proxy's to bound
        # (uvicorn's httptools parser has no header timeout).
        timeout_keep_alive=5,
        # on SIGTERM stop accepting, then let in-flight requests finish: each ends by its
        # deadline (a 503 at worst), so the grace outlasts the deadline
        timeout_graceful_shutdown=math.ceil(settings.request_timeout_seconds or 20) + 2,
    )


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
