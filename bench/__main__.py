"""`python -m bench` (`make bench`): start the stack, seed, measure, write bench/RESULTS.md.

BENCH_QUICK=1 for a short development run (results in bench/out/RESULTS.quick.md);
BENCH_ROUNDS, BENCH_DURATION and BENCH_RESULTS override the run's shape; BENCH_KEEP=1 keeps
the pivotal_bench database afterwards for investigation.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime

from bench import environment, layers, report, seed, stack
from bench.config import OUT_DIR, ROOT, BenchConfig
from bench.pgbench import find_pgbench
from bench.runner import Runner
from bench.scenarios import SCENARIOS
from bench.wrk import find_wrk
from devtools.devstack import free_port


def _stop_on_sigterm() -> None:
    # SIGTERM unwinds like Ctrl-C, so every server and the embedded stack are stopped
    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def _say(message: str) -> None:
    print(message, flush=True)


def _setup_lines(config: BenchConfig, data: seed.SeedData) -> list[str]:
    rows = ", ".join(f"{count:,} {table}" for table, count in data.rows.items())
    return [
        f"seeded in {data.seconds:.0f} s: {rows}",
        (f"{config.workspaces} workspaces of {config.customers_per_workspace:,} customers "
         f"({config.contacts_per_customer} contacts and 1 onboarding each), plus one scope of "
         f"{config.big_customers:,} customers (the list scenarios); all live mode"),
        (f"API: `pivotal serve --workers {config.api_workers}` (PIVOTAL_ENV=production); "
         f"probe: bench/probe.py under the same uvicorn settings and worker count"),
        (f"{config.rounds} rounds × {config.duration:.0f} s per run; wrk {config.connections} "
         f"keep-alive connections, {config.wrk_threads} thread; pgbench -M prepared, "
         f"{config.pgbench_clients} clients, {config.pgbench_threads} thread"),
    ]


def _commands(runner: Runner) -> list[str]:
    """A few of the run's own command lines, with paths relative and this run's ports named."""
    shown = ["make bench            # or: BENCH_QUICK=1 make bench"]
    names = {server.url: f"http://127.0.0.1:${name.upper()}_PORT"
             for name, server in runner.servers.items()}
    for name in ("get_display.api", "get_display.probe", "get_display.api.paced",
                 "get_display.pgbench", "post_customer.pgbench"):
        if name not in runner.commands:
            continue
        argv = [names.get(arg, arg.replace(f"{ROOT}/", "")) for arg in runner.commands[name]]
        argv = [arg if len(arg) < 120 else arg[:40] + "…" for arg in argv]
        shown.append(shlex.join(argv))
    return shown


def _scripts() -> list[str]:
    """Two of the generated pgbench scripts: the SQL the database's limit is measured with."""
    shown = []
    for name in ("get_display.pgbench.0.sql", "post_customer.pgbench.0.sql"):
        path = OUT_DIR / name
        if path.exists():
            shown += [f"-- bench/out/{name}", path.read_text().rstrip(), ""]
    return shown


def run(config: BenchConfig) -> None:
    wrk_path, pgbench_path = find_wrk(), find_pgbench()
    started = time.monotonic()
    with ExitStack() as cleanup:
        services, source = cleanup.enter_context(stack.services())
        _say(f"PostgreSQL and Redis: {source}")
        database_url = asyncio.run(stack.recreate_database(services.database_url))
        if not os.environ.get("BENCH_KEEP"):
            cleanup.callback(lambda: asyncio.run(stack.drop_database(services.database_url)))
        _say("seeding ...")
        data = asyncio.run(seed.seed(database_url, config))
        _say(f"seeded {data.rows} in {data.seconds:.0f} s")
        env = stack.server_env(database_url, services.redis_url)
        api_port, probe_port = free_port(), free_port()
        servers = {
            "api": cleanup.enter_context(stack.running_server(
                "api", stack.api_argv(config, api_port), env, api_port, "/api/v1/health")),
            "probe": cleanup.enter_context(stack.running_server(
                "probe", stack.probe_argv(config, probe_port), env, probe_port, "/probe/health")),
        }
        cleanup.enter_context(stack.webhook_worker(env))
        sampler = cleanup.enter_context(stack.RssSampler(list(servers.values())))
        runner = Runner(config, data, servers, database_url, wrk_path, pgbench_path)
        runner.smoke()
        _say(f"measuring: {config.rounds} rounds × {config.duration:.0f} s runs")
        runner.run()
        _say("filtered pages (API only), each beside its unfiltered page ...")
        runner.run_filtered()
        sampler.sample()
        rss = {name: sampler.peak_mb(name) for name in servers}
        _say("where the API's CPU goes: the API without each layer, beside the probe ...")
        scenario = SCENARIOS[0]
        layer_lines = [asyncio.run(layers.room_for_variants(database_url, config, env))]
        if not layer_lines[0]:
            with layers.variant_servers(config, env, data.workspaces[0].workspace_id) as found:
                costs = layers.measure(config, data, scenario, wrk_path,
                                       {**found, "probe": servers["probe"]})
            layer_lines = layers.report_lines(costs)
        context = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "elapsed": f"{(time.monotonic() - started) / 60:.1f} min",
            "environment": asyncio.run(environment.describe(
                database_url, services.redis_url, source, wrk_path, pgbench_path)),
            "setup": _setup_lines(config, data),
            "commands": _commands(runner),
            "scripts": _scripts(),
            "layers": {"scenario": scenario.title, "lines": layer_lines},
        }
    path = report.write(config, runner, context, rss)
    _say(f"results: {path}")
    _say(path.read_text())


def main() -> int:
    _stop_on_sigterm()
    run(BenchConfig.from_env())
    return 0


if __name__ == "__main__":
    sys.exit(main())
