"""Medians, ratios and targets, written to bench/RESULTS.md (and raw figures as JSON)."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.config import OUT_DIR, BenchConfig
from bench.measure import Measurement
from bench.runner import Runner
from bench.scenarios import (
    DEEP_PAGE,
    FILTERED_PAGES,
    MAX_WORKER_RSS_MB,
    PACED_P99_MS,
    SCENARIOS,
    WEBHOOK_STUB,
)


@dataclass(frozen=True)
class Summary:
    """Medians over the rounds of one (scenario, target)."""

    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float | None
    repeats: int


def summarize(runs: list[Measurement]) -> Summary:
    """Medians over rounds (errors and repeats added up)."""
    cpu = [m.cpu_us for m in runs if m.cpu_us is not None]
    return Summary(
        rate=statistics.median(m.rate for m in runs),
        p50_ms=statistics.median(m.p50_ms for m in runs),
        p99_ms=statistics.median(m.p99_ms for m in runs),
        errors=sum(m.errors for m in runs),
        cpu_us=statistics.median(cpu) if cpu else None,
        repeats=sum(m.repeats for m in runs),
    )


def ratio(runner: Runner, scenario: str, base: str) -> float:
    """Median over rounds of API rate / base rate: each round's pair ran back to back."""
    api, other = runner.results[(scenario, "api")], runner.results[(scenario, base)]
    return statistics.median(a.rate / b.rate for a, b in zip(api, other, strict=True))


def _cell(s: Summary) -> list[str]:
    cells = [f"{s.rate:,.0f}", f"{s.p50_ms:.1f} / {s.p99_ms:.1f}"]
    return cells + ([f"{s.cpu_us:,.0f}"] if s.cpu_us is not None else [])


