// events.tail: the change feed from a saved position, nothing skipped or repeated.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { Event } from "@pivotal/sdk";
import { clientFor } from "./support/env.js";

const pivotal = clientFor(import.meta.url);
const names = ["A", "B", "C", "D", "E"];

before(async () => {
  for (const name of names) await pivotal.customers.create({ name });
});

async function take(tail: AsyncIterable<Event>, count: number): Promise<Event[]> {
  const taken: Event[] = [];
  if (count === 0) return taken;
  for await (const event of tail) {
    taken.push(event);
    if (taken.length === count) break;
  }
  return taken;
}

test("a tail from the start yields every event oldest first, then ends when not following", async () => {
  const events = await take(pivotal.events.tail(null, { follow: false, limit: 2 }), 100);
  assert.deepEqual(events.map((e) => (e.data.object as { name: string }).name), names);
  assert.ok(events.every((e) => e.type === "customer.created"));
});

test("a saved cursor resumes mid-page with nothing skipped or repeated", async () => {
  const first = pivotal.events.tail(null, { limit: 3, follow: false });
  const head = await take(first, 2);
  const saved = first.cursor;
  assert.match(saved ?? "", /#2$/);
  const rest = await take(pivotal.events.tail(saved, { limit: 3, follow: false }), 100);
  assert.deepEqual([...head, ...rest].map((e) => (e.data.object as { name: string }).name), names);
});

test("a following tail sees an event that commits later, and stops on its signal", async () => {
  const controller = new AbortController();
  const caughtUp = await take(pivotal.events.tail(null, { follow: false }), 100);
  const tail = pivotal.events.tail(null, { pollInterval: 50, signal: controller.signal, type: "customer.*" });
  const seen: Event[] = [];
  const following = (async () => {
    for await (const event of tail) {
      seen.push(event);
      if (seen.length === caughtUp.length) setTimeout(() => void pivotal.customers.create({ name: "Late" }), 100);
      if (seen.length === caughtUp.length + 1) controller.abort();
    }
  })();
  await following;
  assert.equal((seen.at(-1)?.data.object as { name: string }).name, "Late");
  // resuming where it stopped repeats nothing
  assert.deepEqual(await take(pivotal.events.tail(tail.cursor, { follow: false }), 100), []);
});
