// webhooks.verify on a real delivery: the worker posting to a receiver on loopback, then the
// same delivery tampered with, stale, signed twice, and with its headers missing.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { webhooks, WebhookVerificationError, type Customer, type WebhookEndpointWithSecret } from "@pivotal/sdk";
import { clientFor, waitUntil } from "./support/env.js";
import { Receiver, type Received } from "./support/receiver.js";

const pivotal = clientFor(import.meta.url);
let receiver: Receiver;
let endpoint: WebhookEndpointWithSecret;
let secret: string; // shown by the create call only
let customer: Customer;
let delivery: Received;

before(async () => {
  receiver = await Receiver.start();
  endpoint = await pivotal.webhookEndpoints.create({ url: receiver.url, enabledEvents: ["*"] });
  assert.ok(endpoint.secret, "the create call shows the secret");
  secret = endpoint.secret;
  customer = await pivotal.customers.create({ name: "Signed", metadata: { plan_tier: "gold" } });
  delivery = await waitUntil(() => receiver.received[0], "the delivery");
});

after(() => receiver.stop());

const sentAt = () => Number(delivery.headers["webhook-timestamp"]);
const refused = (pattern: RegExp) => (error: Error) => error instanceof WebhookVerificationError && pattern.test(error.message);

test("a real delivery verifies into the camelCase event, with Node's headers or Fetch's", async () => {
  const event = await webhooks.verify(delivery.body, delivery.headers, secret);
  assert.equal(event.id, delivery.headers["webhook-id"]);
  assert.equal(event.type, "customer.created");
  assert.deepEqual(event.data.object, customer);
  assert.deepEqual(event.data.object.metadata, { plan_tier: "gold" });
  const fetchHeaders = new Headers(delivery.headers as Record<string, string>);
  const request = new Request("http://receiver/hooks", { method: "POST", body: new Uint8Array(delivery.body), headers: fetchHeaders });
  const again = await pivotal.webhooks.verify(await request.arrayBuffer(), request.headers, secret);
  assert.deepEqual(again, event);
});

test("the endpoint's deliveries list the attempt, and redeliver queues another", async () => {
  const event = await webhooks.verify(delivery.body, delivery.headers, secret);
  const delivered = await waitUntil(async () => {
    const page = await pivotal.webhookEndpoints.deliveries(endpoint.id);
    return page.data.find((d) => d.event === event.id && d.status === "succeeded");
  }, "the delivery to be recorded");
  assert.equal(delivered.attempts?.[0]?.statusCode, 200);
  const [queued] = await pivotal.events.redeliver(event.id);
  assert.equal(queued?.redelivery, true);
  await waitUntil(() => receiver.received.length >= 2, "the redelivery");
});

test("a tampered body is refused", async () => {
  const tampered = Buffer.from(delivery.body.toString().replace('"Signed"', '"Forged"'));
  assert.notDeepEqual(tampered, delivery.body);
  await assert.rejects(webhooks.verify(tampered, delivery.headers, secret), refused(/signature/));
});

test("another secret is refused; either of two verifies during a rotation", async () => {
  const other = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
  await assert.rejects(webhooks.verify(delivery.body, delivery.headers, other), refused(/signature/));
  const event = await webhooks.verify(delivery.body, delivery.headers, [other, secret]);
  assert.equal(event.type, "customer.created");
});

test("a stale or future timestamp is refused as a replay, within the tolerance accepted", async () => {
  const at = (seconds: number) => new Date(seconds * 1000);
  assert.ok(Math.abs(sentAt() - Date.now() / 1000) < 60);
  await webhooks.verify(delivery.body, delivery.headers, secret, { now: at(sentAt() + 299) });
  for (const now of [sentAt() + 301, sentAt() - 301]) {
    await assert.rejects(webhooks.verify(delivery.body, delivery.headers, secret, { now: at(now) }), refused(/timestamp/));
  }
  await webhooks.verify(delivery.body, delivery.headers, secret, { now: at(sentAt() + 3000), tolerance: 3600 });
});

test("one matching signature among several is enough", async () => {
  const real = String(delivery.headers["webhook-signature"]);
  const bogus = `v1,${Buffer.alloc(32, 1).toString("base64")}`;
  for (const header of [`${bogus} ${real}`, `${real} ${bogus}`, `v2,xyz ${real}`]) {
    const event = await webhooks.verify(delivery.body, { ...delivery.headers, "webhook-signature": header }, secret);
    assert.equal(event.id, delivery.headers["webhook-id"]);
  }
  await assert.rejects(webhooks.verify(delivery.body, { ...delivery.headers, "webhook-signature": bogus }, secret), refused(/signature/));
});

test("missing headers are refused", async () => {
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const headers = { ...delivery.headers, [name]: undefined };
    await assert.rejects(webhooks.verify(delivery.body, headers, secret), refused(/missing/));
  }
});

test("sign makes the headers verify accepts, and a signed non-event is still refused", async () => {
  const headers = await webhooks.sign(delivery.body, secret, String(delivery.headers["webhook-id"]), sentAt());
  assert.equal(headers["webhook-signature"], delivery.headers["webhook-signature"]);
  const body = '{"object":"customer"}';
  await assert.rejects(webhooks.verify(body, await webhooks.sign(body, secret, "evt_1"), secret), refused(/not an event/));
});
