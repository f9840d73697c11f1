// Reading what clients send: one parser for inbound frames and for the JSON strings nested in
// them (pusher:* data, channel_data, user_data).

export interface InboundFrame {
  event: string;
  channel?: unknown;
  data?: unknown;
}

/** The JSON object in `text`, or null when it is not valid JSON or not a plain object. */
export function parseJsonObject(text: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** An inbound text frame: a JSON object with a string `event` (spec §1.9); null otherwise. */
export function parseFrame(text: string): InboundFrame | null {
  const frame = parseJsonObject(text);
  return frame && typeof frame.event === "string" ? (frame as unknown as InboundFrame) : null;
}

/** `data` of pusher:* events may be an object or a JSON string; missing means {} (spec §1.4). */
export function frameData(frame: InboundFrame): Record<string, unknown> | null {
  const data = frame.data;
  if (data === undefined || data === null || data === "") return {};
  if (typeof data === "string") return parseJsonObject(data);
  return typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
}
