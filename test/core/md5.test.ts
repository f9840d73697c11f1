// The REST API's body_md5 is checked with our own RFC 1321 implementation (src/core stays free
// of node:crypto), so it must agree with the reference vectors and with node:crypto everywhere,
// including the padding edge cases around the 56/64-byte block boundaries.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { md5Hex } from "../../src/core/md5.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const nodeMd5 = (bytes: Uint8Array) => createHash("md5").update(bytes).digest("hex");

/** Deterministic pseudo-random bytes (xorshift32) so failures are reproducible. */
function bytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe("md5Hex", () => {
  it.each([
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
    ["12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"],
  ])("RFC 1321 test suite: md5(%j)", (input, expected) => {
    expect(md5Hex(utf8(input))).toBe(expected);
  });

  it("matches the spec's misc vectors (empty body and {})", () => {
    expect(md5Hex(new Uint8Array(0))).toBe("d41d8cd98f00b204e9800998ecf8427e");
    expect(md5Hex(utf8("{}"))).toBe("99914b932bd37a50b983c5e7c90ae93b");
  });

  it("matches the body_md5 of the spec's HTTP vectors A4, B5 and B8", () => {
    expect(md5Hex(utf8('{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'))).toBe("ec365a775a4cd0599faeb73354201b6f");
    expect(md5Hex(utf8('{"name":"my-event","data":"{\\"hello\\":\\"world\\"}","channels":["my-channel"]}'))).toBe("d7c48e936f1d67eaf07e79f7cb899c7a");
    expect(md5Hex(utf8('{"batch":[{"name":"a","channel":"ch-1","data":"{\\"n\\":1}"},{"name":"b","channel":"presence-room","data":"{\\"n\\":2}","info":"user_count"}]}')))
      .toBe("30099727431b084e056e0108e7082b50");
  });

  // 55 bytes is the longest input whose padding fits one block; 56..63 spill into a second one.
  it.each([1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 10_241, 100_003])(
    "agrees with node:crypto for %i bytes", (length) => {
      const input = bytes(length, length * 2654435761);
      expect(md5Hex(input)).toBe(nodeMd5(input));
    });

  it("hashes bytes, not UTF-16 code units (multi-byte UTF-8 and all byte values)", () => {
    const text = utf8("héllo wörld — 你好 🎉".repeat(20));
    expect(md5Hex(text)).toBe(nodeMd5(text));
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(md5Hex(every)).toBe(nodeMd5(every));
  });

  it("hashes a view into a larger buffer by its own bytes only", () => {
    const backing = bytes(200);
    const view = backing.subarray(17, 150);
    expect(md5Hex(view)).toBe(nodeMd5(Buffer.from(view)));
  });
});
