// The boundary between camelCase and the wire, on its own: query strings and bodies.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Recorder } from "./support/recorder.js";
import { Pivotal } from "@pivotal/sdk";

// a fetch that answers an empty page itself: these tests read what the SDK would send
const recorder = new Recorder();
const offline = new Pivotal({
  apiKey: "pivotal_test_offline",
  baseUrl: "http://127.0.0.1:9/api/v1",
  fetch: async (input, init) => {
    recorder.sent.push({ at: 0, method: init?.method ?? "GET", url: new URL(String(input)), headers: new Headers(init?.headers), body: (init?.body as string) ?? null });
    return Response.json({ object: "list", data: [], has_more: false, next_cursor: null });
  },
});

const lastQuery = () => [...recorder.sent.at(-1)!.url.searchParams.entries()];

test("filters become snake_case, ranges created[gte], several values a comma list", async () => {
  await offline.onboardings.list({
    customerExternalId: "crm-1", status: ["active", "paused"], created: { gte: new Date("2026-01-02T03:04:05.678Z"), lt: "2026-02-01T00:00:00Z" },
    targetDate: { lt: new Date("2026-09-01T12:00:00Z") }, expand: ["customer"], limit: 5,
  });
  assert.deepEqual(lastQuery(), [
    ["customer_external_id", "crm-1"], ["status", "active,paused"],
    ["created[gte]", "2026-01-02T03:04:05.678Z"], ["created[lt]", "2026-02-01T00:00:00Z"],
    ["target_date[lt]", "2026-09-01"], ["expand", "customer"], ["limit", "5"],
  ]);
});

test("expand names camelCase fields and sends them snake_case; booleans as true/false", async () => {
  await offline.customers.list({ expand: ["primaryContact"], ownerEmail: undefined });
  assert.deepEqual(lastQuery(), [["expand", "primary_contact"]]);
  await offline.contacts.list({ isPrimary: false });
  assert.deepEqual(lastQuery(), [["is_primary", "false"]]);
});

test("a body's keys become snake_case, metadata's stay, undefined fields are left out", async () => {
  await offline.request("POST", "/onboardings", {
    body: { customerExternalId: "crm-1", name: "Go", ownerEmail: undefined, targetDate: new Date("2026-09-01T00:00:00Z"),
      metadata: { plan_tier: "gold", planTier: "x", nested_key: "y" } },
  });
  assert.deepEqual(JSON.parse(recorder.sent.at(-1)!.body!), {
    customer_external_id: "crm-1", name: "Go", target_date: "2026-09-01",
    metadata: { plan_tier: "gold", planTier: "x", nested_key: "y" },
  });
});

test("an id with a slash is refused before anything is sent", async () => {
  const before = recorder.sent.length;
  assert.throws(() => offline.customers.retrieve("a/b"), TypeError);
  assert.equal(recorder.sent.length, before);
});
