// Auto-paging over a few hundred objects, upserted in batches: none skipped, none repeated.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { Customer, UpsertSummary } from "@pivotal/sdk";
import { clientFor } from "./support/env.js";
import { Recorder } from "./support/recorder.js";

const recorder = new Recorder();
const pivotal = clientFor(import.meta.url, { fetch: recorder.fetch });
const COUNT = 260;
let made: Customer[] = [];

function* rows(count: number) {
  for (let i = 0; i < count; i++) yield { externalId: `row-${i}`, name: `Customer ${i}`, lifecycleStage: "active" as const };
}

before(async () => {
  const progress: number[] = [];
  const summary = await pivotal.customers.upsertMany(rows(COUNT), { onProgress: (s) => progress.push(s.processed) });
  assert.deepEqual(progress, [100, 200, 260]);
  assert.equal(`${summary}`, "260 created, 0 updated, 0 unchanged, 0 failed");
  made = summary.objects;
});

test("for await over list() yields every object once, newest first, page after page", async () => {
  recorder.sent.length = 0;
  const seen: string[] = [];
  for await (const customer of pivotal.customers.list({ limit: 25 })) seen.push(customer.id);
  assert.equal(seen.length, COUNT);
  assert.equal(new Set(seen).size, COUNT);
  assert.deepEqual(seen, made.map((c) => c.id).reverse());
  assert.equal(recorder.sent.length, Math.ceil(COUNT / 25));
  assert.ok(recorder.sent.slice(1).every((r) => r.url.searchParams.get("cursor")));
});

test("ascending with a filter, and pages() yields whole pages", async () => {
  const sizes: number[] = [];
  const seen: string[] = [];
  for await (const page of pivotal.customers.list({ order: "asc", lifecycleStage: "active", limit: 100 }).pages()) {
    sizes.push(page.data.length);
    seen.push(...page.data.map((c) => c.id));
  }
  assert.deepEqual(sizes, [100, 100, 60]);
  assert.deepEqual(seen, made.map((c) => c.id));
});

test("await list() is one page; nextPage() the one after; the last has none", async () => {
  const first = await pivotal.customers.list({ limit: 100 });
  assert.equal(first.data.length, 100);
  assert.equal(first.hasMore, true);
  assert.ok(first.nextCursor);
  const second = await first.nextPage();
  const third = await second?.nextPage();
  assert.equal(third?.data.length, 60);
  assert.equal(third?.hasMore, false);
  assert.equal(await third?.nextPage(), null);
});

test("nothing is sent until the list is awaited or iterated", async () => {
  recorder.sent.length = 0;
  const pending = pivotal.customers.list();
  assert.equal(recorder.sent.length, 0);
  await pending;
  await pending; // the first page is fetched once
  assert.equal(recorder.sent.length, 1);
});

test("upserting again reports unchanged and updated, and failures name their item", async () => {
  const items = [
    { externalId: "row-0", name: "Customer 0" },
    { externalId: "row-1", name: "Renamed 1" },
    { externalId: "row-bad", name: "Bad", ownerEmail: "not an email" },
  ];
  const batches: UpsertSummary<Customer>[] = [];
  const summary = await pivotal.customers.upsertMany(items, { batchSize: 2, onProgress: (s) => batches.push(s) });
  assert.deepEqual([summary.created, summary.updated, summary.unchanged, summary.failed, summary.batches], [0, 1, 1, 1, 2]);
  assert.deepEqual(summary.results.map((r) => [r.index, r.result]), [[0, "unchanged"], [1, "updated"], [2, "error"]]);
  const [failure] = summary.failures;
  assert.equal(failure?.index, 2);
  assert.deepEqual(failure?.item, items[2]);
  assert.equal(failure?.error.field, "items.0.ownerEmail");
  assert.equal(batches.length, 2);
});

test("an async iterable is read in batches too", async () => {
  async function* later() {
    for (let i = 0; i < 3; i++) yield { externalId: `async-${i}`, name: `Async ${i}` };
  }
  const summary = await pivotal.customers.upsertMany(later(), { batchSize: 2 });
  assert.deepEqual([summary.created, summary.batches], [3, 2]);
  await assert.rejects(pivotal.customers.upsertMany([], { batchSize: 101 }), RangeError);
});
