// The SDK's types cannot drift from the API: the committed src/types.ts is what the generator
// makes of the served OpenAPI document, and the SDK's own lists (expandable fields, error
// classes) match it.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { APIError, ERROR_CLASSES, ERROR_CODES, EXPANDABLE, PivotalError } from "@pivotal/sdk";
import * as sdk from "@pivotal/sdk";
import { baseUrl } from "./support/env.js";

const SDK_ROOT = new URL("../../", import.meta.url); // build/test/ → sdk/typescript/
const { generate, camel } = (await import(new URL("scripts/generate-types.mjs", SDK_ROOT).href)) as {
  generate: (document: unknown) => string;
  camel: (name: string) => string;
};

interface Parameter { name: string; in: string; schema: { items?: { enum?: string[] } } }
interface Document { paths: Record<string, Record<string, { parameters?: Parameter[] }>> }
const document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as Document;

test("the committed types are what the generator makes of the served document", () => {
  const committed = readFileSync(fileURLToPath(new URL("src/types.ts", SDK_ROOT)), "utf8");
  assert.equal(generate(document), committed, "src/types.ts is stale: run node scripts/generate-types.mjs");
});

test("the expandable references are the ones the document offers, in camelCase", () => {
  const offered: Record<string, string[]> = {};
  for (const [path, item] of Object.entries(document.paths)) {
    const expand = item.get?.parameters?.find((p) => p.name === "expand");
    if (expand && path.split("/").length === 2) offered[path.slice(1)] = (expand.schema.items?.enum ?? []).map(camel);
  }
  assert.deepEqual(offered, EXPANDABLE);
});

test("every error type the API answers has its error class, exported", () => {
  const types = new Set(Object.values(ERROR_CODES).map(([, type]) => type));
  for (const type of types) {
    const kind = ERROR_CLASSES[type];
    assert.ok(kind && kind.prototype instanceof APIError, type);
    assert.equal((sdk as Record<string, unknown>)[new kind("m", { status: 400, type, code: "c" }).name], kind);
  }
  for (const name of ["APIConnectionError", "APITimeoutError", "WebhookVerificationError"]) {
    assert.ok(((sdk as Record<string, unknown>)[name] as typeof Error).prototype instanceof PivotalError);
  }
});
