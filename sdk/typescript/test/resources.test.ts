// Every resource method against the served API, in camelCase both ways.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ConflictError, InvalidRequestError, NotFoundError, AuthenticationError, Pivotal, type Customer,
} from "@pivotal/sdk";
import { baseUrl, clientFor, unique } from "./support/env.js";
import { Recorder } from "./support/recorder.js";

const pivotal = clientFor(import.meta.url);

describe("customers", () => {
  test("create answers the object in camelCase, with both ids", async () => {
    const created = await pivotal.customers.create({
      name: "Acme", domain: "ACME.example", ownerEmail: "csm@pivotal.example", externalId: `crm-${unique()}`,
    });
    assert.equal(created.object, "customer");
    assert.match(created.id, /^[a-z][a-z0-9]+$/);
    assert.equal(typeof created.displayId, "number");
    assert.equal(created.domain, "acme.example");
    assert.equal(created.ownerEmail, "csm@pivotal.example");
    assert.equal(created.lifecycleStage, "onboarding");
    assert.equal(created.primaryContact, null);
    assert.match(created.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(!("display_id" in created) && !("created_at" in created));
  });

  test("retrieve by id, by display id as a number and as a string", async () => {
    const created = await pivotal.customers.create({ name: "Retrieved" });
    for (const id of [created.id, created.displayId, String(created.displayId)]) {
      assert.deepEqual(await pivotal.customers.retrieve(id), created);
    }
  });

  test("update changes only the given fields and answers the object", async () => {
    const created = await pivotal.customers.create({ name: "Before", domain: "before.example" });
    const updated = await pivotal.customers.update(created.displayId, { name: "After", lifecycleStage: "active" });
    assert.equal(updated.name, "After");
    assert.equal(updated.lifecycleStage, "active");
    assert.equal(updated.domain, "before.example");
  });

  test("delete answers a Deleted and every later read is a NotFoundError", async () => {
    const created = await pivotal.customers.create({ name: "Doomed" });
    assert.deepEqual(await pivotal.customers.delete(created.id),
      { object: "deleted", id: created.id, displayId: created.displayId, deleted: true });
    await assert.rejects(pivotal.customers.retrieve(created.id), (error: NotFoundError) => {
      assert.ok(error instanceof NotFoundError);
      assert.deepEqual([error.status, error.type, error.code], [404, "not_found_error", "resource_not_found"]);
      assert.match(error.requestId ?? "", /^req_/);
      return true;
    });
    await assert.rejects(pivotal.customers.delete(created.id), NotFoundError);
  });

  test("list filters by several lifecycle stages and a created range", async () => {
    const tag = unique();
    const before = new Date(Date.now() - 1000);
    const made: Customer[] = [];
    for (const lifecycleStage of ["active", "at_risk", "churned"] as const) {
      made.push(await pivotal.customers.create({ name: `Stage ${tag}`, lifecycleStage }));
    }
    const found = await pivotal.customers.list({ q: tag, lifecycleStage: ["active", "churned"], created: { gte: before } });
    assert.deepEqual(found.data.map((c) => c.lifecycleStage).sort(), ["active", "churned"]);
    const none = await pivotal.customers.list({ q: tag, created: { lt: before } });
    assert.deepEqual(none.data, []);
    assert.equal(none.hasMore, false);
  });

  test("expand primaryContact swaps the id for the contact", async () => {
    const customer = await pivotal.customers.create({ name: "With a primary" });
    const contact = await pivotal.contacts.create({ customer: customer.id, email: `p-${unique()}@acme.example`, isPrimary: true });
    const plain = await pivotal.customers.retrieve(customer.id);
    assert.equal(plain.primaryContact, contact.id);
    const expanded = await pivotal.customers.retrieve(customer.id, { expand: ["primaryContact"] });
    assert.deepEqual(expanded.primaryContact, contact);
    assert.equal(expanded.primaryContact?.isPrimary, true);
  });

  test("a taken external id is a ConflictError and a bad field names it in camelCase", async () => {
    const externalId = `dup-${unique()}`;
    await pivotal.customers.create({ name: "First", externalId });
    await assert.rejects(pivotal.customers.create({ name: "Second", externalId }), (error: ConflictError) => {
      assert.ok(error instanceof ConflictError);
      assert.deepEqual([error.status, error.type, error.code], [409, "conflict_error", "resource_already_exists"]);
      return true;
    });
    await assert.rejects(pivotal.customers.create({ name: "Bad", ownerEmail: "not an email" }), (error: InvalidRequestError) => {
      assert.ok(error instanceof InvalidRequestError);
      assert.equal(error.field, "ownerEmail");
      assert.equal(error.body.field, "owner_email");
      return true;
    });
  });
});

describe("contacts", () => {
  test("create by the customer's external id, list by customer, update, delete", async () => {
    const externalId = `crm-${unique()}`;
    const customer = await pivotal.customers.create({ name: "Contacts Inc", externalId });
    const ada = await pivotal.contacts.create({ customerExternalId: externalId, email: "ada@contacts.example", name: "Ada", isPrimary: true });
    assert.equal(ada.customer, customer.id);
    assert.equal(ada.isPrimary, true);
    const bob = await pivotal.contacts.create({ customer: customer.displayId, email: "bob@contacts.example", title: "CTO" });
    const listed = await pivotal.contacts.list({ customer: customer.id, expand: ["customer"] });
    assert.deepEqual(listed.data.map((c) => c.email), ["bob@contacts.example", "ada@contacts.example"]);
    assert.equal(listed.data[0]?.customer.name, "Contacts Inc");
    const promoted = await pivotal.contacts.update(bob.id, { isPrimary: true, phone: "+1 555 0100" });
    assert.deepEqual([promoted.isPrimary, promoted.phone], [true, "+1 555 0100"]);
    assert.equal((await pivotal.contacts.retrieve(ada.id)).isPrimary, false);
    assert.equal((await pivotal.contacts.list({ customer: customer.id, isPrimary: true })).data.length, 1);
    assert.equal((await pivotal.contacts.delete(ada.displayId)).deleted, true);
  });
});

describe("onboardings", () => {
  test("create with a Date target, filter by status and target date, complete, expand the customer", async () => {
    const customer = await pivotal.customers.create({ name: "Onboarded" });
    const onboarding = await pivotal.onboardings.create({
      customer: customer.id, name: "Go-live", targetDate: new Date("2026-09-01T12:00:00Z"), ownerEmail: "csm@pivotal.example",
    });
    assert.equal(onboarding.targetDate, "2026-09-01");
    assert.equal(onboarding.status, "active");
    assert.ok(onboarding.startedAt);
    const due = await pivotal.onboardings.list({ customer: customer.id, status: ["active", "paused"], targetDate: { lte: "2026-09-01" }, expand: ["customer"] });
    assert.deepEqual(due.data.map((o) => [o.id, o.customer.id]), [[onboarding.id, customer.id]]);
    const later = await pivotal.onboardings.list({ customer: customer.id, targetDate: { gt: new Date("2026-09-01T00:00:00Z") } });
    assert.deepEqual(later.data, []);
    const completed = await pivotal.onboardings.update(onboarding.displayId, { status: "completed" });
    assert.ok(completed.completedAt);
    const expanded = await pivotal.onboardings.retrieve(onboarding.id, { expand: ["customer"] });
    assert.equal(expanded.customer.name, "Onboarded");
    await assert.rejects(pivotal.onboardings.update(onboarding.id, { status: "paused" }),
      (error: ConflictError) => error.code === "invalid_status_transition");
    assert.equal((await pivotal.onboardings.delete(onboarding.id)).id, onboarding.id);
  });
});

describe("webhook endpoints", () => {
  test("create shows the secret once; retrieve, list, update and delete", async () => {
    const endpoint = await pivotal.webhookEndpoints.create({
      url: "http://127.0.0.1:9/hooks", enabledEvents: ["customer.*"], description: "CRM mirror",
    });
    assert.match(endpoint.secret ?? "", /^whsec_/);
    assert.deepEqual(endpoint.enabledEvents, ["customer.*"]);
    const read = await pivotal.webhookEndpoints.retrieve(endpoint.displayId);
    assert.ok(!("secret" in read));
    const disabled = await pivotal.webhookEndpoints.update(endpoint.id, { status: "disabled" });
    assert.equal(disabled.status, "disabled");
    const listed = await pivotal.webhookEndpoints.list({ status: "disabled" });
    assert.ok(listed.data.some((e) => e.id === endpoint.id));
    assert.deepEqual((await pivotal.webhookEndpoints.deliveries(endpoint.id)).data, []);
    assert.equal((await pivotal.webhookEndpoints.delete(endpoint.id)).deleted, true);
  });
});

describe("events", () => {
  test("list by type and retrieve, with previousAttributes in camelCase", async () => {
    const customer = await pivotal.customers.create({ name: "Evented", ownerEmail: "old@pivotal.example" });
    await pivotal.customers.update(customer.id, { ownerEmail: "new@pivotal.example" });
    const page = await pivotal.events.list({ type: "customer.updated", limit: 100 });
    const event = page.data.find((e) => e.data.object.id === customer.id);
    assert.ok(event);
    assert.equal(event.type, "customer.updated");
    assert.deepEqual(event.data.previousAttributes, { ownerEmail: "old@pivotal.example" });
    assert.deepEqual(await pivotal.events.retrieve(event.id), event);
    assert.deepEqual(await pivotal.events.redeliver(event.id), []); // no endpoint listens
  });
});

describe("the client", () => {
  test("every POST carries a fresh Idempotency-Key and other verbs none", async () => {
    const recorder = new Recorder();
    const client = clientFor(import.meta.url, { fetch: recorder.fetch });
    const first = await client.customers.create({ name: "A" });
    await client.customers.create({ name: "B" });
    await client.customers.update(first.id, { name: "A2" });
    await client.customers.retrieve(first.id);
    await client.customers.delete(first.id);
    const [a, b, ...rest] = recorder.keys;
    assert.ok(a && b && a !== b);
    assert.deepEqual(rest, [null, null, null]);
    assert.equal(recorder.sent[0]?.headers.get("authorization")?.startsWith("Bearer pivotal_"), true);
  });

  test("a caller's own Idempotency-Key makes a repeat answer the first object", async () => {
    const key = `deal-${unique()}`;
    const first = await pivotal.customers.create({ name: "Once" }, { idempotencyKey: key });
    const again = await pivotal.customers.create({ name: "Once" }, { idempotencyKey: key });
    assert.deepEqual(again, first);
  });

  test("request() reaches any endpoint in camelCase", async () => {
    const health = await pivotal.request<{ object: string; postgres: string }>("GET", "/health");
    assert.equal(health.object, "health");
    const created = await pivotal.request<Customer>("POST", "/customers", { body: { name: "Raw", ownerEmail: "raw@pivotal.example" } });
    assert.equal(created.ownerEmail, "raw@pivotal.example");
  });

  test("a wrong key is an AuthenticationError", async () => {
    const stranger = new Pivotal({ apiKey: "pivotal_test_nothingnothingnothingnothing0", baseUrl });
    await assert.rejects(stranger.customers.list(), (error: AuthenticationError) =>
      error instanceof AuthenticationError && error.status === 401 && error.code === "invalid_api_key");
  });
});
