// Query parameters as the API reads them: camelCase names in snake_case, several values joined
// by commas (`status: ["active", "paused"]` → `status=active,paused`), ranges Stripe's way
// (`created: { gte }` → `created[gte]=…`), booleans as true/false, Dates as ISO 8601 (or
// YYYY-MM-DD for date filters), undefined and null left out.

import { isPlainObject, snakeKey, wireDate } from "./wire.js";

export type QueryParams = Record<string, unknown>;

export function encodeQuery(params: QueryParams = {}): URLSearchParams {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const wireName = snakeKey(name);
    if (wireName === "expand") {
      // expand names fields, which are camelCase on this side
      query.append(wireName, list(value).map((field) => snakeKey(String(field))).join(","));
    } else if (isPlainObject(value)) {
      for (const [operator, bound] of Object.entries(value)) {
        if (bound !== undefined && bound !== null) {
          query.append(`${wireName}[${operator}]`, scalar(bound, wireName));
        }
      }
    } else if (Array.isArray(value)) {
      query.append(wireName, value.map((item) => scalar(item, wireName)).join(","));
    } else {
      query.append(wireName, scalar(value, wireName));
    }
  }
  return query;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : String(value).split(",");
}

function scalar(value: unknown, field: string): string {
  if (value instanceof Date) return wireDate(value, field);
  if (typeof value === "boolean") return value ? "true" : "false";
  return String(value);
}
