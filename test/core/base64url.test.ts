import { describe, expect, it } from "vitest";
import { decodeBase64Url, encodeBase64Url } from "../../src/core/base64url.ts";

describe("base64url", () => {
  it("round-trips UTF-8 text without padding or URL-unsafe characters", () => {
    for (const text of ["", "a", "ü, ✓", "?>?>", '{"k":"app","e":1}']) {
      const encoded = encodeBase64Url(text);
      expect(encoded).toMatch(/^[A-Za-z0-9_-]*$/);
      expect(decodeBase64Url(encoded)).toBe(text);
    }
    expect(encodeBase64Url("?>?>")).toBe("Pz4_Pg");
  });

  it("answers undefined for what is not base64url of UTF-8", () => {
    expect(decodeBase64Url("%%%")).toBeUndefined();
    expect(decodeBase64Url("_w")).toBeUndefined(); // byte 0xff: not UTF-8
  });
});
