// When and how long to wait before a retry: exponential backoff with jitter, and the server's
// Retry-After honoured instead when it sends one. Shared design with the Python SDK.

import type { APIError } from "./errors.js";

export interface RetryOptions {
  maxRetries: number;
  /** ms before the first retry (half fixed, half random) */
  initialDelay?: number;
  maxDelay?: number;
  /** a Retry-After longer than this many seconds is not waited out: the error is thrown */
  maxRetryAfter?: number;
}

export class RetryPolicy {
  readonly maxRetries: number;
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly maxRetryAfter: number;

  constructor({ maxRetries, initialDelay = 500, maxDelay = 8000, maxRetryAfter = 60 }: RetryOptions) {
    this.maxRetries = maxRetries;
    this.initialDelay = initialDelay;
    this.maxDelay = maxDelay;
    this.maxRetryAfter = maxRetryAfter;
  }

  /** ms before retry number `attempt + 1`: half fixed, half random ("equal jitter"), so
   * clients that failed together do not come back together. */
  backoff(attempt: number): number {
    const delay = Math.min(this.maxDelay, this.initialDelay * 2 ** attempt);
    return delay / 2 + Math.random() * (delay / 2);
  }

  /** ms to wait before retrying this error answer, or null: throw it. */
  afterError(error: APIError, attempt: number): number | null {
    if (attempt >= this.maxRetries || !retryable(error)) return null;
    const retryAfter = error.retryAfter;
    if (retryAfter === null) return this.backoff(attempt);
    if (retryAfter > this.maxRetryAfter) return null;
    // at least what the server asked, a little more so a crowd spreads out
    return 1000 * (retryAfter + Math.random() * Math.min(1, retryAfter * 0.1 + 0.05));
  }

  /** ms to wait before retrying a call that got no answer, or null: give up. */
  afterDisconnect(attempt: number): number | null {
    return attempt >= this.maxRetries ? null : this.backoff(attempt);
  }
}

/** 429, a 409 for an Idempotency-Key still in use, and 5xx are worth another try. */
export function retryable(error: APIError): boolean {
  return error.status === 429 || error.status >= 500 ||
    (error.status === 409 && error.code === "idempotency_key_in_use");
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
