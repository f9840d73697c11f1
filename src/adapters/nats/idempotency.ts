// The nats driver's idempotency keys of REST publishes, in their own bucket (NatsLink "publishes").
// Each value carries its expiry, because a KV bucket has one lifetime for all its keys while a
// claim lapses soon and a delivered key lives the idempotency window; compare-and-set makes a
// claim atomic across nodes, like the Redis scripts' SET.
import { z } from "zod";
import type { IdempotencyClaim } from "../../core/adapter.ts";
import type { IdempotencyBackend } from "../cluster/transport.ts";
import { UNCHANGED, type NatsLink } from "./connection.ts";
import { key } from "./state.ts";
import { shape } from "./values.ts";

interface PublishRecord {
  state: "pending" | "done";
  /** Epoch ms after which the record no longer counts. */
  until: number;
}

const RECORD = shape<PublishRecord>("a publish record {state, until}", z.object({ state: z.enum(["pending", "done"]), until: z.number() }));

export class NatsIdempotency implements IdempotencyBackend {
  constructor(private readonly link: NatsLink, private readonly now: () => number) {}

  claim(appId: string, name: string, pendingMs: number): Promise<IdempotencyClaim> {
    return this.link.cas<PublishRecord, IdempotencyClaim>(key(appId, "p", name), RECORD, (current) => {
      const now = this.now();
      if (current && current.until > now) return { next: UNCHANGED, result: current.state };
      return { next: { state: "pending", until: now + pendingMs }, result: "claimed" };
    }, "publishes");
  }

  async settle(appId: string, name: string, delivered: boolean, windowMs: number): Promise<void> {
    await this.link.cas<PublishRecord, undefined>(key(appId, "p", name), RECORD, (current) => {
      if (delivered) return { next: { state: "done", until: this.now() + windowMs }, result: undefined };
      // A failed publish releases only its own claim, never a "done" another request recorded.
      return { next: current?.state === "pending" ? undefined : UNCHANGED, result: undefined };
    }, "publishes");
  }
}
