// Retries: a lost answer, a gateway's 502, a refused connection and a 429 with Retry-After,
// with one Idempotency-Key per logical POST, so a retried write is never applied twice.

import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { after, test } from "node:test";
import { APIConnectionError, Pivotal, RateLimitError } from "@pivotal/sdk";
import { apiKeyFor, baseUrl, clientFor, unique } from "./support/env.js";
import { FlakyProxy } from "./support/proxy.js";
import { Recorder } from "./support/recorder.js";

const pivotal = clientFor(import.meta.url);
const proxies: FlakyProxy[] = [];
after(() => Promise.all(proxies.map((proxy) => proxy.stop())));

async function proxy(lose: { cut?: number; badGateway?: number }): Promise<FlakyProxy> {
  proxies.push(await FlakyProxy.start(baseUrl, lose));
  return proxies.at(-1)!;
}

function through(proxy: FlakyProxy, recorder: Recorder, maxRetries = 3): Pivotal {
  return new Pivotal({ apiKey: apiKeyFor(import.meta.url), baseUrl: proxy.url, fetch: recorder.fetch, maxRetries });
}

test("a create whose answer is lost after the commit is retried and not duplicated", async () => {
  const lossy = await proxy({ cut: 1 });
  const recorder = new Recorder();
  const name = `Exactly once ${unique()}`;
  const created = await through(lossy, recorder).customers.create({ name });
  assert.match(lossy.lostAnswers[0]?.toString("latin1") ?? "", /^HTTP\/1\.1 201 /); // the server had committed
  assert.equal(recorder.sent.length, 2);
  const [first, retry] = recorder.keys;
  assert.ok(first && first === retry);
  assert.equal(recorder.sent[0]?.body, recorder.sent[1]?.body);
  assert.equal(recorder.got[0]?.headers.get("idempotent-replayed"), "true");
  const found = await pivotal.customers.list({ q: name });
  assert.deepEqual(found.data.map((c) => c.id), [created.id]);
  const events = await pivotal.events.list({ type: "customer.created", limit: 100 });
  assert.equal(events.data.filter((e) => e.data.object.id === created.id).length, 1);
});

test("an upsert batch whose answer is lost is not applied twice", async () => {
  const lossy = await proxy({ cut: 1 });
  const tag = unique();
  const summary = await through(lossy, new Recorder()).customers.upsertMany(
    [0, 1, 2].map((i) => ({ externalId: `lost-${tag}-${i}`, name: `Lost ${tag} ${i}` })));
  assert.match(lossy.lostAnswers[0]?.toString("latin1") ?? "", /^HTTP\/1\.1 200 /);
  assert.deepEqual([summary.created, summary.updated, summary.unchanged], [3, 0, 0]);
  assert.equal((await pivotal.customers.list({ q: tag })).data.length, 3);
});

test("a gateway's 502 is retried with the same key", async () => {
  const gateway = await proxy({ badGateway: 1 });
  const recorder = new Recorder();
  const created = await through(gateway, recorder).customers.create({ name: "Behind a gateway" });
  assert.deepEqual(recorder.statuses, [502, 201]);
  assert.equal(recorder.keys[0], recorder.keys[1]);
  assert.equal((await pivotal.customers.retrieve(created.id)).name, "Behind a gateway");
});

test("a refused connection throws APIConnectionError after the retries", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const recorder = new Recorder();
  const client = new Pivotal({ apiKey: "pivotal_test_x", baseUrl: `http://127.0.0.1:${port}/api/v1`, maxRetries: 2, fetch: recorder.fetch });
  await assert.rejects(client.customers.list(), (error: Error) => error instanceof APIConnectionError && /ECONNREFUSED/.test(error.message));
  assert.equal(recorder.sent.length, 3);
});

test("repeats of one key sent together make one object, each answered with it", async () => {
  const key = `burst-${unique()}`;
  const name = `Burst ${key}`;
  const answers = await Promise.all([0, 1, 2, 3].map(() => pivotal.customers.create({ name }, { idempotencyKey: key })));
  assert.equal(new Set(answers.map((c) => c.id)).size, 1);
  assert.equal((await pivotal.customers.list({ q: name })).data.length, 1);
});

// ---- 429: a server that grants one request a second per key --------------------------------

const limitedUrl = process.env.PIVOTAL_LIMITED_BASE_URL;
const limitedKey = process.env.PIVOTAL_LIMITED_API_KEY;
const limitedSkip = !(limitedUrl && limitedKey) && "PIVOTAL_LIMITED_BASE_URL / PIVOTAL_LIMITED_API_KEY not set";

test("a 429 is retried after its Retry-After, with the same key", { skip: limitedSkip }, async () => {
  const recorder = new Recorder();
  const client = new Pivotal({ apiKey: limitedKey!, baseUrl: limitedUrl!, fetch: recorder.fetch });
  await client.customers.create({ name: "First" });
  await client.customers.create({ name: "Second" });
  assert.deepEqual(recorder.statuses, [201, 429, 201]);
  const retryAfter = Number(recorder.got[1]?.headers.get("retry-after"));
  assert.ok(retryAfter >= 1);
  assert.ok(recorder.sent[2]!.at - recorder.got[1]!.at >= retryAfter * 1000);
  assert.equal(recorder.keys[1], recorder.keys[2]);
});

test("a 429 with no retries left throws RateLimitError", { skip: limitedSkip }, async () => {
  const client = new Pivotal({ apiKey: limitedKey!, baseUrl: limitedUrl!, maxRetries: 0 });
  await new Promise((resolve) => setTimeout(resolve, 1100)); // the bucket refills
  await client.customers.list();
  await assert.rejects(client.customers.list(), (error: RateLimitError) => {
    assert.ok(error instanceof RateLimitError);
    assert.deepEqual([error.status, error.type, error.code], [429, "rate_limit_error", "rate_limited"]);
    assert.ok((error.retryAfter ?? 0) >= 1);
    assert.match(error.requestId ?? "", /^req_/);
    return true;
  });
});
