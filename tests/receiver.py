"""A real HTTP receiver on loopback for webhook tests, with scriptable answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def event(self) -> dict:
        return json.loads(self.body)


# answer(received_so_far) -> (status, headers, body, delay_seconds)
Answer = Callable[[int], tuple[int, dict[str, str], bytes, float]]


def ok(count: int) -> tuple[int, dict[str, str], bytes, float]:
    return 200, {}, b"ok", 0.0


@dataclass
class Receiver:
    """Records every POST it gets; `answer` decides each response. While `refusing`, it
    closes each connection unanswered, keeping its port: a receiver that is down, without
    releasing a port something else could take before it is up again."""

    answer: Answer = ok
    received: list[Received] = field(default_factory=list)
    port: int = 0
    refusing: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver._lock:
                    count = len(receiver.received)
                status, headers, reply, delay = receiver.answer(count)
                if delay:
                    time.sleep(delay)
                with receiver._lock:
                    receiver.received.append(Received(dict(self.headers), body, time.time()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # a worker opens dozens of connections at once: the default backlog of 5 would
            # drop some, and a dropped SYN is retried only after the delivery timeout
            request_queue_size = 128

            def verify_request(self, request: object, client_address: object) -> bool:
                return not receiver.refusing

        self._server = Server(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def event_ids(self) -> list[str]:
        with self._lock:
            return [r.headers["webhook-id"] for r in self.received]
