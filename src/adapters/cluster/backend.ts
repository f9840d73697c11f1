// What a Redis-family driver supplies to the shared ClusterAdapter, and the bus envelope.
import type { ClusterMessage, ClusterTransition } from "../../core/adapter.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { Logger, Timers } from "../../core/runtime.ts";
import type { ScriptName } from "./scripts.ts";

export interface BackendEvents {
  /** A payload some node published on the bus. */
  message(payload: string): void;
  /** Commands work (first connection, or again after an outage). */
  up(): void;
  /** Commands stopped working. */
  down(reason: string): void;
}

export interface ClusterBackend {
  open(busChannel: string, events: BackendEvents): void;
  /** Runs a script; `key` routes it (cluster slot) and must share the hash tag of the keys it touches. */
  run(script: ScriptName, key: string, args: (string | number)[]): Promise<unknown>;
  publish(busChannel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** Key prefix; apps and clusters sharing one Redis must use different prefixes or app ids. */
  prefix: string;
  /** A node that has not sent a heartbeat for this long is dead and its state is removed. */
  nodeTimeoutMs: number;
  timers: Timers;
  logger: Logger;
  /** How long start() waits for the backend before serving local clients alone. */
  connectTimeoutMs?: number;
}

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

/** The message in a bus payload, or undefined for garbage and for this node's own echo. */
export function readEnvelope(payload: string, nodeId: string): ClusterMessage | undefined {
  let envelope: BusEnvelope;
  try {
    envelope = JSON.parse(payload) as BusEnvelope;
  } catch {
    return undefined;
  }
  if (typeof envelope !== "object" || envelope === null || envelope.o === nodeId) return undefined;
  if (typeof envelope.m !== "object" || envelope.m === null) return undefined;
  return envelope.m;
}

/** Reads a "release" script result into the transitions to announce. */
export function releasedTransitions(result: unknown, remoteOnly: boolean): ClusterTransition[] {
  const out: ClusterTransition[] = [];
  for (const entry of ((result as unknown[])[1] ?? []) as unknown[][]) {
    if (entry[0] === "s") {
      const [, channel, vacated, removed, count, user, seq] = entry as [string, string, number, number, number, string, number];
      out.push({
        type: "left", channel: String(channel), userId: user === "" ? undefined : String(user),
        vacated: vacated === 1, memberRemoved: removed === 1, seq: Number(seq ?? 0), subscriptionCount: Number(count), remoteOnly,
      });
    } else if (entry[0] === "u") {
      out.push({ type: "offline", userId: String(entry[1]), remoteOnly });
    }
  }
  return out;
}

/** Splits a recorded item ("c|sock", "s|sock|channel", "u|sock|user") into kind, socket and rest. */
export function parseItem(item: string): { kind: string; socketId: string; rest: string } {
  const tail = item.slice(2);
  const bar = tail.indexOf("|");
  return { kind: item[0] ?? "", socketId: bar < 0 ? tail : tail.slice(0, bar), rest: bar < 0 ? "" : tail.slice(bar + 1) };
}

/** Reads a "members" script result (sequence, userId, user_info JSON, ...) in join order. */
export function parseMembers(result: unknown): MemberSnapshot {
  if (!Array.isArray(result) || result.length === 0) throw new Error(`unexpected members reply: ${JSON.stringify(result)}`);
  const members = new Map<string, unknown>();
  for (let i = 1; i + 1 < result.length; i += 2) members.set(String(result[i]), parseJson(String(result[i + 1])));
  return { members, seq: Number(result[0]) };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
