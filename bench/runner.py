"""The measuring loop: rounds of every scenario against the API, the probe and pgbench."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace

import httpx

from bench import pgbench, wrk
from bench.config import OUT_DIR, BenchConfig
from bench.measure import Measurement
from bench.scenarios import SCENARIOS, Scenario, smoke_requests
from bench.seed import SeedData
from bench.stack import Server

TARGETS = ("api", "probe", "pgbench")
PREFIXES = {"api": "/api/v1", "probe": "/probe"}
CALIBRATION_SECONDS = 2.0
# Each API worker listens on its own SO_REUSEPORT socket (app/ops/server.py) and the kernel picks
# one for each new connection by a hash of its addresses, so wrk's connections split about
# evenly, but not exactly: a run can still load one worker far more than the other. At peak
# such a run measures the split, not the code: it is run again. Paced runs are not (a split
# below peak is what production clients meet too).
LOPSIDED_SHARE = 0.8
MAX_REPEATS = 2


@dataclass(frozen=True)
class Paced:
    """The API at a fixed share of its peak rate: the latency a caller sees when not saturated."""

    target_rate: float
    measurement: Measurement


@dataclass
class Runner:
    """Runs the scenarios and keeps every measurement, by (scenario, target)."""

    config: BenchConfig
    data: SeedData
    servers: dict[str, Server]
    database_url: str
    wrk_path: str
    pgbench_path: str
    results: dict[tuple[str, str], list[Measurement]] = field(default_factory=dict)
    paced: dict[str, list[Paced]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
    _runs: int = 0

    def smoke(self) -> None:
        """Every operation answers 2xx on both servers before any load is sent."""
        for op, method, path, tenant, body in smoke_requests(self.data):
            for name, prefix in PREFIXES.items():
                headers = {"Authorization": f"Bearer {tenant.keys[0]}",
                           "X-Bench-Workspace": tenant.workspace_id,
                           "Content-Type": "application/json"}
                url = self.servers[name].url + prefix + path
                response = httpx.request(method, url, headers=headers, content=body, timeout=10)
                if not response.is_success:
                    raise RuntimeError(f"{name} {op}: {response.status_code} {response.text}")

    def run(self) -> None:
        """Every scenario once per round; a scenario's first round starts with a warm-up."""
        for index in range(self.config.rounds):
            for scenario in SCENARIOS:
                if index == 0:
                    self.warm_up(scenario)
                self.measure_round(scenario, index)

    def warm_up(self, scenario: Scenario) -> None:
        """Unmeasured load first: connection pools filled, caches and plans warm."""
        for target in ("api", "probe"):
            self.measure(scenario, target, self.config.warmup)

    def measure_round(self, scenario: Scenario, index: int) -> None:
        """The three targets back to back, the first one rotating from round to round."""
        order = TARGETS[index % 3:] + TARGETS[:index % 3]
        for target in order:
            result = self.measure(scenario, target, self.config.duration)
            self.results.setdefault((scenario.name, target), []).append(result)
            _log(index, scenario.name, target, result)
        if scenario.paced:
            peak = self.results[(scenario.name, "api")][-1].rate
            paced = self.measure_paced(scenario, peak / 2)
            self.paced.setdefault(scenario.name, []).append(paced)
            _log(index, scenario.name, f"api@{paced.target_rate:.0f}/s", paced.measurement)

    def measure(self, scenario: Scenario, target: str, seconds: float,
                pace_ms: int = 0) -> Measurement:
        """One run of a scenario against one target: wrk for the servers, else pgbench."""
        self._runs += 1
        name = f"{scenario.name}.{target}"
        if target == "pgbench":
            files = pgbench.write_scripts(name, self.data, scenario.ops)
            log_prefix = OUT_DIR / f"{name}.log"
            argv = pgbench.pgbench_argv(self.pgbench_path, self.config, self.database_url,
                                        files, self.data, seconds, log_prefix)
            self.commands[name] = argv
            return pgbench.run_pgbench(argv, log_prefix)
        return self._measure_http(scenario, target, seconds, pace_ms)

    def _measure_http(self, scenario: Scenario, target: str, seconds: float,
                      pace_ms: int) -> Measurement:
        """wrk against one server; a lopsided run (see LOPSIDED_SHARE) is run again."""
        name = f"{scenario.name}.{target}" + (".paced" if pace_ms else "")
        server = self.servers[target]
        for repeat in range(1 + (0 if pace_ms else MAX_REPEATS)):
            # a fresh nonce per run: the external_ids a POST run creates must never repeat
            nonce = f"{secrets.token_hex(3)}{self._runs}{repeat}"
            script = wrk.write_script(name, PREFIXES[target], self.data, scenario.ops, nonce,
                                      pace_ms)
            argv = wrk.wrk_argv(self.wrk_path, self.config, server.url, script, seconds)
            self.commands[name] = argv
            before = server.cpu_seconds()
            result = wrk.run_wrk(argv)
            result = _with_cpu(result, before, server.cpu_seconds(), repeat)
            if (result.busiest_share or 0) < LOPSIDED_SHARE or len(before) < 2:
                break
        return result

    def measure_paced(self, scenario: Scenario, rate: float) -> Paced:
        """wrk paced by a per-connection delay, calibrated by a short first run.

        wrk is closed-loop: a connection sends its next request a delay after the previous
        response, so its cycle is the delay plus the response time. The calibration run tells
        the mean response time at about this load; the measured run's delay is what is left
        of the cycle the target rate needs.
        """
        cycle_ms = self.config.connections * 1000 / rate
        first = self.measure(scenario, "api", CALIBRATION_SECONDS, max(1, round(cycle_ms)))
        pace_ms = max(1, round(cycle_ms - first.mean_ms))
        return Paced(rate, self.measure(scenario, "api", self.config.duration, pace_ms))


def _with_cpu(result: Measurement, before: dict[int, float], after: dict[int, float],
              repeats: int) -> Measurement:
    used = [after[pid] - before.get(pid, 0.0) for pid in after]
    total = sum(used)
    return replace(
        result,
        cpu_us=total / result.count * 1e6 if result.count else None,
        busiest_share=max(used) / total if total > 0 else None,
        repeats=repeats,
    )


def _log(index: int, scenario: str, target: str, m: Measurement) -> None:
    notes = f"  {m.errors} errors" if m.errors else ""
    if m.cpu_us is not None:
        notes += f"  {m.cpu_us:5.0f} µs CPU/req, busiest worker {m.busiest_share:.0%}"
    if m.repeats:
        notes += f" (after {m.repeats} lopsided)"
    print(f"  round {index + 1} {scenario:<19} {target:<14} {m.rate:9.0f}/s  "
          f"p50 {m.p50_ms:6.2f} ms  p99 {m.p99_ms:6.2f} ms{notes}", flush=True)
