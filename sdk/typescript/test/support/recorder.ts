// A fetch that records every request the SDK sends and every answer it gets, with the time.

export interface Sent {
  at: number;
  method: string;
  url: URL;
  headers: Headers;
  body: string | null;
}

export interface Got {
  at: number;
  status: number;
  headers: Headers;
}

export class Recorder {
  readonly sent: Sent[] = [];
  readonly got: Got[] = [];

  readonly fetch: typeof fetch = async (input, init) => {
    const body = typeof init?.body === "string" ? init.body : null;
    this.sent.push({ at: performance.now(), method: init?.method ?? "GET", url: new URL(String(input)),
      headers: new Headers(init?.headers), body });
    const response = await fetch(input, init);
    this.got.push({ at: performance.now(), status: response.status, headers: response.headers });
    return response;
  };

  get keys(): (string | null)[] {
    return this.sent.map((request) => request.headers.get("idempotency-key"));
  }

  get statuses(): number[] {
    return this.got.map((answer) => answer.status);
  }

  /** The JSON body of the last request sent, as the API read it. */
  lastBody(): Record<string, unknown> {
    return JSON.parse(this.sent.at(-1)?.body ?? "null") as Record<string, unknown>;
  }
}
