// The Request Hono routes for a WebSocket upgrade on Node, built lazily from the IncomingMessage:
// the handshake reads only its url, method and a few headers.
import type { IncomingMessage } from "node:http";

/** An IncomingMessage's headers behind the slice of the Headers API that Hono's `c.req.header` uses. */
class IncomingHeaders {
  constructor(private readonly headers: IncomingMessage["headers"]) {}
  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  }
  has(name: string): boolean {
    return this.headers[name.toLowerCase()] !== undefined;
  }
  forEach(fn: (value: string, key: string) => void): void {
    for (const key of Object.keys(this.headers)) fn(this.get(key)!, key);
  }
}

/**
 * The Request Hono routes for an upgrade. `url`, `method` and `headers` come straight from the
 * IncomingMessage; anything else (body, signal, clone, …) builds the real fetch Request on first
 * use. Building one per upgrade was ~7 KB of allocation per handshake (Headers, URL, AbortSignal).
 */
export function requestOf(req: IncomingMessage): Request {
  const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
  const own = { url, method: req.method ?? "GET", headers: new IncomingHeaders(req.headers) };
  let real: Request | undefined;
  const materialize = () => {
    if (!real) {
      const headers = new Headers();
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
      real = new Request(url, { method: own.method, headers });
    }
    return real;
  };
  return new Proxy(own, {
    get(target, key) {
      if (Object.hasOwn(target, key)) return target[key as keyof typeof target];
      const request = materialize();
      const value = Reflect.get(request, key, request) as unknown;
      return typeof value === "function" ? value.bind(request) : value;
    },
    has: (target, key) => Object.hasOwn(target, key) || key in materialize(),
    getPrototypeOf: () => Request.prototype,
  }) as unknown as Request;
}
