// Console sessions that were signed out. A session cookie is valid on every node by its signature
// alone (session.ts), so clearing the browser's copy is not enough: a copied cookie would stay
// valid until it expires. Each node keeps the ids of signed-out sessions until they would have
// expired, and a sign-out is told to every node over the cluster bus ("revoke").
import { ExpiringMap } from "../core/expiring-map.ts";

/** Signed-out sessions remembered at most; each goes when it would have expired anyway. */
const MAX_REVOKED = 100_000;

export class Revocations {
  private readonly revoked: ExpiringMap<true>;

  constructor(private readonly now: () => number) {
    this.revoked = new ExpiringMap(MAX_REVOKED, now);
  }

  /** Refuses the session `id` until `until` (its expiry, ms since the epoch). */
  revoke(id: string, until: number): void {
    const left = until - this.now();
    if (left > 0) this.revoked.set(id, true, left);
  }

  has(id: string): boolean {
    return this.revoked.get(id) === true;
  }
}
