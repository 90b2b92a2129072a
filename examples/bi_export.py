"""BI export: active onboardings with their customers, to CSV.

    PIVOTAL_API_KEY=pivotal_test_… python examples/bi_export.py --output onboardings.csv

Pages through every onboarding with the wanted status (100 a request) and writes one row per
onboarding with its customer's columns beside it. Where the server supports
`expand=customer`, each page arrives with its customers inside; otherwise the customers a page
names are fetched together (concurrently, each once) before the page is written. The two ways
differ only in `pages_with_customers`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

import pivotal

COLUMNS = [
    "onboarding_id", "onboarding_display_id", "onboarding_name", "status", "owner_email",
    "target_date", "started_at", "external_id", "customer_id", "customer_display_id",
    "customer_name", "customer_domain", "customer_lifecycle_stage", "customer_owner_email",
]
Row = tuple[pivotal.Onboarding, pivotal.Customer]


async def supports_expand(client: pivotal.AsyncClient) -> bool:
    """Whether the served API documents `expand` on the onboardings list."""
    document = await client.request("GET", "/openapi.json")
    parameters = document["paths"]["/onboardings"]["get"].get("parameters", [])
    return any(parameter["name"] == "expand" for parameter in parameters)


async def pages_with_customers(client: pivotal.AsyncClient, status: str,
                               expand: bool) -> AsyncIterator[list[Row]]:
    """Each page of onboardings, each with its customer object."""
    if expand:
        first = await client.onboardings.list(status=status, limit=100, expand=["customer"])
        async for page in first.iter_pages():
            yield [(onboarding, onboarding.customer) for onboarding in page.data]
        return
    customers: dict[str, pivotal.Customer] = {}
    first = await client.onboardings.list(status=status, limit=100)
    async for page in first.iter_pages():
        missing = sorted({o.customer for o in page.data} - customers.keys())
        for customer in await asyncio.gather(*map(client.customers.retrieve, missing)):
            customers[customer.id] = customer
        yield [(onboarding, customers[onboarding.customer]) for onboarding in page.data]


def row(onboarding: pivotal.Onboarding, customer: pivotal.Customer) -> list[Any]:
    return [
        onboarding.id, onboarding.display_id, onboarding.name, onboarding.status,
        onboarding.owner_email, onboarding.target_date, onboarding.started_at,
        onboarding.external_id, customer.id, customer.display_id, customer.name, customer.domain,
        customer.lifecycle_stage, customer.owner_email,
    ]


async def export(output: TextIO, status: str, use_expand: bool | None) -> int:
    """Write the CSV; the number of onboardings written."""
    async with pivotal.AsyncClient() as client:  # PIVOTAL_API_KEY, PIVOTAL_BASE_URL
        expand = await supports_expand(client) if use_expand is None else use_expand
        writer = csv.writer(output)
        writer.writerow(COLUMNS)
        written = 0
        async for page in pages_with_customers(client, status, expand):
            writer.writerows(row(onboarding, customer) for onboarding, customer in page)
            written += len(page)
        return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="-", help="a CSV file (default: stdout)")
    parser.add_argument("--status", default="active")
    parser.add_argument("--no-expand", action="store_true",
                        help="fetch customers separately even where expand is supported")
    args = parser.parse_args()
    use_expand = False if args.no_expand else None
    if args.output == "-":
        written = asyncio.run(export(sys.stdout, args.status, use_expand))
    else:
        with open(args.output, "w", newline="", encoding="utf-8") as output:
            written = asyncio.run(export(output, args.status, use_expand))
    print(f"{written} onboardings exported", file=sys.stderr)


if __name__ == "__main__":
    main()