def results_table(runner: Runner) -> list[str]:
    lines = [
        ("| scenario | API req/s | API p50 / p99 ms | API CPU µs/req | probe req/s "
         "| probe p50 / p99 ms | probe CPU µs/req | pgbench tx/s | pgbench p50 / p99 ms "
         "| API ÷ probe | API ÷ pgbench | errors |"),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for scenario in SCENARIOS:
        cells = [scenario.title]
        errors = 0
        for target in ("api", "probe", "pgbench"):
            summary = summarize(runner.results[(scenario.name, target)])
            cells += _cell(summary)
            errors += summary.errors
        cells += [f"{ratio(runner, scenario.name, 'probe'):.2f}",
                  f"{ratio(runner, scenario.name, 'pgbench'):.2f}", str(errors)]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(f"| {WEBHOOK_STUB[0]} |" + " — |" * 10 + f" {WEBHOOK_STUB[1]} |")
    return lines


def repeated_runs(runner: Runner) -> int:
    return sum(m.repeats for runs in runner.results.values() for m in runs)


def paced_table(runner: Runner) -> list[str]:
    lines = [("| scenario | target rate (½ peak) | achieved req/s | p50 ms | p99 ms "
              "| busiest worker's share |"), "|---|--:|--:|--:|--:|--:|"]
    for name, runs in runner.paced.items():
        summary = summarize([run.measurement for run in runs])
        target = statistics.median(run.target_rate for run in runs)
        share = statistics.median(run.measurement.busiest_share or 0 for run in runs)
        lines.append(f"| {name} | {target:,.0f} | {summary.rate:,.0f} | {summary.p50_ms:.1f} "
                     f"| {summary.p99_ms:.1f} | {share:.0%} |")
    return lines


def _filtered_ratios(runner: Runner, name: str) -> tuple[float, float]:
    """Medians over rounds of (CPU per request, rate) of the unfiltered page ÷ the filtered."""
    pairs = runner.filtered[name]
    cpu = statistics.median((f.cpu_us or 0) / (b.cpu_us or 1) for b, f in pairs)
    rate = statistics.median(b.rate / f.rate for b, f in pairs)
    return cpu, rate


def filtered_table(runner: Runner) -> list[str]:
    lines = [("| filtered page | req/s | p50 / p99 ms | CPU µs/req | unfiltered page "
              "| its CPU µs/req | cost ÷ unfiltered (CPU/req) | rate ÷ (unfiltered ÷ filtered) |"),
             "|---|--:|--:|--:|---|--:|--:|--:|"]
    for page in FILTERED_PAGES:
        if page.name not in runner.filtered:
            continue
        base = summarize([b for b, _ in runner.filtered[page.name]])
        mine = summarize([f for _, f in runner.filtered[page.name]])
        cpu, rate = _filtered_ratios(runner, page.name)
        lines.append(f"| {page.title} | {mine.rate:,.0f} | {mine.p50_ms:.1f} / {mine.p99_ms:.1f} "
                     f"| {mine.cpu_us or 0:,.0f} | {page.baseline} | {base.cpu_us or 0:,.0f} "
                     f"| {cpu:.2f}× | {rate:.2f}× |")
    return lines


def targets(runner: Runner, api_rss: list[float]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target the issue sets."""
    checks = []
    for scenario in SCENARIOS:
        if scenario.min_probe_ratio is not None:
            measured = ratio(runner, scenario.name, "probe")
            checks.append((f"{scenario.title}: ≥ {scenario.min_probe_ratio:.2f}× bare probe",
                           f"{measured:.3f}×", measured >= scenario.min_probe_ratio))
    for name, runs in runner.paced.items():
        p99 = summarize([run.measurement for run in runs]).p99_ms
        checks.append((f"{name}: p99 ≤ {PACED_P99_MS:.0f} ms at half the peak rate",
                       f"{p99:.1f} ms", p99 <= PACED_P99_MS))
    first, deep, limit = DEEP_PAGE
    first_rate = summarize(runner.results[(first, "api")]).rate
    deep_rate = summarize(runner.results[(deep, "api")]).rate
    checks.append((f"deep page costs ≤ {limit}× the first page (API)",
                   f"{first_rate / deep_rate:.2f}×", first_rate / deep_rate <= limit))
    for page in FILTERED_PAGES:
        if page.name in runner.filtered:
            cpu, _ = _filtered_ratios(runner, page.name)
            checks.append((f"{page.title}: ≤ {page.max_ratio:g}× the cost of {page.baseline}",
                           f"{cpu:.2f}×", cpu <= page.max_ratio))
    peak = max(api_rss, default=float("nan"))
    checks.append((f"API worker RSS ≤ {MAX_WORKER_RSS_MB:.0f} MB", f"{peak:.0f} MB peak",
                   peak <= MAX_WORKER_RSS_MB))
    return checks


def render(config: BenchConfig, runner: Runner, context: dict, rss: dict[str, list[float]]) -> str:
    """The whole RESULTS.md: when, where, with what, how, and the numbers."""
    lines = [
        "# Benchmark results",
        "",
        (f"Generated by `make bench`{' (BENCH_QUICK=1)' if config.quick else ''} on "
         f"{context['date']}, in {context['elapsed']}. Compare a change against these figures "
         "by running it again on the same kind of machine: absolute rates move with the box, the "
         "ratios to the probe and to pgbench much less."),
        "",
        "## Machine and versions",
        "",
        *[f"- {key}: {value}" for key, value in context["environment"].items()],
        "",
        "## Data and load",
        "",
        *[f"- {line}" for line in context["setup"]],
        "",
        "## Throughput and latency (medians over the rounds)",
        "",
        *results_table(runner),
        "",
        ("API ÷ probe and API ÷ pgbench are the medians of each round's ratio (the three targets "
         "of a round run back to back, the first one rotating from round to round). CPU µs/req "
         "is the server's worker processes' CPU time (user + system) per request: unlike the "
         "rates it hardly depends on what else the box is doing. Runs in which one worker got "
         "nearly every connection were run again (each worker listens on its own SO_REUSEPORT "
         "socket and the kernel spreads connections by a hash of their addresses, which can "
         f"still come out lopsided): {repeated_runs(runner)} this time."),
        "",
        "## Latency at half the peak rate (API)",
        "",
        *paced_table(runner),
        "",
        ("The busiest worker's share says how evenly the kernel spread wrk's keep-alive "
         "connections over the workers' sockets, 50% being an even split."),
        "",
        "## Filtered pages (API only)",
        "",
        *filtered_table(runner),
        "",
        ("Each filtered page ran back to back with its unfiltered page in every round (the "
         "order alternating). Cost is the workers' CPU time per request; the rate column says "
         "how many times more requests a second the unfiltered page served."),
        "",
        *_layer_section(context),
        "## Memory",
        "",
        f"- API workers, peak RSS: {', '.join(f'{mb:.0f} MB' for mb in rss['api'])}",
        f"- probe workers, peak RSS: {', '.join(f'{mb:.0f} MB' for mb in rss['probe'])}",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|--:|:-:|",
        *[f"| {name} | {value} | {'yes' if met else '**no**'} |"
          for name, value, met in targets(runner, rss["api"])],
        "",
        "## Commands",
        "",
        ("The -D values are this run's workspace ids; the Lua and SQL files are generated into "
         "bench/out/ by every run."),
        "",
        "```",
        *context["commands"],
        "```",
        "",
        "```sql",
        *context["scripts"],
        "```",
        "",
    ]
    return "\n".join(lines)


def _layer_section(context: dict) -> list[str]:
    layers = context.get("layers")
    if not layers:
        return []
    return [
        f"## Where the API's CPU goes ({layers['scenario']})",
        "",
        ("The API again, with layers switched off in its workers (bench/layers.py), beside the "
         "probe: the workers' CPU time per request over one-second wrk slices that rotate over "
         "all of them in a shuffled order, so the box's drift falls on each alike. The "
         "difference between two rows is what the layers between them cost."),
        "",
        *layers["lines"],
        "",
    ]


def write(config: BenchConfig, runner: Runner, context: dict, rss: dict[str, list[float]]) -> Path:
    """RESULTS.md where the config says, and every raw figure in out/results.json."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    config.results_file.parent.mkdir(parents=True, exist_ok=True)
    config.results_file.write_text(render(config, runner, context, rss))
    raw = {
        "context": context,
        "rss_mb": rss,
        "results": {f"{s}.{t}": [asdict(m) for m in runs]
                    for (s, t), runs in runner.results.items()},
        "paced": {name: [{"target_rate": p.target_rate, **asdict(p.measurement)} for p in runs]
                  for name, runs in runner.paced.items()},
    }
    (OUT_DIR / "results.json").write_text(json.dumps(raw, indent=2) + "\n")
    return config.results_file
