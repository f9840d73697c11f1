import type { App } from "../core/app.ts";

/** Plain text columns, the header first; widths fit the longest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}

const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

export function appListTable(apps: App[]): string {
  if (apps.length === 0) return "(no apps)";
  return table([
    ["ID", "KEY", "ENABLED", "CLIENT EVENTS", "MAX CONNECTIONS", "WEBHOOKS"],
    ...apps.map((a) => [a.id, a.key, String(a.enabled), String(a.enableClientMessages), String(a.maxConnections), String(a.webhooks.length)]),
  ]);
}

/** One app, every setting on its own line (the secret included: this is the admin's view). */
export function appTable(app: App): string {
  return table([["SETTING", "VALUE"], ...Object.entries(app).map(([k, v]) => [k, show(v)])]);
}
