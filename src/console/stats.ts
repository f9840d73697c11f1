// Counters an operator graphs for the debug console (the metrics exporter reads this object, as it
// reads WebhookStats): monotonic totals plus the number of open console streams.

export class ConsoleStats {
  /** Successful sign-ins (app and operator). */
  signIns = 0;
  /** Sign-ins refused for a wrong id, secret or token. */
  signInFailures = 0;
  /** Sign-in attempts refused without checking because the address or account was locked. */
  signInsThrottled = 0;
  /** Console event streams open now (browsers watching on this node). */
  viewers = 0;
  /** Event rows sent to browsers. */
  eventsSent = 0;
  /** Event rows dropped because a browser read too slowly. */
  eventsDropped = 0;
  /** Server events this node forwarded to consoles on other nodes. */
  eventsForwarded = 0;
  /** Server events this node did not forward: over CONSOLE_CLUSTER_EVENTS_PER_SECOND. */
  forwardsDropped = 0;
  /** Events triggered from the console's form. */
  eventsTriggered = 0;
}
