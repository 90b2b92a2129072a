"""pivotal-backfill: HubSpot and Stripe exports (and mapped CSVs) through the batch API."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from pivotal.backfill import layouts

BACKFILL = str(Path(sys.executable).with_name("pivotal-backfill"))

HUBSPOT_COMPANIES = ["Record ID", "Company name", "Company Domain Name", "Create Date",
                     "Company owner", "Phone Number", "City", "Country/Region", "Industry",
                     "Lifecycle Stage"]
HUBSPOT_CONTACTS = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Job Title",
                    "Contact owner", "Lead Status", "Create Date", "Associated Company IDs"]
STRIPE_CUSTOMERS = ["id", "Description", "Email", "Name", "Created (UTC)", "Delinquent",
                    "Currency", "Phone", "plan (metadata)", "crm_id (metadata)"]


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    # HubSpot writes a byte-order mark first
    with path.open("w", newline="", encoding="utf-8-sig") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def companies(count: int) -> list[dict[str, str]]:
    rows = [{"Record ID": str(9000 + i), "Company name": f"Company {i}",
             "Company Domain Name": f"company{i}.example", "Create Date": "2025-03-04 10:11",
             "Company owner": "Sam Seller", "Lifecycle Stage": "Customer"} for i in range(count)]
    rows[1]["Company Domain Name"] = "not a domain!"
    rows[2]["Company Domain Name"] = "https://www.Company2.example/about"
    return rows


def contacts() -> list[dict[str, str]]:
    return [
        {"Record ID": "501", "First Name": "Ada", "Last Name": "Lovelace", "Email": "ada@company0.example",
         "Job Title": "CTO", "Phone Number": "+44 20 1234", "Associated Company IDs": "9000"},
        {"Record ID": "502", "First Name": "Bob", "Email": "bob@company3.example",
         "Associated Company IDs": "9003;9004"},
        {"Record ID": "503", "First Name": "Eve", "Email": "eve@nowhere.example",
         "Associated Company IDs": "123456"},
    ]


def stripe() -> list[dict[str, str]]:
    return [
        {"id": "cus_Nffrfeu", "Description": "", "Email": "billing@globex.example", "Name": "Globex",
         "Created (UTC)": "2024-01-05 09:00", "plan (metadata)": "enterprise", "crm_id (metadata)": ""},
        {"id": "cus_Qz0nly", "Description": "Initech (legacy)", "Email": "", "Name": "",
         "Created (UTC)": "2024-02-06 09:00"},
    ]


def backfill(api, ws, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BACKFILL, *args], check=False, env=api.env(ws), capture_output=True,
                          text=True, timeout=60)


def test_hubspot_and_stripe_exports_twice_second_run_all_unchanged(batch_api, ws, pv, tmp_path):
    company_file = write_csv(tmp_path / "hubspot-companies.csv", HUBSPOT_COMPANIES, companies(230))
    contact_file = write_csv(tmp_path / "hubspot-contacts.csv", HUBSPOT_CONTACTS, contacts())
    stripe_file = write_csv(tmp_path / "unified_customers.csv", STRIPE_CUSTOMERS, stripe())
    # contacts named first: companies still go in before them
    first = backfill(batch_api, ws, str(contact_file), str(company_file), str(stripe_file))
    assert first.returncode == 1, first.stderr
    lines = first.stdout.splitlines()
    assert "hubspot-companies.csv (hubspot-companies) -> customers: 229 created, 0 updated, " \
           "0 unchanged, 1 failed" in lines
    assert "unified_customers.csv (stripe-customers) -> customers: 2 created, 0 updated, " \
           "0 unchanged, 0 failed" in lines
    assert "hubspot-contacts.csv (hubspot-contacts) -> contacts: 2 created, 0 updated, " \
           "0 unchanged, 1 failed" in lines
    assert lines.index(next(l for l in lines if l.startswith("hubspot-companies"))) < \
        lines.index(next(l for l in lines if l.startswith("hubspot-contacts")))
    assert "rows/s" in first.stderr and "ETA" in first.stderr and "230/230" in first.stderr

    [rejected_company] = list(csv.DictReader((tmp_path / "hubspot-companies.rejected.csv").open()))
    assert rejected_company["Record ID"] == "9001"
    assert "domain" in rejected_company["pivotal_error"]
    [rejected_contact] = list(csv.DictReader((tmp_path / "hubspot-contacts.rejected.csv").open()))
    assert rejected_contact["Email"] == "eve@nowhere.example"
    assert "customer_external_id" in rejected_contact["pivotal_error"]
    assert not (tmp_path / "unified_customers.rejected.csv").exists()

    [acme] = pv.customers.list(external_id="9000").data
    [ada] = pv.contacts.list(external_id="501").data
    assert (ada.customer, ada.name, ada.title, ada.phone) == (acme.id, "Ada Lovelace", "CTO", "+44 20 1234")
    [bob] = pv.contacts.list(external_id="502").data
    assert bob.customer == pv.customers.list(external_id="9003").data[0].id
    assert pv.customers.list(external_id="9002").data[0].domain == "www.company2.example"
    [globex] = pv.customers.list(external_id="cus_Nffrfeu").data
    assert (globex.name, globex.metadata) == (
        "Globex", {"plan": "enterprise", "stripe_email": "billing@globex.example"})
    assert pv.customers.list(external_id="cus_Qz0nly").data[0].name == "Initech (legacy)"
    events_after_first = len(list(pv.events.list(limit=100)))

    second = backfill(batch_api, ws, str(company_file), str(contact_file), str(stripe_file))
    assert second.returncode == 1
    assert "hubspot-companies.csv (hubspot-companies) -> customers: 0 created, 0 updated, " \
           "229 unchanged, 1 failed" in second.stdout
    assert "hubspot-contacts.csv (hubspot-contacts) -> contacts: 0 created, 0 updated, " \
           "2 unchanged, 1 failed" in second.stdout
    assert "unified_customers.csv (stripe-customers) -> customers: 0 created, 0 updated, " \
           "2 unchanged, 0 failed" in second.stdout
    assert len(list(pv.events.list(limit=100))) == events_after_first  # nothing was written


def test_another_layout_read_with_a_column_map(batch_api, ws, pv, tmp_path):
    accounts = write_csv(tmp_path / "accounts.csv", ["Account ID", "Account Name", "Website", "Tier"],
                         [{"Account ID": "A-1", "Account Name": "Umbrella", "Website": "umbrella.example",
                           "Tier": "gold"}])
    args = ["--resource", "customers", "--map", "external_id=Account ID",
            "--map", "name=Account Name", "--map", "domain=Website", "--map", "metadata.tier=Tier",
            str(accounts)]
    first = backfill(batch_api, ws, *args)
    assert first.returncode == 0, first.stderr
    assert "accounts.csv (mapped) -> customers: 1 created" in first.stdout
    [umbrella] = pv.customers.list(external_id="A-1").data
    assert (umbrella.name, umbrella.domain, umbrella.metadata) == (
        "Umbrella", "umbrella.example", {"tier": "gold"})
    second = backfill(batch_api, ws, *args)
    assert "0 created, 0 updated, 1 unchanged, 0 failed" in second.stdout
    assert not (tmp_path / "accounts.rejected.csv").exists()


def test_an_unknown_layout_without_a_map_is_refused(api, ws, tmp_path):
    odd = write_csv(tmp_path / "odd.csv", ["Foo", "Bar"], [{"Foo": "1", "Bar": "2"}])
    result = backfill(api, ws, str(odd))
    assert result.returncode != 0
    assert "--map" in result.stderr


@pytest.mark.parametrize(("columns", "name"), [
    (HUBSPOT_COMPANIES, "hubspot-companies"),
    (HUBSPOT_CONTACTS, "hubspot-contacts"),
    (["Record ID", "First Name", "Last Name", "Email", "Company Name"], "hubspot-contacts"),
    (STRIPE_CUSTOMERS, "stripe-customers"),
    (["Foo"], None),
])
def test_exports_are_recognised_by_their_columns(columns, name):
    detected = layouts.detect(columns)
    assert (detected.name if detected else None) == name


def test_rows_become_items_leaving_out_blank_cells():
    assert layouts.hubspot_contact({"Record ID": "7", "First Name": "Ada", "Last Name": "",
                                    "Email": "a@b.example", "Associated Company IDs": " ;42;43"}) == {
        "external_id": "7", "customer_external_id": "42", "email": "a@b.example", "name": "Ada"}
    assert layouts.hubspot_company({"Record ID": "9", "Company name": "Acme",
                                    "Company Domain Name": "HTTPS://Acme.example/x"}) == {
        "external_id": "9", "name": "Acme", "domain": "acme.example"}
    with pytest.raises(ValueError):
        layouts.parse_map(["name"])
