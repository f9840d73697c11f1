// A bus per app (issue #22), through the shared lifecycle with a fake transport and a manual
// clock: a node hears an app's bus only while something holds it, a socket waits for the
// subscription, a node is back only once every held app is subscribed again, and what arrives is
// counted per app.
import { describe, expect, it } from "vitest";
import { appToken } from "../../../src/adapters/cluster/app-buses.ts";
import { writeEnvelope } from "../../../src/adapters/cluster/envelope.ts";
import { ClusterUnavailableError, type ClusterMessage } from "../../../src/core/adapter.ts";
import { settle } from "../../helpers/harness.ts";
import { LINGER, setup } from "./fake-driver.ts";

async function online() {
  const s = setup();
  const started = s.driver.start(s.node);
  s.driver.events!.up();
  await started;
  return s;
}

const publish = (appId: string, n = 1): ClusterMessage => ({ type: "publish", appId, channel: "ch", frame: `{"event":"e","data":"${n}"}` });

describe("a bus per app", () => {
  it("subscribes on the first holder, once, and unsubscribes a linger after the last", async () => {
    const { driver, timers, logger } = await online();
    await driver.listen("a");
    await driver.listen("a");
    expect(driver.subscribeCalls).toEqual([["a"]]);
    expect(driver.subscribed).toEqual(new Set(["a"]));
    driver.unlisten("a");
    driver.unlisten("a");
    await timers.advance(LINGER - 1);
    expect(driver.subscribed).toEqual(new Set(["a"]));
    await timers.advance(1);
    expect(driver.subscribed).toEqual(new Set());
    expect(logger.lines).toContain("debug: fake adapter: subscribed to the bus of app a");
    expect(logger.lines).toContain("debug: fake adapter: unsubscribed from the bus of app a (no socket or console of it here)");
  });

  it("keeps the subscription when a holder comes back within the linger", async () => {
    const { driver, timers } = await online();
    await driver.listen("a");
    driver.unlisten("a");
    await timers.advance(LINGER - 1);
    await driver.listen("a");
    await timers.advance(LINGER * 2);
    expect(driver.subscribeCalls).toEqual([["a"]]);
    expect(driver.unsubscribeCalls).toEqual([]);
    expect(driver.subscribed).toEqual(new Set(["a"]));
  });

  it("resolves a listen only once the backend confirmed the subscription", async () => {
    const { driver, timers } = await online();
    driver.subscribeHangs = true;
    let done = false;
    const listening = driver.listen("a").then(() => (done = true), (error: unknown) => error);
    await settle();
    expect(done).toBe(false);
    // Unconfirmed within the request deadline (500 ms here): refused, and nothing is held.
    await timers.advance(500);
    expect(await listening).toBeInstanceOf(ClusterUnavailableError);
    driver.subscribeHangs = false;
    await driver.listen("a");
    driver.unlisten("a");
    await timers.advance(LINGER);
    expect(driver.subscribed).toEqual(new Set());
  });

  it("refuses a listen the backend refuses while up, naming the app", async () => {
    const { driver } = await online();
    driver.subscribeFails = true;
    await expect(driver.listen("a")).rejects.toThrow(/cluster backend \(fake\) failed \(subscribe refused\); subscribing to the bus of app a not done/);
  });

  it("while away takes holders at once, and is back only once every held app is subscribed again", async () => {
    const { driver, node, timers } = setup();
    const started = driver.start(node);
    await timers.advance(1000);
    await started;
    await driver.listen("a");
    expect(driver.subscribeCalls).toEqual([]);
    driver.subscribeHangs = true;
    driver.events!.up();
    await settle();
    expect(driver.subscribeCalls).toEqual([["a"]]);
    // Not online yet: a publish now could miss this node's sockets of app a.
    await expect(driver.deliver(publish("b"))).rejects.toThrow(ClusterUnavailableError);
    await timers.advance(500); // the resubscribe outlived the deadline: still away
    await expect(driver.deliver(publish("b"))).rejects.toThrow(ClusterUnavailableError);
    await driver.listen("b"); // held meanwhile: taken in the same restore
    driver.subscribeHangs = false;
    await timers.advance(500); // the next tick tries again
    expect(driver.subscribed).toEqual(new Set(["a", "b"]));
    await driver.deliver(publish("b"));

    // Lost again: every app is subscribed again before publishes are taken.
    driver.events!.down("socket closed");
    driver.subscribed.clear();
    driver.events!.up();
    await settle();
    expect(driver.subscribed).toEqual(new Set(["a", "b"]));
    await driver.deliver(publish("a"));
  });

  it("publishes on the message's app bus, hellos and node-wide feature messages on the node bus", async () => {
    const { driver } = await online();
    driver.routes = [];
    driver.broadcast(publish("a"));
    driver.broadcast({ type: "terminate", appId: "b", userId: "u" });
    driver.broadcast({ type: "feature", topic: "console", appId: "c", body: { op: "count" } });
    driver.broadcast({ type: "feature", topic: "console", appId: "d", nodeWide: true, body: { op: "watch" } });
    driver.broadcast({ type: "feature", topic: "console", appId: "", nodeWide: true, body: { op: "revoke" } });
    await settle();
    expect(driver.routes).toEqual(["a", "b", "c", "(node)", "(node)"]);
  });

  it("counts what other nodes sent per app, and drops a bus it hears without holding it", async () => {
    const { driver, timers, received } = await online();
    await driver.listen("a");
    driver.events!.message(writeEnvelope("other", publish("a", 1)));
    driver.events!.message(writeEnvelope("other", publish("a", 2)));
    driver.events!.message(writeEnvelope(driver.nodeId, publish("a", 3))); // our own echo
    expect(driver.busMessagesReceived()).toEqual(new Map([["a", 2]]));
    expect(received.map((m) => (m as { frame: string }).frame)).toEqual(['{"event":"e","data":"1"}', '{"event":"e","data":"2"}']);
    // Still subscribed to an app this node gave up (an unsubscribe lost with a connection, say).
    driver.events!.message(writeEnvelope("other", publish("z")));
    expect(driver.unsubscribeCalls).toEqual([]);
    await timers.advance(LINGER);
    expect(driver.unsubscribeCalls).toEqual([["z"]]);
    expect(driver.busMessagesReceived().get("z")).toBe(1);
  });
});

describe("app tokens in channel and subject names", () => {
  it("keeps letters, digits and dashes, and encodes every other byte one-to-one", () => {
    expect(appToken("app-1")).toBe("app-1");
    expect(appToken("a.b c,d*>")).toBe("a_2eb_20c_2cd_2a_3e");
    expect(appToken("a_2e")).toBe("a_5f2e");
    expect(appToken("é{}")).toBe("_c3_a9_7b_7d");
    expect(appToken("a_2e")).not.toBe(appToken("a."));
  });
});
