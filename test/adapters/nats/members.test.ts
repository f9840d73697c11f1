import { describe, expect, it } from "vitest";
import { applyMember, membersInOrder, stampMember, type MemberValue } from "../../../src/adapters/nats/members.ts";

describe("nats members: one key per member", () => {
  it("decides member_added with the first socket anywhere and member_removed with the last, leaving a tombstone", () => {
    const a = applyMember(undefined, "A", 1, { name: "a" }, 1_000);
    expect(a).toMatchObject({ added: true, removed: false, seq: 1_000_000 });
    expect(a.value).toEqual({ n: { A: 1 }, i: { name: "a" }, o: 1_000_000, v: 1_000_000 });
    // The same user on another node: no transition, the first user_info stays.
    const b = applyMember(a.value, "B", 2, { name: "other" }, 2_000);
    expect(b).toMatchObject({ added: false, removed: false, seq: 0, value: { n: { A: 1, B: 2 }, i: { name: "a" } } });
    const aLeft = applyMember(b.value, "A", 0, undefined, 3_000);
    expect(aLeft).toMatchObject({ added: false, removed: false, value: { n: { B: 2 } } });
    const bLeft = applyMember(aLeft.value, "B", 0, undefined, 500); // B's clock is behind
    expect(bLeft).toMatchObject({ added: false, removed: true, seq: 1_000_001 });
    expect(bLeft.value).toEqual({ n: {}, o: 1_000_000, v: 1_000_001 });
  });

  it("orders a user's transitions by their decisions: a re-add is sequenced above the tombstone's removal", () => {
    const removed: MemberValue = { n: {}, o: 1, v: 5_000_000 };
    const again = applyMember(removed, "X", 1, null, 4_000); // X's clock is a second behind
    expect(again).toMatchObject({ added: true, seq: 5_000_001 });
  });

  it("changes nothing when the node's count is already there, or a non-member leaves", () => {
    const v: MemberValue = { n: { A: 2 }, i: null, o: 1, v: 1 };
    expect(applyMember(v, "A", 2, null, 9)).toEqual({ value: undefined, added: false, removed: false, seq: 0 });
    expect(applyMember(undefined, "A", 0, null, 9).value).toBeUndefined();
    expect(applyMember({ n: {}, o: 1, v: 3 }, "A", 0, null, 9).value).toBeUndefined();
  });

  it("stamps the channel's sequence unless another transition of the user was decided since", () => {
    const v: MemberValue = { n: { A: 1 }, i: null, o: 10, v: 10 };
    expect(stampMember(v, 10, 42)).toEqual({ n: { A: 1 }, i: null, o: 42, v: 42 });
    expect(stampMember({ ...v, v: 11 }, 10, 42)).toBeUndefined();
    expect(stampMember(undefined, 10, 42)).toBeUndefined();
  });

  it("lists members in join order, ties by user id, without tombstones", () => {
    const members = membersInOrder([
      ["b", { n: { A: 1 }, i: "B", o: 2, v: 2 }],
      ["gone", { n: {}, o: 1, v: 4 }],
      ["c", { n: { B: 1 }, i: "C", o: 1, v: 1 }],
      ["a", { n: { B: 1 }, i: "A", o: 2, v: 2 }],
    ]);
    expect([...members]).toEqual([["c", "C"], ["a", "A"], ["b", "B"]]);
  });
});
