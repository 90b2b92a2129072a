"""The scenarios: which requests each one sends, and the targets its figures are held to.

A scenario is a weighted mix of operations. Each operation exists three times, kept in step:
as a wrk request builder (bench/load.lua), as a probe route (bench/probe.py) and as a
pgbench script running the endpoint's SQL (bench/pgbench.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.seed import SeedData, Tenant

OPERATIONS = (
    "get_display", "get_cuid", "list_first", "list_deep", "onboardings_active",
    "post_customer", "patch_customer",
)


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    ops: tuple[tuple[str, int], ...]  # (operation, weight)
    # also measure p99 latency at half the peak rate (the API only)
    paced: bool = False
    # minimum API throughput as a share of the bare probe's, when the issue sets one
    min_probe_ratio: float | None = None


SCENARIOS = (
    Scenario("get_display", "GET /customers/{display_id}", (("get_display", 1),),
             paced=True, min_probe_ratio=0.85),
    Scenario("get_cuid", "GET /customers/{cuid}", (("get_cuid", 1),),
             paced=True, min_probe_ratio=0.85),
    Scenario("list_first", "GET /customers?limit=100 (1M scope, first page)",
             (("list_first", 1),), min_probe_ratio=0.80),
    Scenario("list_deep", "GET /customers?limit=100&cursor= (1M scope, 90% deep)",
             (("list_deep", 1),)),
    Scenario("onboardings_active", "GET /onboardings?status=active&limit=100",
             (("onboardings_active", 1),)),
    Scenario("post_customer", "POST /customers (one workspace)", (("post_customer", 1),),
             min_probe_ratio=0.80),
    Scenario("patch_customer", "PATCH /customers/{display_id} (name)",
             (("patch_customer", 1),)),
    # a busy integration: mostly reads by id, some pages, one request in five a write
    Scenario("mixed", "mixed: 50% get id, 15% get cuid, 5% each list kind, 10% POST, 10% PATCH",
             (("get_display", 50), ("get_cuid", 15), ("list_first", 5), ("list_deep", 5),
              ("onboardings_active", 5), ("post_customer", 10), ("patch_customer", 10))),
)



@dataclass(frozen=True)
class FilteredPage:
    """A dashboard's filtered page, measured against the API alone beside its unfiltered
    page (`baseline`), back to back: its cost per request may be at most `max_ratio` times."""

    name: str
    title: str
    baseline: str
    max_ratio: float

    @property
    def scenario(self) -> Scenario:
        return Scenario(self.name, self.title, ((self.name, 1),))


FILTERED_PAGES = (
    FilteredPage("list_range", "customers, created[gte] & created[lt]: a 5% window of the 1M scope",
                 "list_first", 3.0),
    FilteredPage("list_multi", "customers, lifecycle_stage=at_risk,churned (1M scope)",
                 "list_first", 3.0),
    FilteredPage("list_search", "customers, q=\"ustomer NNN\" (1M scope, ~111 matches)",
                 "list_first", 3.0),
    FilteredPage("onboardings_expand", "onboardings?status=active&expand=customer (page of 100)",
                 "onboardings_active", 1.5),
)
# the first page and the deep page are compared with each other, not only with the probe
DEEP_PAGE = ("list_first", "list_deep", 1.2)
PACED_P99_MS = 25.0
MAX_WORKER_RSS_MB = 150.0
WEBHOOK_STUB = ("webhook fan-out", (
    "measured next by `python -m bench.webhooks` (part of `make bench`): see "
    "bench/RESULTS-webhooks.md"))


def smoke_requests(data: SeedData) -> list[tuple[str, str, str, Tenant, bytes | None]]:
    """One request of each operation, as (operation, method, path, tenant, body).

    Sent to both servers before any load, so a broken route fails the run instead of
    turning into a fast stream of errors that reads like throughput.
    """
    first, big = data.workspaces[0], data.big
    return [
        ("get_display", "GET", "/customers/1", first, None),
        ("get_cuid", "GET", f"/customers/{first.cuids[0]}", first, None),
        ("list_first", "GET", "/customers?limit=100", big, None),
        ("list_deep", "GET", f"/customers?limit=100&cursor={big.deep_cursor}", big, None),
        ("onboardings_active", "GET", "/onboardings?status=active&limit=100", first, None),
        ("post_customer", "POST", "/customers", first,
         b'{"name": "Smoke", "domain": "smoke.example.com", "metadata": {"source": "smoke"}}'),
        ("patch_customer", "PATCH", "/customers/2", first, b'{"name": "Smoke renamed"}'),
        ("list_range", "GET", (f"/customers?limit=100&created[gte]={big.range_start}"
                               f"&created[lt]={big.deep_cursor}"), big, None),
        ("list_multi", "GET", "/customers?limit=100&lifecycle_stage=at_risk,churned", big, None),
        ("list_search", "GET", "/customers?limit=100&q=ustomer%20424", big, None),
        ("onboardings_expand", "GET", "/onboardings?status=active&limit=100&expand=customer",
         first, None),
    ]
