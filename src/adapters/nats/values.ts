// The shapes of the values in the nats driver's bucket, checked where they are read
// (NatsLink.getJson and cas), so a value another version or a person wrote fails with the key and
// the value named instead of turning into NaN counts or missing members downstream.
import type { ChannelValue, Counts, UserValue } from "./state.ts";

export interface Shape<V> {
  /** For the error: "a channel value", ... */
  name: string;
  is(value: unknown): value is V;
}

/** A cache channel's last event, with its time to live in seconds. */
export interface CacheValue {
  event: string;
  data: string;
  ttl: number;
}

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);
const isCounts = (v: unknown): v is Counts => isObject(v) && Object.values(v).every((n) => typeof n === "number");
const optionalNumber = (v: unknown) => v === undefined || typeof v === "number";

export const CHANNEL: Shape<ChannelValue> = {
  name: "a channel value {n, m?, s?, v?}",
  is: (v): v is ChannelValue =>
    isObject(v) && isCounts(v.n) && optionalNumber(v.s) && optionalNumber(v.v)
    && (v.m === undefined || (isObject(v.m) && Object.values(v.m).every((e) => isObject(e) && isCounts(e.n) && typeof e.o === "number"))),
};

export const USER: Shape<UserValue> = {
  name: "a count value {n}",
  is: (v): v is UserValue => isObject(v) && isCounts(v.n),
};

export const CACHE: Shape<CacheValue> = {
  name: "a cached event {event, data, ttl}",
  is: (v): v is CacheValue => isObject(v) && typeof v.event === "string" && typeof v.data === "string" && typeof v.ttl === "number",
};

export const TEXT: Shape<string> = {
  name: "a string",
  is: (v): v is string => typeof v === "string",
};
