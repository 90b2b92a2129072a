// Pivotal's TypeScript SDK.
//
//   import { Pivotal } from "@pivotal/sdk";
//
//   const pivotal = new Pivotal({ apiKey: "pivotal_test_…" });
//   const acme = await pivotal.customers.create({ name: "Acme", domain: "acme.com" });
//   for await (const customer of pivotal.customers.list({ lifecycleStage: "active" })) { … }
//
// See the README for every feature: camelCase at the boundary, retries and idempotency,
// pagination, batch upserts, the change feed and webhook verification.

export { Pivotal, VERSION, DEFAULT_BASE_URL } from "./client.js";
export type { ClientOptions, Method, RequestOptions } from "./client.js";
export {
  APIConnectionError, APIError, APITimeoutError, AuthenticationError, ConflictError,
  ERROR_CLASSES, InvalidRequestError, NotFoundError, PivotalError, RateLimitError, ServerError,
  WebhookVerificationError,
} from "./errors.js";
export { Page, PagePromise } from "./pagination.js";
export { Tail } from "./feed.js";
export type { TailOptions } from "./feed.js";
export { UpsertSummary } from "./batch.js";
export type { BatchResult, UpsertFailure, UpsertOptions } from "./batch.js";
export { RetryPolicy } from "./retry.js";
export { Contacts, Customers, EXPANDABLE, Events, Onboardings, WebhookEndpoints } from "./resources.js";
export type {
  ContactExpansions, CreateOptions, CustomerExpansions, Expanded, Id, OnboardingExpansions,
} from "./resources.js";
export * as webhooks from "./webhooks.js";
export * from "./types.js";
