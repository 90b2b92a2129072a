"""examples/bi_export.py: active onboardings with their customers' columns, to CSV."""

from __future__ import annotations

import csv

import pytest

from tests.sdk.examples.running import Example


@pytest.mark.parametrize("flags", [(), ("--no-expand",)], ids=["as-served", "no-expand"])
def test_active_onboardings_are_exported_with_their_customers(api, ws, pv, tmp_path, flags):
    acme = pv.customers.create(name="Acme", domain="acme.example", lifecycle_stage="active")
    globex = pv.customers.create(name="Globex")
    wanted = [pv.onboardings.create(customer=acme.id, name=f"Acme {i}") for i in range(3)]
    wanted.append(pv.onboardings.create(customer=globex.id, name="Globex go-live",
                                        target_date="2026-09-01"))
    pv.onboardings.create(customer=globex.id, name="On hold", status="paused")
    output = tmp_path / "onboardings.csv"

    export = Example("bi_export.py", "--output", str(output), *flags, env=api.env(ws))
    assert export.wait() == 0, export.process.stderr.read()

    rows = list(csv.DictReader(output.open()))
    assert [r["onboarding_id"] for r in rows] == [o.id for o in reversed(wanted)]
    by_name = {r["onboarding_name"]: r for r in rows}
    assert (by_name["Acme 0"]["customer_name"], by_name["Acme 0"]["customer_domain"],
            by_name["Acme 0"]["customer_lifecycle_stage"]) == ("Acme", "acme.example", "active")
    assert (by_name["Globex go-live"]["customer_id"], by_name["Globex go-live"]["target_date"]) == (
        globex.id, "2026-09-01")
    assert {r["status"] for r in rows} == {"active"}
