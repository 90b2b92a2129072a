"""What bounding the request head costs a request: app/http/connection.py's protocol against
uvicorn's own httptools protocol, in one process, on a keep-alive GET answered by a trivial app.

A cost of a microsecond is lost in `make bench`'s noise, which on a shared box is tens of
microseconds per request; here both protocols parse the same bytes on the same loop, in
alternating back-to-back rounds, measured in process CPU time, and nothing else runs.

    python -m bench.protocol
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import uvicorn
import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.http.connection import BoundedHttpToolsProtocol, HeadLimits

REQUEST = (b"GET /api/v1/customers/1234 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
           b"Authorization: Bearer pivotal_abcdefghijklmnopqrstuvwxyzABCDEF0123456789\r\n\r\n")
ROUNDS, REQUESTS = 60, 5_000


async def answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


class NullTransport(asyncio.Transport):
    """A connection that accepts every write and is never closed by its peer."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def microseconds_per_request(protocol_class: type, requests: int) -> float:
    config = uvicorn.Config(answer, http=protocol_class, lifespan="off", log_level="warning")
    config.head_limits = HeadLimits()  # type: ignore[attr-defined]
    config.load()
    state = ServerState()
    protocol = protocol_class(config=config, server_state=state, app_state={})
    protocol.connection_made(NullTransport())
    started = time.process_time()
    for _ in range(requests):
        protocol.data_received(REQUEST)
        await asyncio.gather(*state.tasks)
    return (time.process_time() - started) / requests * 1e6


async def main() -> None:
    stock, bounded = HttpToolsProtocol, BoundedHttpToolsProtocol
    results: dict[type, list[float]] = {stock: [], bounded: []}
    for protocol_class in results:  # warm up
        await microseconds_per_request(protocol_class, REQUESTS)
    for index in range(ROUNDS):
        for protocol_class in (stock, bounded) if index % 2 else (bounded, stock):
            results[protocol_class].append(
                await microseconds_per_request(protocol_class, REQUESTS))
    for protocol_class, values in results.items():
        print(f"{protocol_class.__name__:26} median {statistics.median(values):6.2f} µs/request, "
              f"min {min(values):6.2f}")
    # each round's two runs are back to back: their difference is what the box's drift spares
    paired = [b - a for a, b in zip(results[stock], results[bounded], strict=True)]
    print(f"bounding the head costs {statistics.median(paired):+.2f} µs of CPU per request "
          f"(median over {ROUNDS} rounds of {REQUESTS:,} requests each)")


if __name__ == "__main__":
    uvloop.run(main())
