// camelCase stops at the caller's own keys: metadata crosses the boundary untouched both ways.

import assert from "node:assert/strict";
import { test } from "node:test";
import { clientFor, unique } from "./support/env.js";
import { Recorder } from "./support/recorder.js";

const recorder = new Recorder();
const pivotal = clientFor(import.meta.url, { fetch: recorder.fetch });
const metadata = { plan_tier: "gold", planTier: "camel", "Seats-Count": "12", crm_id: "hs_981" };

test("metadata keys are sent and answered exactly as given, fields around them converted", async () => {
  const customer = await pivotal.customers.create({ name: "Meta", ownerEmail: "csm@pivotal.example", metadata });
  const sent = recorder.lastBody();
  assert.deepEqual(sent, { name: "Meta", owner_email: "csm@pivotal.example", metadata });
  assert.deepEqual(customer.metadata, metadata);
  assert.deepEqual((await pivotal.customers.retrieve(customer.id)).metadata, metadata);
});

test("an update merges metadata key by key, null removing one, keys untouched", async () => {
  const customer = await pivotal.customers.create({ name: "Merge", metadata });
  const updated = await pivotal.customers.update(customer.id, { metadata: { plan_tier: "platinum", planTier: null, new_key: "x" } });
  assert.deepEqual(recorder.lastBody(), { metadata: { plan_tier: "platinum", planTier: null, new_key: "x" } });
  assert.deepEqual(updated.metadata, { plan_tier: "platinum", "Seats-Count": "12", crm_id: "hs_981", new_key: "x" });
});

test("an event's previousAttributes are camelCase fields whose metadata keeps its keys", async () => {
  const customer = await pivotal.customers.create({ name: "Evented", ownerEmail: "a@pivotal.example", metadata: { plan_tier: "gold" } });
  await pivotal.customers.update(customer.id, { ownerEmail: "b@pivotal.example", metadata: { plan_tier: "silver" } });
  const events = await pivotal.events.list({ type: "customer.updated" });
  const event = events.data.find((e) => e.data.object.id === customer.id);
  assert.deepEqual(event?.data.previousAttributes, { ownerEmail: "a@pivotal.example", metadata: { plan_tier: "gold" } });
  assert.deepEqual(event?.data.object.metadata, { plan_tier: "silver" });
});

test("batch items keep their metadata keys, and contacts' and onboardings' do too", async () => {
  const externalId = `meta-${unique()}`;
  const summary = await pivotal.customers.upsertMany([{ name: "Batched", externalId, metadata: { deal_stage: "won" } }]);
  assert.deepEqual(recorder.lastBody(), { items: [{ name: "Batched", external_id: externalId, metadata: { deal_stage: "won" } }] });
  assert.deepEqual(summary.objects[0]?.metadata, { deal_stage: "won" });
  const contact = await pivotal.contacts.create({ customerExternalId: externalId, email: "m@meta.example", metadata: { linkedin_url: "x" } });
  assert.deepEqual(contact.metadata, { linkedin_url: "x" });
  const onboarding = await pivotal.onboardings.create({ customerExternalId: externalId, name: "Go", metadata: { hubspot_deal_id: "42" } });
  assert.deepEqual(onboarding.metadata, { hubspot_deal_id: "42" });
});

test("a metadata error names the field metadata, not a camelCase spelling of it", async () => {
  await assert.rejects(pivotal.customers.create({ name: "Too long", metadata: { plan_tier: "x".repeat(501) } }),
    (error: { field: string | null }) => error.field === "metadata");
});
