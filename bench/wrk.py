"""Running wrk with keep-alive connections and a generated Lua script, and reading its result."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from bench.config import BENCH_DIR, OUT_DIR, BenchConfig
from bench.measure import Measurement
from bench.seed import SeedData, Tenant

LIBRARY = BENCH_DIR / "load.lua"
RESULT_MARK = "BENCH_RESULT "


def find_wrk() -> str:
    """wrk on PATH; as root on Debian, installed from the distribution when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        quiet = {"stdout": subprocess.DEVNULL}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, check=False, **quiet).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=False, **quiet)
            subprocess.run(install, check=False, **quiet)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: install it (Debian/Ubuntu: apt-get install wrk)")
    return found


def lua(value: object) -> str:
    """A Python value as a Lua literal (strings, numbers, lists, dicts with string keys)."""
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid Lua escapes for this data
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {lua(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def _tenant(tenant: Tenant) -> dict:
    return {"keys": tenant.keys, "ws": tenant.workspace_id, "n": tenant.customers,
            "cuids": tenant.cuids, "deep_cursor": tenant.deep_cursor,
            "range_start": tenant.range_start}


def write_script(name: str, prefix: str, data: SeedData, ops: tuple[tuple[str, int], ...],
                 nonce: str, pace_ms: int = 0) -> Path:
    """bench/out/<name>.lua: this run's data and mix, followed by bench/load.lua."""
    header = {
        "PREFIX": prefix,
        "TENANTS": [_tenant(tenant) for tenant in data.workspaces],
        "BIG": _tenant(data.big),
        "OPS": [list(op) for op in ops],
        "NONCE": nonce,
        "PACE_MS": pace_ms,
    }
    lines = [f"{var} = {lua(value)}" for var, value in header.items()]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n\n" + LIBRARY.read_text())
    return path


def wrk_argv(wrk: str, config: BenchConfig, url: str, script: Path, seconds: float) -> list[str]:
    return [wrk, "-t", str(config.wrk_threads), "-c", str(config.connections),
            "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script), url]


def run_wrk(argv: list[str]) -> Measurement:
    """Run wrk and read the JSON line the script's done() prints."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return _measurement(json.loads(line[len(RESULT_MARK):]))
    raise RuntimeError(f"wrk printed no result ({done.returncode}): {done.stdout}{done.stderr}")


def _measurement(result: dict) -> Measurement:
    errors = sum(result[kind] for kind in ("connect", "read", "write", "status", "timeout"))
    return Measurement(
        rate=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        mean_ms=result["mean_us"] / 1000,
        errors=errors,
        count=result["requests"],
    )


def plain_script(name: str, kind: str, key: str) -> Path:
    """bench/out/<name>_<kind>.lua without seeded data: "get" reads /customers/1..50 by
    display_id, "post" creates a customer, both with `key`."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}_{kind}.lua"
    headers = f'{{["Authorization"] = "Bearer {key}", ["Content-Type"] = "application/json"}}'
    if kind == "get":
        body = f'return wrk.format("GET", "/api/v1/customers/" .. math.random(50), {headers})'
    else:
        body = f'return wrk.format("POST", "/api/v1/customers", {headers}, \'{{"name": "w"}}\')'
    path.write_text(f"request = function()\n  {body}\nend\n")
    return path


def run_plain(wrk: str, script: Path, port: int, connections: int,
              seconds: int) -> tuple[float, float, float, int, int]:
    """wrk with one thread against 127.0.0.1:port: requests a second, p50 and p99 ms,
    non-2xx answers, requests, read from wrk's own report."""
    out = subprocess.run([wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    requests = int(re.search(r"(\d+) requests in", out)[1])
    latency = {m[1]: _ms(m[2], m[3]) for m in re.finditer(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", out)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, latency["50"], latency["99"], int(errors[1]) if errors else 0, requests


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
