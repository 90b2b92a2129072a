"""`python -m bench.metrics`: what the API's Prometheus metrics cost a GET by id.

`pivotal serve --workers 2` twice on one scratch database, without and with --metrics-port,
started afresh each round: wrk reads /customers/{display_id} from one, then the other, the
order alternating round by round so the box's drift falls on both alike, and the metrics are
scraped once a round as Prometheus would. Medians over the rounds, and the median of each
round's ratio (with / without). The workers' CPU µs per request is the steadier figure on a
shared box. Writes bench/RESULTS-metrics.md.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.config import BENCH_DIR
from bench.runner import LOPSIDED_SHARE, MAX_REPEATS
from bench.scratch import run_and_report
from bench.stack import Server, running_server, server_env
from bench.wrk import find_wrk, plain_script, run_plain
from devtools.devstack import free_port

NAME = "pivotal_bench_metrics"
ROUNDS = int(os.environ.get("BENCH_METRICS_ROUNDS", "7"))
SECONDS, WARMUP_SECONDS, CONNECTIONS = 5, 2, 32
RESULTS = BENCH_DIR / "RESULTS-metrics.md"
MODES = ("off", "on")
COLUMNS = ("req/s", "p50 ms", "p99 ms", "non-2xx", "CPU µs/req")


def _seed(server: Server, key: str) -> None:
    """Customers 1..50 for the GETs to read."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url + "/api/v1", headers=headers, timeout=10) as client:
        for i in range(50):
            client.post("/customers", json={"name": f"m{i}"}).raise_for_status()


def _measure(wrk: str, script: Path, server: Server) -> tuple[float, ...]:
    """wrk's figures (COLUMNS), the API workers' CPU µs per request, and wrk's requests; a
    run whose connections landed nearly all on one worker is run again (bench/runner.py)."""
    for _ in range(1 + MAX_REPEATS):
        before = server.cpu_seconds()
        *figures, requests = run_plain(wrk, script, server.port, CONNECTIONS, SECONDS)
        used = [seconds - before.get(pid, 0.0) for pid, seconds in server.cpu_seconds().items()]
        if max(used) / sum(used) < LOPSIDED_SHARE:
            break
    return *figures, sum(used) / requests * 1e6, requests


def _counted(metrics_url: str) -> float:
    """How many GET requests the metrics have counted, over every route and status."""
    text = httpx.get(metrics_url, timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "pivotal_http_request_duration_seconds_count"
               and sample.labels["method"] == "GET")


@contextmanager
def _servers(env: dict[str, str], metrics_port: int) -> Iterator[dict[str, Server]]:
    """Both servers, on ports of this round: SO_REUSEPORT spreads a port's connections over
    its workers by a hash, which can favour one worker for as long as the port is kept."""
    pivotal = [sys.executable, "-m", "app.ops.cli", "serve", "--workers", "2"]
    with ExitStack() as stack:
        servers = {}
        for mode in MODES:
            port = free_port()
            extra = ["--metrics-port", str(metrics_port)] if mode == "on" else []
            servers[mode] = stack.enter_context(running_server(
                f"metrics-{mode}", [*pivotal, "--port", str(port), *extra], env, port,
                "/api/v1/health"))
        yield servers


def measure(database_url: str, redis_url: str, key: str) -> dict:
    wrk = find_wrk()
    env = {**server_env(database_url, redis_url), "PIVOTAL_RATE_LIMIT_PER_SECOND": "0"}
    script = plain_script("metrics", "get", key)
    runs: dict[str, list[tuple[float, ...]]] = {mode: [] for mode in MODES}
    counted = 0.0
    for round_ in range(ROUNDS):
        metrics_port = free_port()
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        with _servers(env, metrics_port) as servers:
            if round_ == 0:
                _seed(servers["off"], key)
            for mode in MODES:  # unmeasured: pools filled, statements prepared
                run_plain(wrk, script, servers[mode].port, CONNECTIONS, WARMUP_SECONDS)
            counted -= _counted(metrics_url)
            for mode in MODES if round_ % 2 == 0 else MODES[::-1]:
                runs[mode].append(_measure(wrk, script, servers[mode]))
                rate, *_, cpu_us, _ = runs[mode][-1]
                print(f"  round {round_ + 1} metrics {mode:<3} {rate:8.0f}/s  "
                      f"{cpu_us:5.0f} µs CPU/req", flush=True)
            counted += _counted(metrics_url)  # a scrape, as Prometheus would
    return {"runs": runs, "counted": counted}


async def _run(database_url: str, redis_url: str, key: str) -> dict:
    return await asyncio.to_thread(measure, database_url, redis_url, key)


def report(result: dict, source: str) -> str:
    runs = result["runs"]
    medians = {mode: [statistics.median(column) for column in zip(*runs[mode], strict=True)]
               for mode in MODES}  # the last column, wrk's requests, is summed instead
    ratios = [on[0] / off[0] for off, on in zip(runs["off"], runs["on"], strict=True)]
    cpu = medians["on"][4] - medians["off"][4]
    measured = sum(run[-1] for run in runs["on"])
    lines = [
        "# What the API's Prometheus metrics cost", "",
        (f"Generated by `python -m bench.metrics` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
         f"services: {source}."), "",
        (f"GET /customers/{{display_id}} (1..50, one key, rate limit off) from "
         f"`pivotal serve --workers 2` without and with `--metrics-port`, both started afresh "
         f"each round; wrk {CONNECTIONS} keep-alive connections, {ROUNDS} rounds × {SECONDS} s "
         f"each after a {WARMUP_SECONDS} s warm-up, the order alternating, a run that loaded "
         f"one worker with {LOPSIDED_SHARE:.0%} or more of the CPU run again; medians; the "
         f"metrics scraped once a round."), "",
        "| metrics | " + " | ".join(COLUMNS) + " |", "|---|" + "--:|" * len(COLUMNS),
    ]
    for mode in MODES:
        rate, p50, p99, errors, cpu_us, _ = medians[mode]
        lines.append(f"| {mode} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {errors:.0f} | "
                     f"{cpu_us:.0f} |")
    lines += [
        "",
        (f"Throughput with metrics: **{statistics.median(ratios):.1%}** of without (median of "
         f"the rounds' ratios; each round: {', '.join(f'{r:.0%}' for r in ratios)}). CPU per "
         f"request: {cpu:+.0f} µs with metrics ({cpu / medians['off'][4]:+.1%})."), "",
        (f"The metrics counted {result['counted']:,.0f} GET requests over the rounds, wrk "
         f"{measured:,} (wrk leaves out what was in flight when it stopped). CPU µs per "
         f"request is the CPU time (user + system) of the API's worker processes over the wrk "
         f"run divided by its requests: unlike the rates, it hardly depends on what else the "
         f"box is doing."),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    run_and_report(NAME, _run, report, RESULTS)


if __name__ == "__main__":
    main()
