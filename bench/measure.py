"""One measured run's figures, whichever tool produced them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    rate: float  # requests (wrk) or transactions (pgbench) per second
    p50_ms: float
    p99_ms: float
    mean_ms: float
    errors: int  # failed requests: non-2xx, socket errors, timeouts, failed transactions
    count: int
    # HTTP servers only: their workers' CPU time per request, and the busiest worker's share
    # of that time (1 / workers when wrk's connections landed evenly)
    cpu_us: float | None = None
    busiest_share: float | None = None
    repeats: int = 0  # runs thrown away because one worker got nearly all connections


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nan when there are none)."""
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))]) if ordered else float("nan")
