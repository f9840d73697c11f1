// The apps file: a clear message for anything that is not a list of app objects.
import { describe, expect, it } from "vitest";
import { parseAppsFile } from "../../src/app-stores/file.ts";

describe("parseAppsFile", () => {
  it("reads an array or {apps: [...]}", () => {
    const app = { id: "1", key: "k", secret: "s" };
    expect(parseAppsFile(JSON.stringify([app]), "a.json")[0]?.id).toBe("1");
    expect(parseAppsFile(JSON.stringify({ apps: [app] }), "a.json")[0]?.key).toBe("k");
  });

  it("names the entry that is not an object", () => {
    expect(() => parseAppsFile('[{"id":"1","key":"k","secret":"s"}, 42]', "a.json")).toThrow("apps[1] in a.json must be an object");
    expect(() => parseAppsFile("[null]", "a.json")).toThrow("apps[0] in a.json must be an object");
  });
});
