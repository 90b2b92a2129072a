// Lists: a page of objects, and every page after it fetched lazily while iterating.
//
//   const page = await pivotal.customers.list({ limit: 100 });   one page: data, hasMore, nextCursor
//   for await (const customer of pivotal.customers.list()) …     every customer, page after page

export interface ListAnswer<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

export type PageLoader<T> = (cursor: string | undefined) => Promise<ListAnswer<T>>;

export class Page<T> implements AsyncIterable<T> {
  readonly data: T[];
  readonly hasMore: boolean;
  /** The position after this page's last item: pass it back as `cursor`. */
  readonly nextCursor: string | null;
  readonly #load: PageLoader<T>;

  constructor(answer: ListAnswer<T>, load: PageLoader<T>) {
    this.data = answer.data;
    this.hasMore = answer.hasMore;
    this.nextCursor = answer.nextCursor ?? null;
    this.#load = load;
  }

  static async first<T>(load: PageLoader<T>, cursor?: string): Promise<Page<T>> {
    return new Page(await load(cursor), load);
  }

  /** The page after this one, or null on the last page. */
  async nextPage(): Promise<Page<T> | null> {
    if (!this.hasMore || !this.nextCursor) return null;
    return Page.first(this.#load, this.nextCursor);
  }

  /** This page and every page after it. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    for (let page: Page<T> | null = this; page; page = await page.nextPage()) yield page;
  }

  /** Every item of this page and of the pages after it. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }
}

/** What `list()` returns: await it for the first page, or iterate it with `for await` for every
 * item of every page. Nothing is sent until one of those happens. */
export class PagePromise<T> implements Promise<Page<T>>, AsyncIterable<T> {
  readonly [Symbol.toStringTag] = "PagePromise";
  readonly #load: () => Promise<Page<T>>;
  #page: Promise<Page<T>> | undefined;

  constructor(load: () => Promise<Page<T>>) {
    this.#load = load;
  }

  #first(): Promise<Page<T>> {
    return (this.#page ??= this.#load());
  }

  then<A = Page<T>, B = never>(
    onfulfilled?: ((page: Page<T>) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#first().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<Page<T> | B> {
    return this.#first().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<Page<T>> {
    return this.#first().finally(onfinally);
  }

  /** Every page, the first included. */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    yield* (await this.#first()).pages();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    yield* await this.#first();
  }
}
