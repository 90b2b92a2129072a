"""A fast webhook receiver for benchmarks: a bare ASGI app that answers 200 and appends
"<event id> <object id> <arrival unix time>" for every delivery to a file. With --delay, it
answers that many seconds after the request arrived (a slow receiver).

    python -m bench.receiver --port 9000 --out arrivals.txt [--delay 1]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import msgspec
import uvicorn


class _Delivery(msgspec.Struct):
    id: str
    data: dict


_decode = msgspec.json.Decoder(_Delivery).decode


def make_app(out_path: str, delay: float = 0.0):
    out = open(out_path, "a", buffering=1 << 16)  # noqa: SIM115 - lives as long as the server

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        arrived = time.time()
        if body:
            delivery = _decode(body)
            out.write(f"{delivery.id} {delivery.data['object']['id']} {arrived:.6f}\n")
            out.flush()
        if delay:
            await asyncio.sleep(delay)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    uvicorn.run(make_app(args.out, args.delay), host="127.0.0.1", port=args.port, loop="uvloop",
                http="httptools", access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
