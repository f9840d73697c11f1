// The server-to-client frame Node sockets write (runtimes/node-frames.ts): RFC 6455 §5.2 headers
// at each payload-length size, and one buffer for a broadcast's repeated frame.
import { describe, expect, it } from "vitest";
import { wireOf } from "../../runtimes/node-frames.ts";

describe("wireOf", () => {
  it("writes a FIN text frame with the 7-bit, 16-bit or 64-bit length the payload needs", () => {
    for (const [n, head] of [[125, 2], [126, 4], [65535, 4], [65536, 10]] as const) {
      const wire = wireOf("x".repeat(n));
      expect(wire.length).toBe(head + n);
      expect(wire[0]).toBe(0x81);
      if (head === 2) expect(wire[1]).toBe(n);
      if (head === 4) expect([wire[1], wire.readUInt16BE(2)]).toEqual([126, n]);
      if (head === 10) expect([wire[1], wire.readUInt32BE(2), wire.readUInt32BE(6)]).toEqual([127, 0, n]);
    }
  });

  it("counts the payload in UTF-8 bytes", () => {
    const wire = wireOf("é€");
    expect(wire[1]).toBe(5);
    expect(wire.subarray(2).toString("utf8")).toBe("é€");
  });

  it("builds a repeated frame once and a new one when it changes", () => {
    const first = wireOf('{"event":"a"}');
    expect(wireOf('{"event":"a"}')).toBe(first);
    expect(wireOf('{"event":"b"}')).not.toBe(first);
  });
});
