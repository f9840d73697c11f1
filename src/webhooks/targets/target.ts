/** What one attempt came to: ok, or why not (for the debug log and the retry decision). */
export type AttemptResult = { ok: true; status: number } | { ok: false; status?: number; error: string };
