// Typed objects of the Pivotal API, named as the SDK names them (camelCase). Generated from the
// API's OpenAPI document by scripts/generate-types.mjs: do not edit by hand, run the script.

// ---- objects the API answers with ----------------------------------------------------------

export interface ErrorBody {
  type: string;
  code: string;
  message: string;
  field?: string | null;
}

export interface ErrorEnvelope {
  error: ErrorBody;
}

export interface Deleted {
  object: "deleted";
  id: string;
  displayId: number;
  deleted: true;
}

export interface Health {
  object: "health";
  status: string;
  postgres: string;
  redis: string;
}

export interface WebhookAttempt {
  object: "webhook_attempt";
  attemptedAt: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface WebhookDelivery {
  object: "webhook_delivery";
  id: string;
  event: string;
  eventType: string;
  webhookEndpoint: string;
  redelivery: boolean;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  livemode: boolean;
  createdAt: string;
  updatedAt: string;
  attempts?: WebhookAttempt[];
}

export interface Contact {
  object: "contact";
  id: string;
  displayId: number;
  customer: string | Customer;
  email: string;
  name: string | null;
  title: string | null;
  phone: string | null;
  isPrimary: boolean;
  externalId: string | null;
  metadata: Record<string, string>;
  livemode: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Customer {
  object: "customer";
  id: string;
  displayId: number;
  name: string;
  domain: string | null;
  lifecycleStage: string;
  ownerEmail: string | null;
  primaryContact: string | null | Contact;
  externalId: string | null;
  metadata: Record<string, string>;
  livemode: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Onboarding {
  object: "onboarding";
  id: string;
  displayId: number;
  customer: string | Customer;
  name: string;
  status: string;
  ownerEmail: string | null;
  targetDate: string | null;
  startedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  externalId: string | null;
  metadata: Record<string, string>;
  livemode: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookEndpoint {
  object: "webhook_endpoint";
  id: string;
  displayId: number;
  url: string;
  enabledEvents: string[];
  description: string | null;
  status: string;
  metadata: Record<string, string>;
  livemode: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface EventData {
  object: Customer | Contact | Onboarding | WebhookEndpoint;
  previousAttributes?: Record<string, unknown> | null;
}

export interface Event {
  object: "event";
  id: string;
  displayId: number;
  type: string;
  livemode: boolean;
  createdAt: string;
  data: EventData;
}

export interface EventType {
  object: "event_type";
  type: string;
  description: string;
  example: Event;
}

/** What POST /webhook_endpoints/{id}/recover queued. */
export interface WebhookRecovery {
  object: "webhook_recovery";
  webhookEndpoint: string;
  since: string;
  deliveriesQueued: number;
}

/** The new endpoint with its signing secret, shown this once; an idempotent replay (with
    Idempotent-Replayed: true) answers the endpoint without `secret`. */
export interface WebhookEndpointWithSecret {
  object: "webhook_endpoint";
  id: string;
  displayId: number;
  url: string;
  enabledEvents: string[];
  description: string | null;
  status: string;
  metadata: Record<string, string>;
  livemode: boolean;
  createdAt: string;
  updatedAt: string;
  /** The signing secret (whsec_…), shown only by this answer. An idempotent replay of the create answers the endpoint without it: the secret is never stored with the replay. */
  secret?: string | null;
}

// ---- request bodies: create and update parameters -----------------------------------------

export interface RotateSecretParams {
  expirePreviousIn?: number;
}

export interface RecoverParams {
  /** Deliveries that ended failed at or after this time are queued again */
  since: string | Date;
}

export interface CustomerCreateParams {
  name: string;
  domain?: string | null;
  lifecycleStage?: "active" | "at_risk" | "churned" | "onboarding";
  ownerEmail?: string | null;
  externalId?: string | null;
  metadata?: Record<string, string | null>;
}

export interface CustomerUpdateParams {
  name?: string;
  domain?: string | null;
  lifecycleStage?: "active" | "at_risk" | "churned" | "onboarding";
  ownerEmail?: string | null;
  externalId?: string | null;
  metadata?: Record<string, string | null>;
}

export interface ContactCreateParams {
  customer?: number | string | null;
  customerExternalId?: string | null;
  email: string;
  name?: string | null;
  title?: string | null;
  phone?: string | null;
  isPrimary?: boolean;
  externalId?: string | null;
  metadata?: Record<string, string | null>;
}

export interface ContactUpdateParams {
  customer?: number | string;
  customerExternalId?: string;
  email?: string;
  name?: string | null;
  title?: string | null;
  phone?: string | null;
  isPrimary?: boolean;
  externalId?: string | null;
  metadata?: Record<string, string | null>;
}

export interface OnboardingCreateParams {
  customer?: number | string | null;
  customerExternalId?: string | null;
  name: string;
  status?: "active" | "cancelled" | "completed" | "paused";
  ownerEmail?: string | null;
  targetDate?: string | Date | null;
  externalId?: string | null;
  metadata?: Record<string, string | null>;
}

export interface OnboardingUpdateParams {
  customer?: number | string;
  customerExternalId?: string;
  name?: string;
  status?: "active" | "cancelled" | "completed" | "paused";
  ownerEmail?: string | null;
  targetDate?: string | Date | null;
  externalId?: string | null;
  metadata?: Record<string, string | null>;
}

export interface WebhookEndpointCreateParams {
  url: string;
  enabledEvents: Array<"*" | "customer.created" | "customer.updated" | "customer.deleted" | "contact.created" | "contact.updated" | "contact.deleted" | "onboarding.created" | "onboarding.updated" | "onboarding.deleted" | "webhook_endpoint.test" | "webhook_endpoint.disabled" | "contact.*" | "customer.*" | "onboarding.*" | "webhook_endpoint.*">;
  description?: string | null;
  status?: "disabled" | "enabled";
  metadata?: Record<string, string | null>;
}

export interface WebhookEndpointUpdateParams {
  url?: string;
  enabledEvents?: Array<"*" | "customer.created" | "customer.updated" | "customer.deleted" | "contact.created" | "contact.updated" | "contact.deleted" | "onboarding.created" | "onboarding.updated" | "onboarding.deleted" | "webhook_endpoint.test" | "webhook_endpoint.disabled" | "contact.*" | "customer.*" | "onboarding.*" | "webhook_endpoint.*">;
  description?: string | null;
  status?: "disabled" | "enabled";
  metadata?: Record<string, string | null>;
}

// ---- list parameters -----------------------------------------------------------------------

export interface ListCustomersParams {
  limit?: number;
  cursor?: string | Date;
  order?: "desc" | "asc";
  externalId?: string;
  domain?: string;
  lifecycleStage?: "onboarding" | "active" | "at_risk" | "churned" | Array<"onboarding" | "active" | "at_risk" | "churned">;
  ownerEmail?: string;
  q?: string;
  expand?: "primaryContact"[];
  /** created[gt|gte|lt|lte] */
  created?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
  /** updated[gt|gte|lt|lte] */
  updated?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
}

export interface ListContactsParams {
  limit?: number;
  cursor?: string | Date;
  order?: "desc" | "asc";
  customer?: string;
  customerExternalId?: string;
  email?: string;
  isPrimary?: boolean;
  externalId?: string;
  q?: string;
  expand?: "customer"[];
  /** created[gt|gte|lt|lte] */
  created?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
  /** updated[gt|gte|lt|lte] */
  updated?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
}

export interface ListOnboardingsParams {
  limit?: number;
  cursor?: string | Date;
  order?: "desc" | "asc";
  customer?: string;
  customerExternalId?: string;
  status?: "active" | "paused" | "completed" | "cancelled" | Array<"active" | "paused" | "completed" | "cancelled">;
  ownerEmail?: string;
  externalId?: string;
  q?: string;
  expand?: "customer"[];
  /** created[gt|gte|lt|lte] */
  created?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
  /** updated[gt|gte|lt|lte] */
  updated?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
  /** target_date[gt|gte|lt|lte] */
  targetDate?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
}

export interface ListWebhookEndpointsParams {
  limit?: number;
  cursor?: string | Date;
  order?: "desc" | "asc";
  status?: "enabled" | "disabled";
  /** created[gt|gte|lt|lte] */
  created?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
  /** updated[gt|gte|lt|lte] */
  updated?: { gt?: string | Date; gte?: string | Date; lt?: string | Date; lte?: string | Date };
}

export interface ListEventsParams {
  limit?: number;
  cursor?: string | Date;
  order?: "desc" | "asc";
  type?: "customer.created" | "customer.updated" | "customer.deleted" | "contact.created" | "contact.updated" | "contact.deleted" | "onboarding.created" | "onboarding.updated" | "onboarding.deleted" | "webhook_endpoint.test" | "webhook_endpoint.disabled" | "*" | "contact.*" | "customer.*" | "onboarding.*" | "webhook_endpoint.*";
}

export interface ListWebhookDeliveriesParams {
  limit?: number;
  cursor?: string | Date;
  order?: "desc" | "asc";
}

// ---- how values cross the wire ------------------------------------------------------------

/** Fields holding the caller's own keys: never converted between camelCase and snake_case. */
export const MAP_FIELDS: readonly string[] = ["metadata"];

/** Fields and filters holding a date without a time: a Date passed there is sent as YYYY-MM-DD. */
export const DATE_FIELDS: readonly string[] = ["target_date"];

// ---- every error code the API answers with: [status, type] ---------------------------------

export const ERROR_CODES = {
  parameter_missing: [400, "invalid_request_error"],
  parameter_invalid: [400, "invalid_request_error"],
  parameter_unknown: [400, "invalid_request_error"],
  invalid_json: [400, "invalid_request_error"],
  malformed_request: [400, "invalid_request_error"],
  missing_api_key: [401, "authentication_error"],
  invalid_api_key: [401, "authentication_error"],
  resource_not_found: [404, "not_found_error"],
  route_not_found: [404, "not_found_error"],
  method_not_allowed: [405, "invalid_request_error"],
  resource_already_exists: [409, "conflict_error"],
  invalid_status_transition: [409, "conflict_error"],
  idempotency_key_reused: [409, "conflict_error"],
  immutable_field: [409, "conflict_error"],
  idempotency_key_in_use: [409, "conflict_error"],
  payload_too_large: [413, "invalid_request_error"],
  uri_too_long: [414, "invalid_request_error"],
  unsupported_media_type: [415, "invalid_request_error"],
  rate_limited: [429, "rate_limit_error"],
  request_header_fields_too_large: [431, "invalid_request_error"],
  internal_error: [500, "api_error"],
  service_unavailable: [503, "api_error"],
} as const satisfies Record<string, readonly [number, string]>;
