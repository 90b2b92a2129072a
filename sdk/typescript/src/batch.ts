// upsertMany's bookkeeping: batches of at most 100 items, and the running summary.

import type { ErrorBody } from "./types.js";
import { camelField } from "./wire.js";

export const MAX_BATCH = 100; // the API takes 1 to 100 items per batch
const COUNTED = ["created", "updated", "unchanged"] as const;

export interface UpsertOptions<T> {
  /** called after each batch with the summary so far */
  onProgress?: (summary: UpsertSummary<T>) => void;
  /** items per request, 1 to 100 (default 100) */
  batchSize?: number;
  /** batch n sends `${idempotencyKey}:${n}`: a whole run repeated within 24 hours is replayed */
  idempotencyKey?: string;
}

export interface BatchResult<T> {
  /** the item's position in the whole input */
  index: number;
  result: "created" | "updated" | "unchanged" | "error" | string;
  data?: T;
  error?: ErrorBody;
}

/** An item the API refused: its position in the whole input, the item, and why. */
export interface UpsertFailure<I = unknown> {
  index: number;
  item: I;
  error: ErrorBody;
}

/** Any iterable, lazily, as arrays of `size` items: a generator of a million rows is never
 * held in memory at once. */
export async function* chunks<I>(items: Iterable<I> | AsyncIterable<I>, size = MAX_BATCH): AsyncGenerator<I[]> {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH) {
    throw new RangeError(`batchSize must be between 1 and ${MAX_BATCH}`);
  }
  let batch: I[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** What upsertMany did so far: counts per result, every item's result, and the failures. */
export class UpsertSummary<T> {
  created = 0;
  updated = 0;
  unchanged = 0;
  failed = 0;
  batches = 0;
  readonly results: BatchResult<T>[] = [];
  readonly failures: UpsertFailure[] = [];

  get processed(): number {
    return this.created + this.updated + this.unchanged + this.failed;
  }

  /** The objects created, updated or found unchanged, in input order. */
  get objects(): T[] {
    return this.results.flatMap((result) => (result.data === undefined ? [] : [result.data]));
  }

  /** Count one batch's results (their indexes are within the batch). */
  add(items: unknown[], results: BatchResult<T>[]): void {
    const offset = this.processed;
    this.batches += 1;
    for (const answer of results) {
      const result = { ...answer, index: answer.index + offset };
      this.results.push(result);
      const counted = COUNTED.find((name) => name === result.result);
      if (counted) {
        this[counted] += 1;
        continue;
      }
      this.failed += 1;
      const error = result.error ?? { type: "api_error", code: "unknown", message: `result ${result.result}` };
      this.failures.push({
        index: result.index,
        item: items[answer.index],
        error: { ...error, field: error.field ? camelField(error.field) : null },
      });
    }
  }

  toString(): string {
    return `${this.created} created, ${this.updated} updated, ${this.unchanged} unchanged, ${this.failed} failed`;
  }
}
