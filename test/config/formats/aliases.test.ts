// Every other server's name must lead to a setting this version has (or a part derive.ts folds
// into one): an alias of a misspelt or renamed key is only ever warned about, never acted on.
import { describe, expect, it } from "vitest";
import { ALIASES, PSEUDO_KEYS } from "../../../src/config/formats/aliases.ts";
import { SERVER_SETTING_KEYS } from "../../../src/config/schema.ts";
import { APP_SETTING_KEYS } from "../../../src/core/app.ts";
import { driverKinds, driverSettings, selectorKey } from "../../../src/drivers/index.ts";

describe("aliases", () => {
  it("point at settings that exist", () => {
    const known = new Set<string>([
      ...SERVER_SETTING_KEYS, ...driverSettings().keys(), ...driverKinds().map((k) => selectorKey(k.kind)),
      ...APP_SETTING_KEYS.map((k) => `app.${k}`), ...PSEUDO_KEYS, "configFile",
    ]);
    expect(Object.keys(ALIASES).filter((key) => !known.has(key))).toEqual([]);
  });
});
