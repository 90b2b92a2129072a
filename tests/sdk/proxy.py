"""A small TCP proxy in front of the API that loses answers, the way networks do."""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field

from devtools.devstack import free_port

BAD_GATEWAY = (b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
               b"Content-Length: 11\r\nConnection: close\r\n\r\nbad gateway")


@dataclass
class FlakyProxy:
    """Forwards connections to 127.0.0.1:`target`.

    The first `cut` connections carry their request to the server and wait until its answer
    begins (so the write has committed), then reset the client's connection without passing
    the answer on. The `bad_gateway` connections after those answer 502 themselves, as a load
    balancer does, without forwarding anything. Every later connection is passed through.
    """

    target: int
    cut: int = 0
    bad_gateway: int = 0
    port: int = field(default_factory=free_port)
    lost_answers: list[bytes] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None

    def url(self, base_url: str) -> str:
        return base_url.replace(f":{self.target}/", f":{self.port}/")

    def start(self) -> FlakyProxy:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            if number <= self.cut:
                handler = self._cut
            elif number <= self.cut + self.bad_gateway:
                handler = self._bad_gateway
            else:
                handler = self._pass
            threading.Thread(target=handler, args=(client,), daemon=True).start()

    def _cut(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
        self.lost_answers.append(upstream.recv(65536))
        _reset(client)
        upstream.close()

    def _bad_gateway(self, client: socket.socket) -> None:
        _read_request(client)
        client.sendall(BAD_GATEWAY)
        client.close()

    def _pass(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target))
        threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
        _pipe(upstream, client)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset: the client sees its connection die, not an orderly end."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # wakes the thread reading from it (a bare close would wait for that read to end)
    sock.shutdown(socket.SHUT_RD)
    sock.close()


def _read_request(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        body += sock.recv(65536)
    return data
