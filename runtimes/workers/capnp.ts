// The workerd configuration (capnp text) the local launcher writes: one Worker of ES modules, the
// Durable Object namespace with SQLite storage on disk (alarms due after a hibernation are lost
// with in-memory storage), the bindings as text, and outbound fetch to any address (webhooks to
// loopback endpoints in tests).
import { OBJECT_BINDING, OBJECT_CLASS } from "./names.ts";

export interface WorkerdSetup {
  /** host:port the Worker listens on. */
  address: string;
  /** Module files relative to the config's folder (under bundle/), the entrypoint first. */
  modules: string[];
  bindings: Record<string, string>;
  /** Absolute folder for the objects' storage. */
  storage: string;
}

/** A capnp text literal. */
function text(value: string): string {
  return `"${value.replace(/[\\"\x00-\x1f\x7f]/g, (c) => (c === "\\" || c === '"' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`))}"`;
}

export function workerdConfig(setup: WorkerdSetup): string {
  const modules = setup.modules.map((m) => `(name = ${text(m)}, esModule = embed ${text(`bundle/${m}`)})`);
  const bindings = [
    ...Object.entries(setup.bindings).map(([name, value]) => `(name = ${text(name)}, text = ${text(value)})`),
    `(name = ${text(OBJECT_BINDING)}, durableObjectNamespace = ${text(OBJECT_CLASS)})`,
  ];
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "switchboard", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
    (name = "storage", disk = (path = ${text(setup.storage)}, writable = true)),
  ],
  sockets = [(name = "http", address = ${text(setup.address)}, http = (), service = "switchboard")],
);

const worker :Workerd.Worker = (
  modules = [
    ${modules.join(",\n    ")}
  ],
  compatibilityDate = "2026-11-01",
  bindings = [
    ${bindings.join(",\n    ")}
  ],
  durableObjectNamespaces = [(className = ${text(OBJECT_CLASS)}, uniqueKey = "switchboard", enableSql = true)],
  durableObjectStorage = (localDisk = "storage"),
  globalOutbound = "internet",
);
`;
}
