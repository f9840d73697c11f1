import type { Context } from "hono";

// The client's address, for the per-IP limits, the console's lockout and the logs: the socket's
// peer, or behind proxies the right-most X-Forwarded-For entry that no trusted proxy added. Proxies
// append to the header, so its left end is whatever the client wrote; only the hops a proxy of
// ours added can be believed.

/**
 * TRUST_PROXY, parsed: off; a number of proxy hops in front of the node ("true" is 1); or the
 * proxies' addresses and CIDR ranges (any hop from one of them is trusted).
 */
export type ProxyTrust = { kind: "off" } | { kind: "hops"; hops: number } | { kind: "addresses"; matches: (address: string) => boolean };

export const NO_PROXY: ProxyTrust = { kind: "off" };

/** Who sent a request, one answer for the API, the handshake limits and the console. */
export interface RequestPeer {
  address(c: Context): string;
  /** Over TLS, by the request's scheme or a trusted proxy's X-Forwarded-Proto. */
  secure(c: Context): boolean;
}

/** Parses TRUST_PROXY; throws with what is wrong (the config loader names the key). */
export function parseProxyTrust(value: string): ProxyTrust {
  const text = value.trim().toLowerCase();
  if (text === "" || text === "false" || text === "0") return NO_PROXY;
  if (text === "true") return { kind: "hops", hops: 1 };
  if (/^\d+$/.test(text)) return { kind: "hops", hops: Number(text) };
  const ranges = text.split(",").map((s) => s.trim()).filter(Boolean).map(parseRange);
  return { kind: "addresses", matches: (address) => ranges.some((r) => r(address)) };
}

/** The client address of a request; `fromSocket` is the TCP peer as the runtime reports it. */
export function clientAddress(c: Context, fromSocket: string | undefined, trust: ProxyTrust): string {
  const peer = fromSocket ? normalize(fromSocket) : "unknown";
  if (trust.kind === "off") return peer;
  const header = c.req.header("x-forwarded-for");
  if (!header) return peer;
  // Nearest first: the peer, then the header from its right end.
  const hops = [peer, ...header.split(",").map((s) => normalize(s.trim())).filter(Boolean).reverse()];
  if (trust.kind === "hops") return hops[Math.min(trust.hops, hops.length - 1)]!;
  let i = 0;
  while (i < hops.length - 1 && trust.matches(hops[i]!)) i++;
  return hops[i]!;
}

/** Whether the client reached us over TLS: the request's own scheme, or a trusted proxy's word. */
export function isSecureRequest(c: Context, fromSocket: string | undefined, trust: ProxyTrust): boolean {
  if (c.req.url.startsWith("https:")) return true;
  if (trust.kind === "off" || (trust.kind === "addresses" && !trust.matches(normalize(fromSocket ?? "")))) return false;
  return c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() === "https";
}

/** An IPv4 client of a dual-stack listener arrives as ::ffff:1.2.3.4; count it as 1.2.3.4. */
function normalize(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** "10.0.0.0/8", "192.168.1.7", "::1", "fd00::/8" → a matcher. */
function parseRange(range: string): (address: string) => boolean {
  const [base = "", bitsText] = range.split("/");
  const parsed = toBits(base);
  if (!parsed) throw new Error(`"${range}" is not true, false, a number of proxy hops, or an IP address or CIDR range`);
  const bits = bitsText === undefined ? parsed.width : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > parsed.width) throw new Error(`"${range}" has a prefix length outside 0-${parsed.width}`);
  const shift = BigInt(parsed.width - bits);
  return (address) => {
    const other = toBits(normalize(address));
    return other !== undefined && other.width === parsed.width && other.value >> shift === parsed.value >> shift;
  };
}

/** An IPv4 or IPv6 address as a number and its width in bits; undefined when it is neither. */
function toBits(address: string): { value: bigint; width: 32 | 128 } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { value: parts.reduce((n, p) => (n << 8n) | BigInt(p), 0n), width: 32 };
  }
  if (!address.includes(":") || !/^[0-9a-f:]+$/i.test(address)) return undefined;
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((g) => g.length === 0 || g.length > 4)) return undefined;
  return { value: all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n), width: 128 };
}
