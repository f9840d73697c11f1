// The bus envelope every cluster driver sends: the message and the node it came from. An envelope
// without a message is a node's hello: it says the node is on the bus (cluster/bus-peers.ts).
import type { ClusterMessage } from "../../core/adapter.ts";
import { parseJsonObject } from "../../core/frames.ts";

export interface BusEnvelope {
  /** Origin node: it applied the message locally already and ignores its own echo. */
  o: string;
  m?: ClusterMessage;
}

/** What a bus payload carried: who sent it, and its message unless it was a hello. */
export interface Received {
  from: string;
  message?: ClusterMessage;
}

/** The bus payload for a message this node sends. */
export function writeEnvelope(nodeId: string, message: ClusterMessage): string {
  const envelope: BusEnvelope = { o: nodeId, m: message };
  return JSON.stringify(envelope);
}

/** The payload of a hello: this node is on the bus. */
export function writeHello(nodeId: string): string {
  const envelope: BusEnvelope = { o: nodeId };
  return JSON.stringify(envelope);
}

/**
 * What a bus payload carried, or undefined for this node's own echo and for a payload that is not
 * an envelope (garbage from a foreign publisher on the channel: not ours to log).
 */
export function readEnvelope(payload: string, nodeId: string): Received | undefined {
  const envelope = parseJsonObject(payload) as Partial<BusEnvelope> | null;
  if (!envelope || typeof envelope.o !== "string" || envelope.o === nodeId) return undefined;
  if (envelope.m === undefined) return { from: envelope.o };
  if (typeof envelope.m !== "object" || envelope.m === null) return undefined;
  return { from: envelope.o, message: envelope.m };
}
