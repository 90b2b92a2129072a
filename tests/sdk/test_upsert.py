"""upsert_many over the batch API (POST /<resource>/batch): any iterable, in batches of 100."""

from __future__ import annotations

import itertools

import pivotal
import pytest
from pivotal.batch import chunks


def test_chunks_read_an_iterable_lazily_in_batches():
    consumed = []

    def items():
        for i in itertools.count():
            consumed.append(i)
            yield {"i": i}

    batches = chunks(items(), 100)
    assert len(next(batches)) == 100
    assert len(consumed) == 100  # nothing beyond the first batch was read
    assert [len(b) for b in chunks(({"i": i} for i in range(250)), 100)] == [100, 100, 50]
    with pytest.raises(ValueError):
        next(chunks([], 101))


def test_upsert_many_creates_then_finds_everything_unchanged(batch_api, ws):
    rows = [{"external_id": f"hs-{i}", "name": f"Company {i}"} for i in range(250)]
    progress = []
    with batch_api.client(ws) as client:
        summary = client.customers.upsert_many(
            iter(rows), on_progress=lambda s: progress.append((s.batches, s.processed)))
        assert (summary.created, summary.updated, summary.unchanged, summary.failed) == (250, 0, 0, 0)
        assert progress == [(1, 100), (2, 200), (3, 250)]
        assert all(isinstance(c, pivotal.Customer) for c in summary.objects)
        assert [c.external_id for c in summary.objects] == [r["external_id"] for r in rows]
        again = client.customers.upsert_many(rows)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 250)
        assert len(list(client.customers.list(limit=100))) == 250


def test_upsert_many_updates_by_external_id_and_reports_failures_with_their_item(batch_api, ws):
    with batch_api.client(ws) as client:
        existing = client.customers.create(name="Old name", external_id="hs-1")
        summary = client.customers.upsert_many([
            {"external_id": "hs-1", "name": "New name"},
            {"external_id": "hs-2", "name": "Fresh", "domain": "not a domain!"},
            {"external_id": "hs-3", "name": "Fine"},
        ])
        assert [r.result for r in summary.results] == ["updated", "error", "created"]
        assert summary.results[0].data.id == existing.id
        [failure] = summary.failures
        assert (failure.index, failure.item["external_id"]) == (1, "hs-2")
        assert failure.error.field == "items.1.domain"
        assert client.customers.retrieve(existing.id).name == "New name"


def test_contacts_upsert_naming_their_customer_by_external_id(batch_api, ws):
    with batch_api.client(ws) as client:
        acme = client.customers.create(name="Acme", external_id="company-1")
        summary = client.contacts.upsert_many([
            {"external_id": "person-1", "customer_external_id": "company-1", "email": "ada@acme.com"},
            {"external_id": "person-2", "customer_external_id": "nope", "email": "bob@acme.com"},
        ])
        assert [r.result for r in summary.results] == ["created", "error"]
        assert summary.objects[0].customer == acme.id
        assert summary.failures[0].error.code == "resource_not_found"


def test_upsert_many_with_a_key_sends_one_derived_key_per_batch(batch_api, ws):
    from tests.sdk.test_retries import Recorder

    recorder = Recorder()
    rows = [{"external_id": f"k-{i}", "name": "K"} for i in range(150)]
    with batch_api.client(ws, http_client=recorder.client()) as client:
        client.customers.upsert_many(rows, idempotency_key="nightly-2026-06-01")
        replay = client.customers.upsert_many(rows, idempotency_key="nightly-2026-06-01")
    assert recorder.keys == ["nightly-2026-06-01:0", "nightly-2026-06-01:1"] * 2
    assert replay.created == 150  # the first run's answers, replayed
    assert recorder.responses[2][1].headers["idempotent-replayed"] == "true"
