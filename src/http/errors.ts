/** An HTTP API failure with its status; the router turns it into `{"error": message}`. */
export class HttpError extends Error {
  constructor(readonly status: 400 | 401 | 403 | 404 | 413 | 429 | 500 | 503, message: string, readonly headers?: Record<string, string>) {
    super(message);
  }
}

export function jsonError(status: number, message: string, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
