// The client: configuration, one call's encoding, its retries, and its typed errors.

import { APIConnectionError, APIError, APITimeoutError, errorFromAnswer } from "./errors.js";
import { encodeQuery, type QueryParams } from "./query.js";
import { Contacts, Customers, Events, Onboardings, WebhookEndpoints } from "./resources.js";
import { RetryPolicy, sleep } from "./retry.js";
import * as webhooks from "./webhooks.js";
import { fromWire, toWire } from "./wire.js";

export const VERSION = "0.1.0";
export const DEFAULT_BASE_URL = "http://127.0.0.1:8000/api/v1";
const USER_AGENT = `pivotal-typescript/${VERSION}`;

export interface ClientOptions {
  /** default: $PIVOTAL_API_KEY where there is a process environment */
  apiKey?: string;
  /** default: $PIVOTAL_BASE_URL, else http://127.0.0.1:8000/api/v1 */
  baseUrl?: string;
  /** ms per attempt (default 30 000) */
  timeout?: number;
  /** retries after the first attempt (default 3; 0: none) */
  maxRetries?: number;
  /** your own fetch (a proxy agent, a recorder in tests); default: the platform's */
  fetch?: typeof fetch;
}

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface RequestOptions {
  query?: QueryParams;
  body?: unknown;
  /** POST only: reused by every retry of this call; generated when not given */
  idempotencyKey?: string;
}

/** One call, encoded once: its retries send exactly these bytes and this key, which is what
 * lets the server recognise a retry of a POST and replay the first answer. */
interface Call {
  method: Method;
  url: string;
  body?: string;
  headers: Record<string, string>;
}

export class Pivotal {
  readonly customers: Customers;
  readonly contacts: Contacts;
  readonly onboardings: Onboardings;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly events: Events;
  /** `webhooks.verify(body, headers, secret)`, also exported on its own */
  readonly webhooks = webhooks;
  readonly baseUrl: string;
  readonly timeout: number;
  readonly retryPolicy: RetryPolicy;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? environment("PIVOTAL_API_KEY");
    if (!apiKey) throw new TypeError("no API key: pass { apiKey } or set PIVOTAL_API_KEY");
    this.#apiKey = apiKey;
    this.baseUrl = (options.baseUrl ?? environment("PIVOTAL_BASE_URL") ?? DEFAULT_BASE_URL)
      .replace(/\/+$/, "");
    this.timeout = options.timeout ?? 30_000;
    this.retryPolicy = new RetryPolicy({ maxRetries: options.maxRetries ?? 3 });
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.customers = new Customers(this, "/customers");
    this.contacts = new Contacts(this, "/contacts");
    this.onboardings = new Onboardings(this, "/onboardings");
    this.webhookEndpoints = new WebhookEndpoints(this, "/webhook_endpoints");
    this.events = new Events(this, "/events");
  }

  /** Any API call, for what the typed resources do not cover: names and keys in camelCase
   * both ways, with the same retries and errors as everywhere else. */
  async request<T = unknown>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    return fromWire(await this.#send(this.#call(method, path, options))) as T;
  }

  #call(method: Method, path: string, { query, body, idempotencyKey }: RequestOptions): Call {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#apiKey}`,
      Accept: "application/json",
      "User-Agent": USER_AGENT,
    };
    const search = encodeQuery(query).toString();
    const call: Call = { method, url: this.baseUrl + path + (search ? `?${search}` : ""), headers };
    if (body !== undefined) {
      call.body = JSON.stringify(toWire(body));
      headers["Content-Type"] = "application/json";
    }
    if (method === "POST") {
      // a POST without a key could not be retried safely; with one, a retry is replayed
      headers["Idempotency-Key"] = idempotencyKey ?? crypto.randomUUID();
    }
    return call;
  }

  /** Send `call`, retrying what is worth retrying: the answer's JSON as the API sent it. */
  async #send(call: Call): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      let delay: number | null;
      const outcome = await this.#attempt(call);
      if (outcome instanceof Error) {
        delay = this.retryPolicy.afterDisconnect(attempt);
        if (delay === null) throw connectionError(call, outcome);
      } else if (outcome.ok) {
        return outcome.text ? JSON.parse(outcome.text) : null;
      } else {
        const error = errorFromAnswer(outcome.status, outcome.text, outcome.headers);
        delay = this.retryPolicy.afterError(error, attempt);
        if (delay === null) throw error;
      }
      await sleep(delay);
    }
  }

  // The body is read inside the attempt: a connection cut mid-answer is a failed attempt.
  async #attempt(call: Call): Promise<{ ok: boolean; status: number; text: string; headers: Headers } | Error> {
    try {
      const response = await this.#fetch(call.url, {
        method: call.method,
        headers: call.headers,
        body: call.body ?? null,
        redirect: "error",
        signal: AbortSignal.timeout(this.timeout),
      });
      const text = await response.text();
      return { ok: response.ok, status: response.status, text, headers: response.headers };
    } catch (error) {
      if (error instanceof APIError) throw error;
      return error instanceof Error ? error : new Error(String(error));
    }
  }
}

function connectionError(call: Call, cause: Error): APIConnectionError {
  const timedOut = cause.name === "TimeoutError" || cause.name === "AbortError";
  const kind = timedOut ? APITimeoutError : APIConnectionError;
  const reason = (cause as { cause?: { code?: string } }).cause?.code ?? cause.message;
  return new kind(`${call.method} ${call.url}: ${reason}`, { cause });
}

// process.env where there is one (Node, Bun, Deno); edge runtimes have none
function environment(name: string): string | undefined {
  const process = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return process?.env?.[name] || undefined;
}
