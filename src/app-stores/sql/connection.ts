import type { Logger } from "../../core/runtime.ts";

/** What a SQL driver needs, resolved from DATABASE_URL or DATABASE_POSTGRES_* / DATABASE_MYSQL_*. */
export interface SqlConnectionSettings {
  /** DATABASE_URL when given; it wins over the separate fields. */
  url?: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  poolSize: number;
  /** off: plain TCP; require: TLS without checking the certificate; verify: TLS with checks. */
  tls: "off" | "require" | "verify";
  timeoutMs: number;
  table: string;
  logger: Logger;
}

/** Where we connect, for logs: never the password. */
export function describeTarget(s: SqlConnectionSettings): string {
  if (s.url) {
    try {
      const u = new URL(s.url);
      return `${u.hostname}:${u.port || "(default port)"}${u.pathname}`;
    } catch {
      return "(DATABASE_URL)";
    }
  }
  return `${s.host}:${s.port}/${s.database}`;
}

/** TLS options in the shape both postgres.js and mysql2 accept. */
export function tlsOptions(tls: SqlConnectionSettings["tls"]): false | { rejectUnauthorized: boolean } {
  return tls === "off" ? false : { rejectUnauthorized: tls === "verify" };
}
