// The bus envelope every cluster driver sends: the message and the node it came from.
import type { ClusterMessage } from "../../core/adapter.ts";
import { parseJsonObject } from "../../core/frames.ts";

export interface BusEnvelope {
  /** Origin node: it applied the message locally already and ignores its own echo. */
  o: string;
  m: ClusterMessage;
}

/** The bus payload for a message this node sends. */
export function writeEnvelope(nodeId: string, message: ClusterMessage): string {
  const envelope: BusEnvelope = { o: nodeId, m: message };
  return JSON.stringify(envelope);
}

/**
 * The message in a bus payload, or undefined for this node's own echo and for a payload that is
 * not an envelope (a probe, or garbage from a foreign publisher on the channel: not ours to log).
 */
export function readEnvelope(payload: string, nodeId: string): ClusterMessage | undefined {
  const envelope = parseJsonObject(payload) as Partial<BusEnvelope> | null;
  if (!envelope || envelope.o === nodeId || typeof envelope.m !== "object" || envelope.m === null) return undefined;
  return envelope.m;
}
