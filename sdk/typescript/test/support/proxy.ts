// A small TCP proxy in front of the API that loses answers, the way networks do.
//
// The first `cut` connections carry their request to the server and wait until its answer
// begins (so the write has committed), then reset the client's connection without passing the
// answer on. The `badGateway` connections after those answer 502 themselves, as a load
// balancer does, forwarding nothing. Every later connection is passed through.

import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

const BAD_GATEWAY = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n" +
  "Content-Length: 11\r\nConnection: close\r\n\r\nbad gateway";

export class FlakyProxy {
  readonly lostAnswers: Buffer[] = [];
  connections = 0;
  readonly #server: Server;
  readonly #target: URL;
  readonly #sockets = new Set<Socket>();

  private constructor(target: string, cut: number, badGateway: number) {
    this.#target = new URL(target);
    this.#server = createServer((client) => {
      this.#sockets.add(client);
      client.on("close", () => this.#sockets.delete(client));
      const number = ++this.connections;
      if (number <= cut) this.#cut(client);
      else if (number <= cut + badGateway) this.#badGateway(client);
      else this.#pass(client);
    });
  }

  static async start(target: string, { cut = 0, badGateway = 0 } = {}): Promise<FlakyProxy> {
    const proxy = new FlakyProxy(target, cut, badGateway);
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  /** The API's base URL, through this proxy. */
  get url(): string {
    const url = new URL(this.#target);
    url.port = String((this.#server.address() as AddressInfo).port);
    return url.toString().replace(/\/$/, "");
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #upstream(client: Socket): Socket {
    const upstream = createConnection({ host: this.#target.hostname, port: Number(this.#target.port) });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    return upstream;
  }

  #cut(client: Socket): void {
    const upstream = this.#upstream(client);
    upstream.once("data", (answer: Buffer) => {
      this.lostAnswers.push(answer);
      client.resetAndDestroy(); // a TCP reset: the client sees its connection die mid-call
      upstream.destroy();
    });
  }

  #badGateway(client: Socket): void {
    let request = "";
    client.on("data", (chunk: Buffer) => {
      request += chunk.toString("latin1");
      const head = request.indexOf("\r\n\r\n");
      if (head < 0) return;
      const length = /content-length:\s*(\d+)/i.exec(request.slice(0, head))?.[1] ?? "0";
      if (Buffer.byteLength(request.slice(head + 4), "latin1") >= Number(length)) client.end(BAD_GATEWAY);
    });
  }

  #pass(client: Socket): void {
    this.#upstream(client).pipe(client);
  }
}
