import type { Context } from "hono";
import type { Switchboard } from "../core/server.ts";
import type { ApiRequest } from "./authenticate.ts";
import { HttpError } from "./errors.ts";

/** POST /users/{id}/terminate_connections (spec §6.8): every node closes that user's sockets. */
export async function terminateUser(server: Switchboard, req: ApiRequest, c: Context): Promise<unknown> {
  const userId = c.req.param("userId") ?? "";
  if (userId === "") throw new HttpError(400, "user id is required");
  await server.adapter.deliver({ type: "terminate", appId: req.app.id, userId });
  return {};
}
