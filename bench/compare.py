"""`python -m bench.compare BASE`: this tree's reads and writes against another checkout's.

BASE is a checkout of the code to compare with, e.g. a worktree of the commit before a change
(`git worktree add --detach ../base main`). Both run on the same PostgreSQL and Redis
(bench.stack.services), each on a database of its own, migrated with its own migrations and
seeded by this tree's bench/seed.py (which writes only columns both schemas have). Each API is
`pivotal serve` from its own code (BASE through PYTHONPATH), both started side by side and
loaded in turn by wrk, scenario by scenario, which of the two goes first alternating from
round to round. Figures are medians over the rounds; a ratio is this tree's over BASE's.

Writes bench/RESULTS-compare.md (BENCH_RESULTS names another file); BENCH_ROUNDS (default 5)
and BENCH_DURATION (5 s) set the run's shape, BENCH_SCENARIOS (comma-separated names from
bench/scenarios.py) which scenarios run. The big scope (the list scenario) is kept to
50,000 customers so that seeding two databases stays short.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import seed, stack
from bench.config import BENCH_DIR, ROOT, BenchConfig
from bench.measure import Measurement
from bench.runner import Runner, _log
from bench.scenarios import SCENARIOS, smoke_requests
from bench.wrk import find_wrk
from devtools.devstack import free_port

NAMES = ("get_display", "get_cuid", "list_first", "post_customer", "patch_customer")
BIG_CUSTOMERS = 50_000


def _config() -> BenchConfig:
    env = dict(os.environ)
    env.setdefault("BENCH_ROUNDS", "5")
    env.setdefault("BENCH_DURATION", "5")
    config = BenchConfig.from_env(env)
    return replace(config, big_customers=min(config.big_customers, BIG_CUSTOMERS),
                   results_file=Path(env.get("BENCH_RESULTS") or BENCH_DIR / "RESULTS-compare.md"))


def _base_env(base: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(base)}


def _migrated_database(server_url: str, name: str, base: Path | None) -> str:
    """Database `name` made afresh and migrated by this tree, or by BASE's own code."""
    if base is None:
        return asyncio.run(stack.recreate_database(server_url, name))
    code = ("import asyncio, sys; from bench import stack; "
            "print(asyncio.run(stack.recreate_database(sys.argv[1], sys.argv[2])))")
    done = subprocess.run([sys.executable, "-c", code, server_url, name], env=_base_env(base),
                          cwd=base, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _runner(config: BenchConfig, data: seed.SeedData, server: stack.Server, database_url: str,
            wrk_path: str) -> Runner:
    return Runner(config, data, {"api": server}, database_url, wrk_path, "")


def _smoke(runner: Runner, ops: set[str]) -> None:
    """Each operation answers 2xx before any load: a broken route fails the run instead of
    reading like throughput."""
    for op, method, path, tenant, body in smoke_requests(runner.data):
        if op in ops:
            response = httpx.request(
                method, runner.servers["api"].url + "/api/v1" + path, content=body, timeout=10,
                headers={"Authorization": f"Bearer {tenant.keys[0]}",
                         "Content-Type": "application/json"})
            if not response.is_success:
                raise RuntimeError(f"{op}: {response.status_code} {response.text}")


def run(base: Path) -> Path:
    config, wrk_path = _config(), find_wrk()
    names = os.environ.get("BENCH_SCENARIOS", ",".join(NAMES)).split(",")
    scenarios = [scenario for scenario in SCENARIOS if scenario.name in names]
    with ExitStack() as cleanup:
        services, source = cleanup.enter_context(stack.services())
        runners = {}
        for label, code in (("base", base), ("head", None)):
            name = f"pivotal_bench_{label}"
            url = _migrated_database(services.database_url, name, code)
            cleanup.callback(lambda name=name: asyncio.run(
                stack.drop_database(services.database_url, name)))
            print(f"{label}: seeding {name} ...", flush=True)
            data = asyncio.run(seed.seed(url, config))
            env = stack.server_env(url, services.redis_url)
            if code is not None:
                env["PYTHONPATH"] = str(code)
            port = free_port()
            server = cleanup.enter_context(stack.running_server(
                f"api-{label}", stack.api_argv(config, port), env, port, "/api/v1/health"))
            runners[label] = _runner(config, data, server, url, wrk_path)
        for runner in runners.values():
            _smoke(runner, {op for scenario in scenarios for op, _ in scenario.ops})
        results: dict[tuple[str, str], list[Measurement]] = {}
        for scenario in scenarios:
            for runner in runners.values():
                runner.measure(scenario, "api", config.warmup)
            for index in range(config.rounds):
                order = list(runners) if index % 2 == 0 else list(runners)[::-1]
                for label in order:
                    measured = runners[label].measure(scenario, "api", config.duration)
                    results.setdefault((scenario.name, label), []).append(measured)
                    _log(index, scenario.name, label, measured)
    return _write(config, base, source, scenarios, results)


def _median(values: list[Measurement], field: str) -> float:
    return statistics.median(getattr(m, field) for m in values)


def _write(config: BenchConfig, base: Path, source: str, scenarios: list,
           results: dict[tuple[str, str], list[Measurement]]) -> Path:
    head_commit = _commit(ROOT)
    lines = [
        "# This tree against another checkout: GET, list, POST and PATCH", "",
        (f"Generated by `python -m bench.compare {base}` on "
         f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; base {_commit(base)}, head "
         f"{head_commit}; services: {source}; {os.cpu_count()} cores, load average "
         f"{os.getloadavg()[0]:.1f} at the end."), "",
        (f"Each side: its own database ({config.workspaces} workspaces × "
         f"{config.customers_per_workspace:,} customers with {config.contacts_per_customer} "
         f"contacts and an onboarding each, one scope of {config.big_customers:,} customers, "
         f"vacuumed and analysed), `pivotal serve --workers {config.api_workers}` "
         f"(PIVOTAL_ENV=production), wrk {config.connections} keep-alive connections; "
         f"{config.rounds} rounds × {config.duration:.0f} s per side, alternating which goes "
         "first; medians. CPU is the API workers' time per request."), "",
        ("| scenario | base req/s | head req/s | head/base | p50 ms base → head "
         "| p99 ms base → head | CPU µs/req base → head | errors |"),
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for scenario in scenarios:
        old, new = results[(scenario.name, "base")], results[(scenario.name, "head")]
        rate_old, rate_new = _median(old, "rate"), _median(new, "rate")
        cpu = [statistics.median(m.cpu_us or 0 for m in side) for side in (old, new)]
        errors = sum(m.errors for m in old + new)
        lines.append(
            f"| {scenario.title} | {rate_old:,.0f} | {rate_new:,.0f} | "
            f"{rate_new / rate_old:.2f} | {_median(old, 'p50_ms'):.1f} → "
            f"{_median(new, 'p50_ms'):.1f} | {_median(old, 'p99_ms'):.1f} → "
            f"{_median(new, 'p99_ms'):.1f} | {cpu[0]:.0f} → {cpu[1]:.0f} | {errors} |")
    lines += ["", "Every round, req/s base → head:", ""]
    for scenario in scenarios:
        pairs = zip(results[(scenario.name, "base")], results[(scenario.name, "head")],
                    strict=True)
        rounds = ", ".join(f"{a.rate:,.0f} → {b.rate:,.0f}" for a, b in pairs)
        lines.append(f"- {scenario.name}: {rounds}")
    config.results_file.write_text("\n".join(lines) + "\n")
    return config.results_file


def _commit(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "?"


def main() -> int:
    if len(sys.argv) != 2 or not (Path(sys.argv[1]) / "app").is_dir():
        print("usage: python -m bench.compare BASE  (a checkout of the code to compare with)",
              file=sys.stderr)
        return 2
    path = run(Path(sys.argv[1]).resolve())
    print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
