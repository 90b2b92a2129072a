// The resources: customers, contacts, onboardings, webhook endpoints and events, with the
// same methods as the Python SDK in TypeScript's idiom (camelCase, params objects, promises,
// `for await` over lists).

import { UpsertSummary, chunks, type UpsertOptions } from "./batch.js";
import type { Pivotal } from "./client.js";
import { Tail, type TailOptions } from "./feed.js";
import { Page, PagePromise, type ListAnswer } from "./pagination.js";
import type {
  Contact, ContactCreateParams, ContactUpdateParams, Customer, CustomerCreateParams,
  CustomerUpdateParams, Deleted, ErrorBody, Event, ListContactsParams, ListCustomersParams,
  ListEventsParams, ListOnboardingsParams, ListWebhookDeliveriesParams,
  ListWebhookEndpointsParams, Onboarding, OnboardingCreateParams, OnboardingUpdateParams,
  WebhookDelivery, WebhookEndpoint, WebhookEndpointCreateParams, WebhookEndpointUpdateParams,
  WebhookEndpointWithSecret,
} from "./types.js";

/** An object's id (cuid) or its display_id (a number, or a string of digits). */
export type Id = string | number;

// §8: `expand` swaps a reference (an id) for the object it names. The SDK's tests check these
// against the `expand` parameters of the served document.
export interface CustomerExpansions { primaryContact: Contact }
export interface ContactExpansions { customer: Customer }
export interface OnboardingExpansions { customer: Customer }
export const EXPANDABLE = {
  customers: ["primaryContact"],
  contacts: ["customer"],
  onboardings: ["customer"],
} as const;

/** `T` as an answer shows it: each expandable reference an id, or, when named in `X`, the
 * object itself. `Expanded<Onboarding, OnboardingExpansions, "customer">["customer"]` is a
 * Customer; without expand, a string. */
export type Expanded<T, M, X extends keyof M = never> = keyof M extends never ? T
  : Omit<T, keyof M> & {
    [K in keyof M & keyof T]: K extends X ? Exclude<T[K], string> : Exclude<T[K], M[K]>;
  };

export interface CreateOptions {
  /** reused by every retry; derive it from your own ids (a deal id) to make your repeats safe */
  idempotencyKey?: string;
}

type Expandable<M> = keyof M & string;
type WithExpand<L, X> = Omit<L, "expand"> & { expand?: X[] };

export function pathId(id: Id): string {
  const text = String(id);
  if (!text || text.includes("/")) throw new TypeError(`not an id: ${JSON.stringify(id)}`);
  return encodeURIComponent(text);
}

class Resource<T, L extends object, M = {}> {
  protected readonly client: Pivotal;
  readonly path: string;

  constructor(client: Pivotal, path: string) {
    this.client = client;
    this.path = path;
  }

  /** One object by its id or display_id. */
  retrieve<const X extends Expandable<M> = never>(
    id: Id, options: { expand?: X[] } = {},
  ): Promise<Expanded<T, M, X>> {
    return this.client.request("GET", `${this.path}/${pathId(id)}`, { query: { expand: options.expand } });
  }

  /** A page of objects, newest first (`order: "asc"` for oldest first). Await it for one page;
   * iterate it with `for await` for every object of every page, fetched as needed. */
  list<const X extends Expandable<M> = never>(params?: WithExpand<L, X>): PagePromise<Expanded<T, M, X>> {
    return listing<Expanded<T, M, X>>(this.client, this.path, params ?? {});
  }
}

export function listing<T>(client: Pivotal, path: string, params: object): PagePromise<T> {
  const load = (cursor: string | undefined) =>
    client.request<ListAnswer<T>>("GET", path, { query: cursor ? { ...params, cursor } : { ...params } });
  return new PagePromise(() => Page.first(load));
}

class Writable<T, L extends object, C, U, M = {}, Created = T> extends Resource<T, L, M> {
  /** Create an object. Safe to retry: the call carries an Idempotency-Key (yours, or a
   * generated one that its retries reuse). */
  create(params: C, options: CreateOptions = {}): Promise<Created> {
    return this.client.request("POST", this.path, { body: params, idempotencyKey: options.idempotencyKey });
  }

