import { describe, expect, it } from "vitest";
import { readEnvelope, writeBye, writeEnvelope, writeHello, writeSwept } from "../../../src/adapters/cluster/envelope.ts";
import type { ClusterMessage } from "../../../src/core/adapter.ts";

describe("bus envelopes", () => {
  const message: ClusterMessage = { type: "terminate", appId: "app", userId: "u1" };
  const frame = JSON.stringify({ event: "ev", channel: "news", data: JSON.stringify({ text: "a \"quoted\"\nline", n: [1, 2] }) });
  const published: ClusterMessage = {
    type: "publish", appId: "app", channel: "presence-room", frame, exceptSocketId: "1.2",
    member: { userId: "u1", added: true, seq: 7 }, dedupe: "k1",
  };

  it("carries a message to the other nodes and drops the sender's own echo", () => {
    const payload = writeEnvelope("A", message);
    expect(readEnvelope(payload, "B")).toEqual({ from: "A", message });
    expect(readEnvelope(payload, "A")).toBeUndefined();
  });

  it("carries a publish's frame once, as it is, after a header", () => {
    const payload = writeEnvelope("A", published);
    expect(readEnvelope(payload, "B")).toEqual({ from: "A", message: published });
    expect(readEnvelope(payload, "A")).toBeUndefined();
    // The frame as sent to sockets, byte for byte, not a JSON string of it inside the header.
    expect(payload.endsWith(`\u001e${frame}`)).toBe(true);
    expect(payload.split(frame)).toHaveLength(2);
    expect(payload).not.toContain(JSON.stringify(frame));
    // No newline: Upstash's SSE stream would split the payload there.
    expect(payload).not.toContain("\n");
    const plain: ClusterMessage = { type: "publish", appId: "app", channel: "news", frame };
    expect(readEnvelope(writeEnvelope("A", plain), "B")).toEqual({ from: "A", message: plain });
  });

  it("carries a subscription count's order in the header, beside the frame", () => {
    const counted: ClusterMessage = { type: "publish", appId: "app", channel: "news", frame: '{"n":2}', countSeq: 1_700_000_000_000_001 };
    const payload = writeEnvelope("A", counted);
    expect(readEnvelope(payload, "B")).toEqual({ from: "A", message: counted });
    expect(payload.endsWith('\u001e{"n":2}')).toBe(true);
  });

  it("carries every kind of message", () => {
    const kinds: ClusterMessage[] = [
      { type: "watchlist", appId: "app", userId: "u", online: true },
      { type: "feature", topic: "console", appId: "app", body: { node: "n1", op: "events", events: [], dropped: 2 } },
      { type: "feature", topic: "console", appId: "", nodeWide: true, body: { node: "n1", op: "revoke", session: "s", until: 5 } },
      { type: "publish", appId: "app", channel: "c", frame: "" },
      { type: "publish", appId: "app", channel: "c", frame: "\u001e{}\u001e" },
    ];
    for (const m of kinds) expect(readEnvelope(writeEnvelope("A", m), "B")).toEqual({ from: "A", message: m });
  });

  it("carries a hello: who is on the bus, without a message", () => {
    expect(readEnvelope(writeHello("A"), "B")).toEqual({ from: "A" });
    expect(readEnvelope(writeHello("A"), "A")).toBeUndefined();
  });

  it("carries the news of a sweep: which node the sender swept", () => {
    expect(readEnvelope(writeSwept("A", "C"), "B")).toEqual({ from: "A", swept: "C" });
  });

  it("carries a goodbye: the node stopped on purpose", () => {
    expect(readEnvelope(writeBye("A"), "B")).toEqual({ from: "A", bye: true });
    expect(readEnvelope(writeBye("A"), "A")).toBeUndefined();
  });

  it("ignores payloads that are not envelopes instead of throwing", () => {
    for (const junk of [
      "", "not json", "null", "42", '"text"', "{}", '{"o":5}', '{"o":"A","m":null}', '{"o":"A","m":"x"}', "probe:abc",
      '{"o":"A","m":{"type":"terminate"}}', '{"o":"A","m":{"type":"publish","appId":"a","channel":"c","frame":"{}"}}',
      '\u001e{}', 'x\u001e{}', '{"o":"A"}\u001e{}', '{"o":"A","a":"app"}\u001e{}', '{"o":"A","c":"ch"}\u001e{}',
      '{"o":"A","a":1,"c":"ch"}\u001e{}', '{"o":"A","a":"app","c":"ch","x":5}\u001e{}', '{"o":"A","a":"app","c":"ch","d":[]}\u001e{}',
      '{"o":"A","a":"app","c":"ch","mc":{"userId":"u"}}\u001e{}', '{"o":"A","a":"app","c":"ch","mc":null}\u001e{}',
      '{"o":"A","a":"app","c":"ch","n":"5"}\u001e{}',
    ]) {
      expect(readEnvelope(junk, "B"), junk).toBeUndefined();
    }
  });
});
