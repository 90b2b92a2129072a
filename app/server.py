"""Serving the API with uvicorn (uvloop + httptools)."""

from __future__ import annotations

import uvicorn


def serve(*, host: str, port: int, workers: int = 1) -> None:
    uvicorn.run(
        "app.main:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        # finish in-flight requests on SIGTERM before exiting
        timeout_graceful_shutdown=20,
        log_level="info",
    )
