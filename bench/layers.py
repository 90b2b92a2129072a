"""Where the API's CPU goes: the API with layers left out, beside the probe, on one scenario.

Each variant is the API itself, served by `pivotal serve`'s own code with the same worker count,
with one or more layers switched off in its worker processes before the app is built:

- request_log: the JSON line per request (app/logs.py)
- edge: Request-Id, deadline and log line together (app/deadline.py)
- rate_limit: the per-key limit and its RateLimit-* headers (app/ratelimit.py)
- auth: key lookup and rate limit; every request runs as the first workspace's live key

The measure is the workers' CPU time per request under wrk, taken in one-second slices that
rotate over all the servers in a new shuffled order each cycle, so that the box's drift falls on
every server alike. The difference between two variants is what the layers between them cost.

    python -m bench.layers --port 8003 --workers 2 --leave-out edge,auth   # one variant's server
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from litestar import Litestar

from bench import wrk
from bench.config import BenchConfig
from bench.runner import PREFIXES
from bench.scenarios import Scenario
from bench.seed import SeedData
from bench.stack import Server, running_server
from devtools.devstack import free_port

LEAVE_OUT_ENV = "PIVOTAL_BENCH_LEAVE_OUT"
WORKSPACE_ENV = "PIVOTAL_BENCH_WORKSPACE"
LAYERS = ("request_log", "edge", "rate_limit", "auth")
# (name, layers left out, what it is)
VARIANTS = (
    ("api", (), "the API as served"),
    ("no request log", ("request_log",), "without the request log line"),
    ("no edge", ("edge",), "without Request-Id, deadline and log line"),
    ("no rate limit", ("rate_limit",), "without the rate limit (no Redis, no RateLimit-* headers)"),
    ("no auth", ("auth",), "without key lookup and rate limit"),
    ("bare", ("edge", "auth"), "without edge, key lookup and rate limit"),
)
SLICE_SECONDS = 1


def create_layer_app() -> Litestar:
    """The API's app with the layers named in PIVOTAL_BENCH_LEAVE_OUT switched off."""
    import app.http.edge
    import app.main
    from app.core.principal import Principal
    from app.http.ratelimit import RateLimiter
    from app.settings import Settings

    leave_out = {name for name in os.environ.get(LEAVE_OUT_ENV, "").split(",") if name}
    if unknown := leave_out - set(LAYERS):
        raise ValueError(f"unknown layers: {sorted(unknown)}")
    if "request_log" in leave_out:
        app.http.edge.log_request = lambda scope: None
    if "edge" in leave_out:
        app.main.with_deadline = lambda handler, seconds: handler
    if "rate_limit" in leave_out:
        async def unlimited(self: RateLimiter, key_id: str) -> None:
            return None

        RateLimiter.hit = unlimited  # type: ignore[method-assign]
    if "auth" in leave_out:
        principal = Principal("bench", os.environ[WORKSPACE_ENV], True)

        async def fixed_principal(request: object) -> None:
            request.scope["principal"] = principal  # type: ignore[attr-defined]

        app.main.authenticate = fixed_principal  # type: ignore[assignment]
    return app.main.create_app(Settings.from_env())


async def room_for_variants(database_url: str, config: BenchConfig, env: dict[str, str]) -> str:
    """Why the variants cannot run beside the API and the probe ('' when they can): each worker
    may hold a full pool of connections."""
    import asyncpg

    from app.settings import Settings

    pool_max = Settings.from_env(env).db_pool_max
    needed = (len(VARIANTS) + 2) * config.api_workers * pool_max + config.pgbench_clients + 10
    conn = await asyncpg.connect(database_url)
    try:
        available = int(await conn.fetchval("show max_connections"))
    finally:
        await conn.close()
    if available >= needed:
        return ""
    return (f"not measured: the servers could open {needed} connections and PostgreSQL's "
            f"max_connections is {available} (the embedded stack allows 200)")


@dataclass(frozen=True)
class LayerCosts:
    scenario: Scenario
    cpu_us: dict[str, float]  # variant (or "probe") -> workers' CPU µs per request
    requests: dict[str, int]


@contextmanager
def variant_servers(config: BenchConfig, env: dict[str, str],
                    workspace_id: str) -> Iterator[dict[str, Server]]:
    """Every variant's server, started together and stopped together."""
    with ExitStack() as stack:
        servers = {}
        for name, leave_out, _ in VARIANTS:
            port = free_port()
            argv = [sys.executable, "-m", "bench.layers", "--port", str(port),
                    "--workers", str(config.api_workers), "--leave-out", ",".join(leave_out)]
            variant_env = dict(env, **{WORKSPACE_ENV: workspace_id})
            label = "layers-" + name.replace(" ", "-")
            servers[name] = stack.enter_context(
                running_server(label, argv, variant_env, port, "/api/v1/health"))
        yield servers


def measure(config: BenchConfig, data: SeedData, scenario: Scenario, wrk_path: str,
            servers: dict[str, Server]) -> LayerCosts:
    """CPU µs per request of each server, over shuffled rotations of short slices."""
    cpu = {name: 0.0 for name in servers}
    count = {name: 0 for name in servers}
    for _ in range(config.layer_cycles):
        order = list(servers)
        random.shuffle(order)
        for name in order:
            server = servers[name]
            prefix = PREFIXES["probe" if name == "probe" else "api"]
            script = wrk.write_script(f"layers.{scenario.name}", prefix, data, scenario.ops,
                                      secrets.token_hex(4))
            argv = wrk.wrk_argv(wrk_path, config, server.url, script, SLICE_SECONDS)
            before = server.cpu_seconds()
            result = wrk.run_wrk(argv)
            after = server.cpu_seconds()
            if result.errors:
                raise RuntimeError(f"layers: {name} answered {result.errors} errors")
            cpu[name] += sum(after[pid] - before.get(pid, 0.0) for pid in after)
            count[name] += result.count
    return LayerCosts(scenario, {name: cpu[name] / count[name] * 1e6 for name in servers}, count)


def report_lines(costs: LayerCosts) -> list[str]:
    """The RESULTS.md section: each variant's CPU per request and its distance to the API's."""
    api = costs.cpu_us["api"]
    lines = [
        "| server | leaves out | CPU µs/req | API minus this | requests |",
        "|---|---|--:|--:|--:|",
    ]
    described = {name: what for name, _, what in VARIANTS}
    described["probe"] = "the bare probe (bench/probe.py)"
    for name, value in costs.cpu_us.items():
        lines.append(f"| {name} | {described[name]} | {value:.0f} | {api - value:+.0f} | "
                     f"{costs.requests[name]:,} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--leave-out", default="", help=f"comma-separated: {', '.join(LAYERS)}")
    args = parser.parse_args()
    os.environ[LEAVE_OUT_ENV] = args.leave_out  # the workers read it when they build the app

    from app.ops import server
    from app.settings import Settings

    server.serve(host="127.0.0.1", port=args.port, workers=args.workers,
                 settings=Settings.from_env(), app="bench.layers:create_layer_app")


if __name__ == "__main__":
    main()
