/** An HTTP API failure with its status; the router turns it into `{"error": message}`. */
export class HttpError extends Error {
  constructor(readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503, message: string, readonly headers?: Record<string, string>) {
    super(message);
  }
}

export function jsonError(status: number, message: string, headers?: Record<string, string>): Response {
  return jsonBody({ error: message }, status, headers);
}

const utf8 = new TextEncoder();

/** A JSON response with its Content-Length (the request metrics read it instead of the body). */
export function jsonBody(value: unknown, status: number, headers?: Record<string, string>): Response {
  const body = utf8.encode(JSON.stringify(value));
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", "content-length": String(body.byteLength), ...headers },
  });
}
