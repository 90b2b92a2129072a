// The boundary between the SDK's camelCase and the API's snake_case. Every key is converted,
// in both directions, except inside the fields that hold the caller's own keys (MAP_FIELDS:
// metadata), whose keys and values cross untouched: a metadata key `plan_tier` stays `plan_tier`,
// and `planTier` stays `planTier`.

import { DATE_FIELDS, MAP_FIELDS } from "./types.js";

const userMaps = new Set(MAP_FIELDS);
const dateFields = new Set(DATE_FIELDS);

export const camelKey = (key: string): string =>
  key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export const snakeKey = (key: string): string =>
  key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** An answer as the SDK shows it: camelCase keys, user maps as they came. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (!isPlainObject(value)) return value;
  const converted: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    define(converted, camelKey(key), userMaps.has(key) ? item : fromWire(item));
  }
  return converted;
}

/** A request body as the API reads it: snake_case keys, Dates as ISO 8601 (or YYYY-MM-DD
 * where the field is a date), user maps as given. */
export function toWire(value: unknown, field = ""): unknown {
  if (value instanceof Date) return wireDate(value, field);
  if (Array.isArray(value)) return value.map((item) => toWire(item, field));
  if (!isPlainObject(value)) return value;
  const converted: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    const wireKey = snakeKey(key);
    define(converted, wireKey, userMaps.has(wireKey) ? item : toWire(item, wireKey));
  }
  return converted;
}

export function wireDate(value: Date, field: string): string {
  if (Number.isNaN(value.getTime())) throw new TypeError(`${field || "a date"} is an invalid Date`);
  const iso = value.toISOString();
  return dateFields.has(field) ? iso.slice(0, 10) : iso;
}

/** An error's `field` as the caller named it: `owner_email` → `ownerEmail`,
 * `items.2.customer_external_id` → `items.2.customerExternalId`; a user map's key stays. */
export function camelField(field: string): string {
  const parts = field.split(".");
  return parts
    .map((part, i) => (i > 0 && userMaps.has(parts[i - 1]!) ? part : camelKey(part)))
    .join(".");
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// A key such as "__proto__" in parsed JSON is an own property; assignment would set the
// prototype instead.
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
