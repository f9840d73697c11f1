// What a Durable Object keeps in its SQLite storage so that it can be rebuilt: each open socket's
// connection snapshot (src/core/snapshot.ts) and the last event of each cache channel. Each
// socket also carries its snapshot in its attachment, which survives a hibernation with the
// socket; one over the attachment cap (16 KiB) is read from storage instead. After a deploy the
// sockets are gone but the rows are not: those are the vanished sockets whose leaves the rebuilt
// object announces.
import type { Adapter } from "../../src/core/adapter.ts";
import type { Logger } from "../../src/core/runtime.ts";
import type { ConnectionSnapshot } from "../../src/core/snapshot.ts";

/** serializeAttachment throws above 16,384 bytes; a margin for the structured-clone framing. */
const ATTACHMENT_LIMIT = 16_000;

/** A socket's attachment: its id always, its snapshot when it fits. */
export interface Attachment {
  id: string;
  snapshot?: ConnectionSnapshot;
}

const utf8 = new TextEncoder();

export class ObjectMemory {
  constructor(private readonly sql: SqlStorage, private readonly logger: Pick<Logger, "debug" | "warn">) {
    sql.exec("CREATE TABLE IF NOT EXISTS sockets (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS cache (app TEXT NOT NULL, channel TEXT NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (app, channel))");
  }

  /** Keeps a socket's current snapshot in storage and, when it fits, in its attachment. */
  keep(ws: WebSocket, snapshot: ConnectionSnapshot): void {
    const text = JSON.stringify(snapshot);
    this.sql.exec("INSERT OR REPLACE INTO sockets (id, snapshot) VALUES (?, ?)", snapshot.id, text);
    const fits = utf8.encode(text).length <= ATTACHMENT_LIMIT;
    if (!fits) this.logger.debug(`socket ${snapshot.id}: snapshot over the attachment cap, kept in storage only`);
    ws.serializeAttachment(fits ? { id: snapshot.id, snapshot } : { id: snapshot.id });
  }

  forget(socketId: string): void {
    this.sql.exec("DELETE FROM sockets WHERE id = ?", socketId);
  }

  /** A socket's snapshot from its attachment, else from storage; undefined for one never kept. */
  snapshotOf(ws: WebSocket): ConnectionSnapshot | undefined {
    const attachment = ws.deserializeAttachment() as Attachment | null;
    if (!attachment) return undefined;
    return attachment.snapshot ?? this.stored(attachment.id);
  }

  /** Every kept snapshot of a socket not in `alive`: sockets that went without a close event. */
  vanished(alive: Set<string>): ConnectionSnapshot[] {
    const out: ConnectionSnapshot[] = [];
    for (const row of this.sql.exec<{ id: string; snapshot: string }>("SELECT id, snapshot FROM sockets")) {
      if (!alive.has(row.id)) out.push(JSON.parse(row.snapshot) as ConnectionSnapshot);
    }
    return out;
  }

  private stored(id: string): ConnectionSnapshot | undefined {
    const rows = this.sql.exec<{ snapshot: string }>("SELECT snapshot FROM sockets WHERE id = ?", id).toArray();
    return rows[0] ? (JSON.parse(rows[0].snapshot) as ConnectionSnapshot) : undefined;
  }

  /** The adapter with its cache writes mirrored here, so a cache channel's last event survives an eviction. */
  mirrorCache(adapter: Adapter, now: () => number): Adapter {
    const sql = this.sql;
    const cacheSet: Adapter["cacheSet"] = async (appId, channel, event, data, ttlSeconds) => {
      await adapter.cacheSet(appId, channel, event, data, ttlSeconds);
      sql.exec("INSERT OR REPLACE INTO cache (app, channel, event, data, expires) VALUES (?, ?, ?, ?, ?)", appId, channel, event, data, now() + ttlSeconds * 1000);
    };
    return new Proxy(adapter, {
      get(target, property) {
        if (property === "cacheSet") return cacheSet;
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  /** Puts the unexpired cache entries back into a fresh adapter. */
  async restoreCache(adapter: Adapter, now: () => number): Promise<void> {
    const at = now();
    this.sql.exec("DELETE FROM cache WHERE expires <= ?", at);
    type Row = { app: string; channel: string; event: string; data: string; expires: number };
    for (const row of this.sql.exec<Row>("SELECT app, channel, event, data, expires FROM cache")) {
      await adapter.cacheSet(row.app, row.channel, row.event, row.data, Math.max(1, Math.ceil((row.expires - at) / 1000)));
    }
  }
}
