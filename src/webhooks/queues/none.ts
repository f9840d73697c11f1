import type { WebhookQueue } from "./queue.ts";

// QUEUE_DRIVER=none: webhooks are off for the whole server. The composition root starts none
// (noWebhooks) and nothing listens to the event stream, so nothing reaches push(); it stays a
// valid driver for completeness.

export function create(): WebhookQueue {
  return {
    push: async () => {},
    start: () => {},
    deadLetter: async () => {},
    depth: async () => 0,
    deadLetters: async () => [],
    stop: async () => {},
  };
}
