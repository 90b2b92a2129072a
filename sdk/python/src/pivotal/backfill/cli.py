"""pivotal-backfill FILE... : CRM exports into Pivotal through the batch API.

    pivotal-backfill companies.csv contacts.csv          # HubSpot exports, recognised by columns
    pivotal-backfill customers.csv                        # a Stripe customers export
    pivotal-backfill --resource customers --map external_id="Account ID" \\
        --map name="Account Name" --map domain=Website --map metadata.tier=Tier accounts.csv

Reads PIVOTAL_API_KEY and PIVOTAL_BASE_URL (or --api-key, --base-url). Customers files run
before contacts files, whatever the order given. Exit status: 0 when every row was accepted,
1 when some were rejected (see <file>.rejected.csv), 2 on a usage or API error.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pivotal
from pivotal.backfill import layouts
from pivotal.backfill.progress import ProgressBar
from pivotal.batch import UpsertSummary

RESOURCE_ORDER = ("customers", "contacts", "onboardings")
ERROR_COLUMN = "pivotal_error"


@dataclass(frozen=True)
class Job:
    path: Path
    resource: str
    layout: str
    convert: Callable[[layouts.Row], layouts.Item]


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        return next(csv.reader(file), [])


def _rows(path: Path) -> Iterator[dict[str, str]]:
    # utf-8-sig: HubSpot and Excel write a byte-order mark first
    with path.open(newline="", encoding="utf-8-sig") as file:
        yield from csv.DictReader(file)


def plan(paths: list[Path], layout: str | None, resource: str | None,
         mapping: dict[str, str]) -> list[Job]:
    """What to do with each file, customers files first."""
    jobs = []
    for path in paths:
        known = layouts.by_name(layout) if layout else layouts.detect(_header(path))
        if known is None and not (resource and mapping):
            raise SystemExit(
                f"{path}: not a known export ({', '.join(layouts.NAMES)}); "
                "say how to read it with --resource and --map FIELD=COLUMN")
        base = known.convert if known else None
        convert = layouts.mapped(mapping, base) if mapping else known.convert
        jobs.append(Job(path, resource or known.resource, known.name if known else "mapped",
                        convert))
    return sorted(jobs, key=lambda job: RESOURCE_ORDER.index(job.resource))


def run(client: pivotal.Client, job: Job, batch_size: int) -> UpsertSummary:
    total = sum(1 for _ in _rows(job.path))
    bar = ProgressBar(f"{job.path.name} -> {job.resource}", total)
    items = (job.convert(row) for row in _rows(job.path))
    summary = getattr(client, job.resource).upsert_many(
        items, batch_size=batch_size, on_progress=lambda s: bar.update(s.processed))
    bar.finish(summary.processed)
    write_rejected(job.path, summary)
    return summary


def rejected_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejected.csv")


def write_rejected(path: Path, summary: UpsertSummary) -> None:
    """The rows the API refused, as read, with the reason in a last column; no file (and no
    stale one from an earlier run) when every row went in."""
    target = rejected_path(path)
    if not summary.failures:
        target.unlink(missing_ok=True)
        return
    reasons = {failure.index: _reason(failure.error) for failure in summary.failures}
    columns = _header(path)
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([*columns, ERROR_COLUMN])
        for index, row in enumerate(_rows(path)):
            if index in reasons:
                writer.writerow([*(row.get(c, "") for c in columns), reasons[index]])


def _reason(error: pivotal.ErrorBody) -> str:
    # "items.3.domain" -> "domain": the row is already the item
    field = error.field.split(".", 2)[-1] if error.field and error.field.startswith("items.") else error.field
    return f"{error.code}: {error.message}" + (f" (field {field})" if field else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pivotal-backfill", description=__doc__.split("\n\n")[0].split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--layout", choices=layouts.NAMES, help="skip detection by columns")
    parser.add_argument("--resource", choices=RESOURCE_ORDER,
                        help="what the rows are, for a file read with --map")
    parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                        help="read FIELD (or metadata.KEY) from COLUMN; repeatable")
    parser.add_argument("--api-key", help="default: $PIVOTAL_API_KEY")
    parser.add_argument("--base-url", help="default: $PIVOTAL_BASE_URL")
    parser.add_argument("--batch-size", type=int, default=100, help="items per request (1-100)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        mapping = layouts.parse_map(args.map)
        client = pivotal.Client(args.api_key, base_url=args.base_url)
    except ValueError as exc:
        print(f"pivotal-backfill: {exc}", file=sys.stderr)
        return 2
    rejected = 0
    with client:
        for job in plan(args.files, args.layout, args.resource, mapping):
            try:
                summary = run(client, job, args.batch_size)
            except pivotal.PivotalError as exc:
                print(f"pivotal-backfill: {job.path}: {exc}", file=sys.stderr)
                return 2
            print(f"{job.path.name} ({job.layout}) -> {job.resource}: {summary}")
            if summary.failed:
                print(f"  rejected rows: {rejected_path(job.path)}")
            rejected += summary.failed
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())
