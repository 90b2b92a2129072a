"""Running an example from examples/ as a user would: one command, its output read as it comes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


class Example:
    """`python examples/<script> <args>` with the given environment; stdout collected by line."""

    def __init__(self, script: str, *args: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLES / script), *args], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout: float = 15, what: str = "output") -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.lines):
            if self.process.poll() is not None and not self._reader.is_alive():
                raise AssertionError(f"exited {self.process.returncode} waiting for {what}: "
                                     f"{self.lines} {self.process.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {self.lines}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def wait(self, timeout: float = 30) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code
