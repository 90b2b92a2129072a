// Following the change feed from a saved position, one event at a time.
//
// The feed is read in ascending pages (GET /events?order=asc&cursor=…). The server names a
// position only at the end of a page (nextCursor), but a reader wants to save its place after
// every event it handled. So a tail position is the server's cursor where the current page
// began plus how many of that page's events were handled: "2026-05-26T17:21:09.412345Z#3" (or
// "#3" from the very start). That is exact because the feed below its commit horizon never
// changes. At a page's end the position is the server's own cursor. The same positions as the
// Python SDK's tail: one saved by either resumes in the other.

import type { Pivotal } from "./client.js";
import type { ListAnswer } from "./pagination.js";
import { sleep } from "./retry.js";
import type { Event, ListEventsParams } from "./types.js";

const SEPARATOR = "#";

export interface TailOptions {
  /** an event type, exact or `customer.*` */
  type?: ListEventsParams["type"];
  /** events per request, 1 to 100 (default 100) */
  limit?: number;
  /** ms between polls once caught up (default 1000) */
  pollInterval?: number;
  /** false: end the iteration once caught up (default true: keep following) */
  follow?: boolean;
  /** stops a following tail, also while it waits for new events */
  signal?: AbortSignal;
}

export function parsePosition(position: string | null): [string | null, number] {
  if (!position) return [null, 0];
  const at = position.indexOf(SEPARATOR);
  if (at < 0) return [position, 0];
  const skip = position.slice(at + 1);
  if (skip && !/^\d+$/.test(skip)) throw new TypeError(`not a feed position: ${JSON.stringify(position)}`);
  return [position.slice(0, at) || null, Number(skip || 0)];
}

export class Tail implements AsyncIterable<Event> {
  readonly #client: Pivotal;
  readonly #options: Required<Omit<TailOptions, "type" | "signal">> & TailOptions;
  #base: string | null; // a server cursor (null: the feed's start)
  #done: number; // events after #base already handed to the reader
  #pending: Event[] = []; // fetched, not handed out yet
  #pageEnd: string | null = null;
  #pageSize = 0;

  constructor(client: Pivotal, position: string | null, options: TailOptions) {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new RangeError("limit must be between 1 and 100");
    this.#client = client;
    this.#options = { limit, pollInterval: 1000, follow: true, ...options };
    [this.#base, this.#done] = parsePosition(position);
  }

  /** The position after the last event handed out: save it, pass it back to resume. */
  get cursor(): string | null {
    return this.#done === 0 ? this.#base : `${this.#base ?? ""}${SEPARATOR}${this.#done}`;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Event, void, undefined> {
    const { follow, pollInterval, signal } = this.#options;
    while (!signal?.aborted) {
      const event = this.#next();
      if (event) {
        yield event;
        continue;
      }
      if (!this.#accept(await this.#fetch())) {
        if (!follow) return;
        await sleep(pollInterval, signal);
      }
    }
  }

  #fetch(): Promise<ListAnswer<Event>> {
    // the events already handled come first on the page: ask for enough to get past them
    const query = { order: "asc", cursor: this.#base ?? undefined, type: this.#options.type,
      limit: Math.min(100, this.#done + this.#options.limit) };
    return this.#client.request("GET", "/events", { query });
  }

  /** Take a fetched page; false when it held nothing new (the reader is caught up). */
  #accept(page: ListAnswer<Event>): boolean {
    this.#pending = page.data.slice(this.#done);
    this.#pageEnd = page.nextCursor;
    this.#pageSize = page.data.length;
    if (this.#pending.length) return true;
    this.#settle();
    return false;
  }

  #next(): Event | undefined {
    const event = this.#pending.shift();
    if (event === undefined) return undefined;
    this.#done += 1;
    if (!this.#pending.length) this.#settle();
    return event;
  }

  /** A page handed out whole: its end is a position the server names itself. */
  #settle(): void {
    if (this.#pageEnd && this.#done === this.#pageSize) {
      this.#base = this.#pageEnd;
      this.#done = 0;
    }
  }
}
