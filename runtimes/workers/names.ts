// Names shared by the Worker, the local launcher's capnp and wrangler.jsonc.

/** The Durable Object namespace binding. */
export const OBJECT_BINDING = "SWITCHBOARD";
/** The Durable Object class exported by the Worker. */
export const OBJECT_CLASS = "SwitchboardObject";
