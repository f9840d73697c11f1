// The bus envelope every cluster driver sends: a JSON header (origin node, app, and for a
// publish its channel, excluded socket, member change, count order and dedupe key), then, for a publish, the
// frame exactly as the sockets get it. The frame is carried once, never as a JSON string inside
// JSON: a node parses the small header and hands the frame on untouched (parsing every app's frames
// twice cost every node 260-320 ms of CPU per 1,000 publishes of 1 KB). A header
// without an app and a message is a node's hello: it says the node is on the bus (bus-peers.ts);
// with `b` it is a node's goodbye on a graceful stop, with `s` the news that it swept a node.
import type { ClusterMessage } from "../../core/adapter.ts";
import { parseJsonObject } from "../../core/frames.ts";
import type { MemberChange } from "../../core/presence.ts";

/**
 * Ends the header: the ASCII record separator, which JSON.stringify always escapes, so its first
 * occurrence is the header's end. Not a newline: Upstash's SSE stream splits payloads at those.
 */
const SEPARATOR = "\u001e";

/** The header's fields; `m` is a whole message of a type other than publish (it has no frame). */
interface Header {
  /** Origin node: it applied the message locally already and ignores its own echo. */
  o: string;
  /** App of a publish. */
  a?: string;
  c?: string;
  /** exceptSocketId */
  x?: string;
  /** member */
  mc?: MemberChange;
  /** countSeq: a subscription count's order (core/count-order.ts) */
  n?: number;
  /** dedupe */
  d?: string;
  m?: ClusterMessage;
  /** A goodbye: the node stopped on purpose after announcing every transition it made. */
  b?: 1;
  /** A node this one swept: if it was only paused, it must write its state back. */
  s?: string;
}

/** What a bus payload carried: who sent it, and its message unless it was a hello or a goodbye. */
export interface Received {
  from: string;
  message?: ClusterMessage;
  bye?: true;
  /** The node the sender swept. */
  swept?: string;
}

/** The bus payload for a message this node sends. */
export function writeEnvelope(nodeId: string, message: ClusterMessage): string {
  if (message.type !== "publish") return JSON.stringify({ o: nodeId, m: message } satisfies Header);
  const header: Header = { o: nodeId, a: message.appId, c: message.channel };
  if (message.exceptSocketId !== undefined) header.x = message.exceptSocketId;
  if (message.member !== undefined) header.mc = message.member;
  if (message.countSeq !== undefined) header.n = message.countSeq;
  if (message.dedupe !== undefined) header.d = message.dedupe;
  return `${JSON.stringify(header)}${SEPARATOR}${message.frame}`;
}

/** The payload of a hello: this node is on the bus. */
export function writeHello(nodeId: string): string {
  return JSON.stringify({ o: nodeId } satisfies Header);
}

/** The payload of a goodbye: this node stopped and left nothing unannounced. */
export function writeBye(nodeId: string): string {
  return JSON.stringify({ o: nodeId, b: 1 } satisfies Header);
}

/** The payload that tells every node this one swept `node`'s state. */
export function writeSwept(nodeId: string, node: string): string {
  return JSON.stringify({ o: nodeId, s: node } satisfies Header);
}

/** The header and, after the separator, the frame; undefined for what is not an envelope. */
function parseHeader(payload: string): { header: Partial<Header>; frame?: string } | undefined {
  const end = payload.indexOf(SEPARATOR);
  const header = parseJsonObject(end < 0 ? payload : payload.slice(0, end)) as Partial<Header> | null;
  if (!header || typeof header.o !== "string") return undefined;
  return end < 0 ? { header } : { header, frame: payload.slice(end + SEPARATOR.length) };
}

const optional = (value: unknown, type: "string" | "object") => value === undefined || (typeof value === type && value !== null);

function isMemberChange(value: unknown): value is MemberChange {
  const m = value as Partial<MemberChange>;
  return typeof m === "object" && m !== null && typeof m.userId === "string" && typeof m.added === "boolean" && typeof m.seq === "number";
}

/**
 * What a bus payload carried, or undefined for this node's own echo and for a payload that is not
 * an envelope (garbage from a foreign publisher on the channel: not ours to log).
 */
export function readEnvelope(payload: string, nodeId: string): Received | undefined {
  // Our own header starts with our id (writeEnvelope puts it first): an echo costs no parse.
  if (payload.startsWith(`{"o":${JSON.stringify(nodeId)}`)) return undefined;
  const parsed = parseHeader(payload);
  if (!parsed || parsed.header.o === nodeId) return undefined;
  const { header, frame } = parsed;
  const from = header.o!;
  if (frame !== undefined) {
    if (typeof header.a !== "string" || typeof header.c !== "string" || !optional(header.x, "string") || !optional(header.d, "string")) return undefined;
    if (header.mc !== undefined && !isMemberChange(header.mc)) return undefined;
    if (header.n !== undefined && typeof header.n !== "number") return undefined;
    const message: ClusterMessage = { type: "publish", appId: header.a, channel: header.c, frame };
    if (header.x !== undefined) message.exceptSocketId = header.x;
    if (header.mc !== undefined) message.member = header.mc;
    if (header.n !== undefined) message.countSeq = header.n;
    if (header.d !== undefined) message.dedupe = header.d;
    return { from, message };
  }
  if (header.m === undefined) {
    if (header.b === 1) return { from, bye: true };
    return typeof header.s === "string" ? { from, swept: header.s } : { from };
  }
  const m = header.m as { type?: unknown; appId?: unknown } | null;
  if (typeof m !== "object" || m === null || typeof m.type !== "string" || m.type === "publish" || typeof m.appId !== "string") return undefined;
  return { from, message: header.m };
}
