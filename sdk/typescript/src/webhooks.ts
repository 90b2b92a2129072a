// Checking webhook deliveries (the Standard Webhooks scheme Pivotal signs with), with Web
// Crypto: the same code runs in Node 20+, Deno, Bun, browsers and edge runtimes.
//
//   const event = await webhooks.verify(rawBody, request.headers, "whsec_…");
//
// A delivery carries `webhook-id` (the event id: dedupe on it), `webhook-timestamp` (unix
// seconds) and `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` signatures of
// "{id}.{timestamp}.{body}". Several appear while a secret is being rotated; one that matches
// is enough. Pass the raw body, exactly as received: a body parsed and encoded again no longer
// matches.

import { WebhookVerificationError } from "./errors.js";
import type { Event } from "./types.js";
import { fromWire } from "./wire.js";

const SECRET_PREFIX = "whsec_";
/** seconds a delivery's timestamp may differ from the clock */
export const DEFAULT_TOLERANCE = 300;

export type Body = string | Uint8Array | ArrayBuffer;
/** A Fetch `Headers`, Node's `req.headers`, or pairs. */
export type HeadersLike =
  | Headers
  | Record<string, string | string[] | undefined>
  | Iterable<readonly [string, string]>;

export interface VerifyOptions {
  /** seconds (default 300) */
  tolerance?: number;
  /** the clock to compare with (default: now) */
  now?: Date;
}

/** The delivered event, typed and in camelCase, once its signature and timestamp check out.
 *
 * `secret` is the endpoint's signing secret, or several (old and new, while rotating). Rejects
 * with WebhookVerificationError for a missing header, a timestamp further than `tolerance`
 * seconds from now (a replay), no matching signature, or a body that is not an event. */
export async function verify(
  body: Body, headers: HeadersLike, secret: string | readonly string[], options: VerifyOptions = {},
): Promise<Event> {
  const bytes = toBytes(body);
  const found = lowerCased(headers);
  const id = found.get("webhook-id");
  const timestamp = found.get("webhook-timestamp");
  const signatures = found.get("webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  }
  const sentAt = unixSeconds(timestamp);
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const clock = (options.now ?? new Date()).getTime() / 1000;
  if (Math.abs(clock - sentAt) > tolerance) {
    throw new WebhookVerificationError(
      `timestamp ${sentAt} is more than ${tolerance} s from now: refused as a replay`);
  }
  const signed = signedContent(id, sentAt, bytes);
  const offered = signatures.split(" ").filter((part) => part.startsWith("v1,")).map((part) => part.slice(3));
  const secrets = typeof secret === "string" ? [secret] : secret;
  if (!(await anyMatches(secrets, offered, signed))) {
    throw new WebhookVerificationError("no signature matches this body and secret");
  }
  return parseEvent(bytes);
}

/** The headers Pivotal would send with `body`: for testing a receiver. */
export async function sign(
  body: Body, secret: string, id: string, timestamp = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const key = await importKey(secret, "sign");
  const signature = await crypto.subtle.sign("HMAC", key, signedContent(id, timestamp, toBytes(body)));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${toBase64(new Uint8Array(signature))}`,
  };
}

// crypto.subtle.verify compares in constant time: no timing tells how much of a guess matched
async function anyMatches(
  secrets: readonly string[], offered: string[], signed: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  for (const secret of secrets) {
    const key = await importKey(secret, "verify");
    for (const signature of offered) {
      const bytes = fromBase64(signature);
      if (bytes && (await crypto.subtle.verify("HMAC", key, bytes, signed))) return true;
    }
  }
  return false;
}

function importKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  const raw = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  if (!raw || raw.length === 0) throw new WebhookVerificationError("the secret is not whsec_ followed by base64");
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

function signedContent(id: string, timestamp: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix);
  content.set(body, prefix.length);
  return content;
}

function parseEvent(bytes: Uint8Array): Event {
  let event: unknown;
  try {
    event = fromWire(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (error) {
    throw new WebhookVerificationError(`the body is not an event: ${(error as Error).message}`);
  }
  const candidate = event as Partial<Event> | null;
  if (candidate?.object !== "event" || typeof candidate.id !== "string" || !candidate.data) {
    throw new WebhookVerificationError("the body is not an event");
  }
  return candidate as Event;
}

function unixSeconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new WebhookVerificationError(`webhook-timestamp is not unix seconds: ${value}`);
  return Number(value);
}

function lowerCased(headers: HeadersLike): Map<string, string> {
  const found = new Map<string, string>();
  const pairs = headers instanceof Headers || Symbol.iterator in headers
    ? (headers as Iterable<readonly [string, string]>)
    : Object.entries(headers);
  for (const [name, value] of pairs) {
    if (value !== undefined) found.set(name.toLowerCase(), Array.isArray(value) ? value.join(" ") : String(value));
  }
  return found;
}

function toBytes(body: Body): Uint8Array {
  if (typeof body === "string") return new TextEncoder().encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
