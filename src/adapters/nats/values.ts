// The shapes of the values in the nats driver's buckets, as zod schemas checked where they are read
// (NatsLink.getJson and cas), so a value another version or a person wrote fails with the key and
// the value named instead of turning into NaN counts or missing members downstream.
import { z } from "zod";
import type { ChannelValue, Counts, MemberValue, UserValue } from "./state.ts";

export interface Shape<V> {
  /** For the error: "a channel value", ... */
  name: string;
  is(value: unknown): value is V;
}

/** A key's value in a listing, with its revision. */
export interface Listed<V> {
  value: V;
  revision: number;
}

/** A cache channel's last event, with its time to live in seconds. */
export interface CacheValue {
  event: string;
  data: string;
  ttl: number;
}

/** A Shape checked by `schema`; unknown fields are allowed, so an older node reads a newer value. */
export function shape<V>(name: string, schema: z.ZodType<V>): Shape<V> {
  return { name, is: (value): value is V => schema.safeParse(value).success };
}

const counts: z.ZodType<Counts> = z.record(z.string(), z.number());

export const CHANNEL = shape<ChannelValue>("a channel value {n, mc?, x?}", z.object({
  n: counts,
  mc: z.number().optional(),
  x: z.number().optional(),
}));

export const MEMBER = shape<MemberValue>("a member value {n, i?, o?}", z.object({ n: counts, i: z.unknown().optional(), o: z.number().optional() }));

/** The bucket's data epoch, and the base (clock µs at its creation) of the member sequences counted in it. */
export interface Epoch {
  id: string;
  base: number;
}

/** The epoch {id, base}; a bare id is an earlier version's (EpochBase.read replaces it). */
export const EPOCH = shape<Epoch | string>("an epoch {id, base}", z.union([z.string(), z.object({ id: z.string(), base: z.number() })]));

export const USER = shape<UserValue>("a count value {n}", z.object({ n: counts }));

export const CACHE = shape<CacheValue>("a cached event {event, data, ttl}", z.object({ event: z.string(), data: z.string(), ttl: z.number() }));
