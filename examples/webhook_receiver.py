"""Webhook receiver: takes Pivotal's deliveries, checks each signature, handles each event once.

    PIVOTAL_WEBHOOK_SECRET=whsec_… python examples/webhook_receiver.py --port 8002

Register http://<host>:8002/pivotal/webhooks as a webhook endpoint and pass the secret its
create call answered. A delivery whose signature or timestamp does not check out is refused
with a 400 (Pivotal does not retry a refusal any differently, so a forged request is simply
dropped). Delivery is at least once: an event seen before (same webhook-id) is acknowledged
without being handled again. Here the ids live in memory; keep them in your database.
"""

from __future__ import annotations

import argparse
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pivotal


class Deliveries:
    """Verifies deliveries and handles each event once."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def receive(self, body: bytes, headers: Any) -> int:
        """The status to answer with."""
        try:
            event = pivotal.webhooks.verify(body, headers, self.secret)
        except pivotal.WebhookVerificationError as exc:
            print(f"refused: {exc}", flush=True)
            return 400
        with self.lock:
            if event.id in self.seen:
                return 200  # a redelivery: done already
            self.seen.add(event.id)
        self.handle(event)
        return 200

    def handle(self, event: pivotal.Event) -> None:
        print(f"{event.type} {event.id} {event.data.object.id}", flush=True)


def make_server(deliveries: Deliveries, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status = deliveries.receive(body, self.headers)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--secret", default=os.environ.get("PIVOTAL_WEBHOOK_SECRET"),
                        help="the endpoint's whsec_… secret (default: $PIVOTAL_WEBHOOK_SECRET)")
    args = parser.parse_args()
    if not args.secret:
        parser.error("no secret: pass --secret or set PIVOTAL_WEBHOOK_SECRET")
    server = make_server(Deliveries(args.secret), args.port)
    print(f"listening on http://127.0.0.1:{args.port}/pivotal/webhooks", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
