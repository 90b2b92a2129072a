"""What a benchmark run does: data sizes, rounds, durations and load, from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"  # generated scripts, logs and raw results (git-ignored)
DATABASE = "pivotal_bench"  # dropped and created again by every run: never dev or test data


@dataclass(frozen=True)
class BenchConfig:
    """One run's shape. `quick` trades precision for a run of a couple of minutes."""

    quick: bool
    # several ordinary workspaces (live mode) carry the per-object scenarios ...
    workspaces: int
    customers_per_workspace: int
    contacts_per_customer: int
    # ... and one scope holds a million customers for the deep-page scenario
    big_customers: int
    rounds: int
    duration: float  # seconds of each measured wrk / pgbench run
    warmup: float  # seconds of unmeasured load before a scenario's first round
    api_workers: int
    connections: int  # wrk keep-alive connections
    wrk_threads: int
    pgbench_clients: int
    pgbench_threads: int
    layer_cycles: int  # rotations over the API-without-layers servers (bench/layers.py)
    results_file: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BenchConfig:
        """FULL by default, BENCH_QUICK=1 for development; BENCH_ROUNDS etc. override."""
        env = os.environ if env is None else env
        config = QUICK if env.get("BENCH_QUICK", "") not in ("", "0") else FULL
        if env.get("BENCH_ROUNDS"):
            config = replace(config, rounds=int(env["BENCH_ROUNDS"]))
        if env.get("BENCH_DURATION"):
            config = replace(config, duration=float(env["BENCH_DURATION"]))
        if env.get("BENCH_RESULTS"):
            config = replace(config, results_file=Path(env["BENCH_RESULTS"]))
        return config


FULL = BenchConfig(
    quick=False,
    workspaces=5,
    customers_per_workspace=25_000,
    contacts_per_customer=2,
    big_customers=1_000_000,
    rounds=3,
    duration=5.0,
    warmup=1.0,
    # one uvicorn worker per core, as production runs it
    api_workers=os.cpu_count() or 2,
    connections=32,
    wrk_threads=1,
    pgbench_clients=8,
    pgbench_threads=1,
    layer_cycles=12,
    results_file=BENCH_DIR / "RESULTS.md",
)

# quick results go to out/ so they never replace the committed full-run baseline
QUICK = replace(
    FULL,
    quick=True,
    workspaces=3,
    customers_per_workspace=3_000,
    big_customers=50_000,
    rounds=1,
    duration=3.0,
    warmup=0.5,
    layer_cycles=3,
    results_file=OUT_DIR / "RESULTS.quick.md",
)