  /** Change the given fields only; metadata merges key by key (null removes a key). */
  update(id: Id, params: U): Promise<Expanded<T, M>> {
    return this.client.request("PATCH", `${this.path}/${pathId(id)}`, { body: params });
  }

  /** Soft-delete: every later read answers 404. */
  delete(id: Id): Promise<Deleted> {
    return this.client.request("DELETE", `${this.path}/${pathId(id)}`);
  }
}

interface BatchResultAnswer<T> {
  index: number;
  result: string;
  data?: T;
  error?: ErrorBody;
}

class Upsertable<T, L extends object, C, U, M> extends Writable<T, L, C, U, M> {
  /** Create or update many objects through the batch API, matched on `externalId`.
   *
   * `items` may be any iterable or async iterable (a generator over a file): it is read lazily,
   * `batchSize` (at most 100) at a time. Items that fail stop no other: they are counted and
   * listed in the summary's `failures`. `onProgress(summary)` runs after each batch. With
   * `idempotencyKey`, batch n sends `${idempotencyKey}:${n}`. */
  async upsertMany<const X extends Expandable<M> = never>(
    items: Iterable<C> | AsyncIterable<C>,
    options: UpsertOptions<Expanded<T, M, X>> & { expand?: X[] } = {},
  ): Promise<UpsertSummary<Expanded<T, M, X>>> {
    const summary = new UpsertSummary<Expanded<T, M, X>>();
    let number = 0;
    for await (const batch of chunks(items, options.batchSize)) {
      const answer = await this.client.request<{ data: BatchResultAnswer<Expanded<T, M, X>>[] }>(
        "POST", `${this.path}/batch`, {
          query: { expand: options.expand },
          body: { items: batch },
          idempotencyKey: options.idempotencyKey === undefined ? undefined : `${options.idempotencyKey}:${number}`,
        });
      summary.add(batch, answer.data);
      number += 1;
      options.onProgress?.(summary);
    }
    return summary;
  }
}

export class Customers extends Upsertable<
  Customer, ListCustomersParams, CustomerCreateParams, CustomerUpdateParams, CustomerExpansions
> {}

export class Contacts extends Upsertable<
  Contact, ListContactsParams, ContactCreateParams, ContactUpdateParams, ContactExpansions
> {}

export class Onboardings extends Upsertable<
  Onboarding, ListOnboardingsParams, OnboardingCreateParams, OnboardingUpdateParams, OnboardingExpansions
> {}

/** `create` answers the signing `secret`, shown only then. */
export class WebhookEndpoints extends Writable<
  WebhookEndpoint, ListWebhookEndpointsParams, WebhookEndpointCreateParams,
  WebhookEndpointUpdateParams, {}, WebhookEndpointWithSecret
> {
  /** The endpoint's deliveries, newest first, each with its attempts. */
  deliveries(id: Id, params: ListWebhookDeliveriesParams = {}): PagePromise<WebhookDelivery> {
    return listing(this.client, `${this.path}/${pathId(id)}/deliveries`, params);
  }
}

/** The change feed. */
export class Events extends Resource<Event, ListEventsParams> {
  /** Every event after `cursor`, oldest first, then new ones as they commit.
   *
   * Save `tail.cursor` after handling each event and pass it back to resume exactly there:
   * nothing skipped, nothing repeated. With `follow: false` the iteration ends once caught up;
   * otherwise it polls every `pollInterval` ms until `signal` aborts or the loop breaks. */
  tail(cursor?: string | null, options: TailOptions = {}): Tail {
    return new Tail(this.client, cursor ?? null, options);
  }

  /** Queue a fresh delivery of the event to every matching endpoint. */
  async redeliver(id: Id, options: CreateOptions = {}): Promise<WebhookDelivery[]> {
    const answer = await this.client.request<{ data: WebhookDelivery[] }>(
      "POST", `${this.path}/${pathId(id)}/redeliver`, { idempotencyKey: options.idempotencyKey });
    return answer.data;
  }
}
