import type { Context } from "hono";

/**
 * The client's address: the socket's peer as the runtime reports it, or with TRUST_PROXY the
 * first X-Forwarded-For entry (the client as the first proxy saw it). Trusting the header without
 * a proxy that sets it would let any client pick its own address and dodge the per-IP limits.
 */
export function clientAddress(c: Context, fromSocket: string | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return normalize(forwarded);
  }
  return fromSocket ? normalize(fromSocket) : "unknown";
}

/** An IPv4 client of a dual-stack listener arrives as ::ffff:1.2.3.4; count it as 1.2.3.4. */
function normalize(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
