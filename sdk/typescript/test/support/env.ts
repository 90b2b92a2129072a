// What the tests run against: a served API named by the environment the repository's test
// suite exports (tests/sdk/typescript/), each test file with a workspace of its own.

import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { Pivotal, type ClientOptions } from "@pivotal/sdk";

export const baseUrl = required("PIVOTAL_BASE_URL");

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through the repository's pytest suite`);
  return value;
}

/** The API key of the workspace made for the test file at `moduleUrl` (PIVOTAL_TEST_KEYS maps
 * file names to keys), else PIVOTAL_API_KEY. */
export function apiKeyFor(moduleUrl: string): string {
  const stem = basename(fileURLToPath(moduleUrl)).replace(/\.test\.[jt]s$/, "");
  const keys = JSON.parse(process.env.PIVOTAL_TEST_KEYS ?? "{}") as Record<string, string>;
  return keys[stem] ?? required("PIVOTAL_API_KEY");
}

export function clientFor(moduleUrl: string, options: ClientOptions = {}): Pivotal {
  return new Pivotal({ apiKey: apiKeyFor(moduleUrl), baseUrl, ...options });
}

/** A run-unique suffix, so names and external ids never meet another run's. */
export const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export async function waitUntil<T>(probe: () => T | Promise<T>, what: string, timeout = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
