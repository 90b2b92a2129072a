// Every error the SDK throws. All are exported from the package.
//
//   PivotalError
//   ├── APIError                 the API answered with an error (status, type, code, field, requestId)
//   │   ├── InvalidRequestError      invalid_request_error: 400, 405, 413, 415
//   │   ├── AuthenticationError      authentication_error: 401
//   │   ├── NotFoundError            not_found_error: 404
//   │   ├── ConflictError            conflict_error: 409
//   │   ├── RateLimitError           rate_limit_error: 429 (retryAfter)
//   │   └── ServerError              api_error: 500, 503
//   ├── APIConnectionError       no answer: the connection failed
//   │   └── APITimeoutError          or took longer than the timeout
//   └── WebhookVerificationError a delivery's signature or timestamp does not check out

import type { ErrorBody } from "./types.js";
import { camelField } from "./wire.js";

export class PivotalError extends Error {
  override name = "PivotalError";
}

export interface APIErrorInit {
  status: number;
  type: string;
  code: string;
  field?: string | null;
  requestId?: string | null;
  headers?: Headers;
}

export class APIError extends PivotalError {
  override name = "APIError";
  /** The HTTP status. */
  readonly status: number;
  /** The error's type in the API's registry: invalid_request_error, conflict_error, … */
  readonly type: string;
  /** The error's code: parameter_invalid, resource_already_exists, … */
  readonly code: string;
  /** The parameter at fault, as the SDK names it (`ownerEmail`, `metadata.plan_tier`), or null. */
  readonly field: string | null;
  /** The answer's Request-Id: quote it when asking for support. */
  readonly requestId: string | null;
  readonly headers: Headers;
  /** The error as the API sent it (its `field` in snake_case). */
  readonly body: ErrorBody;

  constructor(message: string, init: APIErrorInit) {
    super(message);
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.field = init.field ? camelField(init.field) : null;
    this.requestId = init.requestId ?? null;
    this.headers = init.headers ?? new Headers();
    this.body = { type: init.type, code: init.code, message, field: init.field ?? null };
  }

  /** Seconds the answer's Retry-After asks to wait (429, some 503), or null. */
  get retryAfter(): number | null {
    return retryAfterSeconds(this.headers.get("retry-after"));
  }

  override toString(): string {
    const where = this.field ? ` (field ${this.field})` : "";
    const request = this.requestId ? ` [request ${this.requestId}]` : "";
    return `${this.name}: ${this.status} ${this.code}: ${this.message}${where}${request}`;
  }
}

export class InvalidRequestError extends APIError { override name = "InvalidRequestError"; }
export class AuthenticationError extends APIError { override name = "AuthenticationError"; }
export class NotFoundError extends APIError { override name = "NotFoundError"; }
export class ConflictError extends APIError { override name = "ConflictError"; }
export class RateLimitError extends APIError { override name = "RateLimitError"; }
export class ServerError extends APIError { override name = "ServerError"; }

export class APIConnectionError extends PivotalError { override name = "APIConnectionError"; }
export class APITimeoutError extends APIConnectionError { override name = "APITimeoutError"; }
export class WebhookVerificationError extends PivotalError { override name = "WebhookVerificationError"; }

/** The class for each error `type` of the API's registry (ERROR_CODES). */
export const ERROR_CLASSES: Record<string, typeof APIError> = {
  invalid_request_error: InvalidRequestError,
  authentication_error: AuthenticationError,
  not_found_error: NotFoundError,
  conflict_error: ConflictError,
  rate_limit_error: RateLimitError,
  api_error: ServerError,
};

/** The typed error of an error answer, whatever its body (a proxy's HTML page included). */
export function errorFromAnswer(status: number, text: string, headers: Headers): APIError {
  const requestId = headers.get("request-id");
  const body = parseError(text);
  const type = body?.type ?? (status >= 500 ? "api_error" : "invalid_request_error");
  const kind = ERROR_CLASSES[type] ?? (status >= 500 ? ServerError : APIError);
  return new kind(body?.message ?? `HTTP ${status}: ${text.slice(0, 200)}`, {
    status,
    type,
    code: body?.code ?? `http_${status}`,
    field: body?.field ?? null,
    requestId,
    headers,
  });
}

function parseError(text: string): Partial<ErrorBody> | null {
  try {
    const error = (JSON.parse(text) as { error?: Partial<ErrorBody> })?.error;
    return error && typeof error === "object" && typeof error.code === "string" ? error : null;
  } catch {
    return null;
  }
}

function retryAfterSeconds(value: string | null): number | null {
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value); // the HTTP-date form
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}
