// The WebSocket frame a Node socket writes for a server message, built once per broadcast: a
// broadcast hands the same string to every subscriber, so the last one built is kept.

let lastFrame = "";
let lastWire = Buffer.alloc(0);

/** Unmasked server-to-client text frame (RFC 6455 §5.2), FIN set. */
export function wireOf(frame: string): Buffer {
  if (frame !== lastFrame) {
    // Encoded straight into the frame buffer: one allocation, not a payload buffer and a copy.
    const n = Buffer.byteLength(frame);
    const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const out = Buffer.allocUnsafe(head + n);
    out[0] = 0x81;
    if (n < 126) out[1] = n;
    else if (n < 65536) {
      out[1] = 126;
      out.writeUInt16BE(n, 2);
    } else {
      out[1] = 127;
      out.writeUInt32BE(0, 2);
      out.writeUInt32BE(n, 6);
    }
    out.write(frame, head, n, "utf8");
    lastFrame = frame;
    lastWire = out;
  }
  return lastWire;
}
