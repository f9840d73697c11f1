// .env files as the other servers' dotenv libraries read them.
import { describe, expect, it } from "vitest";
import { parseDotenv } from "../../src/config/dotenv.ts";

describe("parseDotenv", () => {
  it("reads NAME=value lines with comments, export, quotes and inline comments", () => {
    const text = [
      "# a comment", "", "PORT=6001", "export HOST=0.0.0.0", "DEBUG=false # verbose", 'APP_SECRET="a # not a comment"',
      "APP_KEY='single'", 'MULTI="one\\ntwo"', "EMPTY=", "URL=redis://h:6379/0#frag",
    ].join("\n");
    expect(parseDotenv(text, ".env")).toEqual({
      PORT: "6001", HOST: "0.0.0.0", DEBUG: "false", APP_SECRET: "a # not a comment", APP_KEY: "single", MULTI: "one\ntwo", EMPTY: "",
      URL: "redis://h:6379/0#frag",
    });
  });

  it("names the file and line of anything else", () => {
    expect(() => parseDotenv("A=1\n= no name\n", "prod.env")).toThrow('prod.env:2: expected NAME=value, got "= no name"');
  });
});
