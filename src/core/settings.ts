/** Server-wide protocol settings (spec §8.2). The config loader validates and fills these. */
export interface ProtocolSettings {
  /** Announced in connection_established, seconds. */
  activityTimeout: number;
  /** Seconds to wait for any frame after a server ping before closing with 4201. */
  pongTimeout: number;
  requireProtocolParam: boolean;
  /** Seconds an unauthenticated socket may stay when the app requires authorized connections. */
  userAuthenticationTimeout: number;
  cacheTtlSeconds: number;
  /** How long an idempotency key of a REST publish is remembered, cluster-wide and per node. */
  idempotencyWindowSeconds: number;
  maxWebSocketMessageKb: number;
  httpMaxBodyKb: number;
  /** Per-socket outgoing buffer bound; a socket over it is closed with 4100. 0 disables. */
  maxSocketBufferKb: number;
  /** Inbound frames one socket may have waiting behind an async step, KB; past it 4100. */
  maxInboundBacklogKb: number;
  /** Node-wide connection cap (4100); -1 for none. */
  maxNodeConnections: number;
  /** A graceful stop's drain: not ready, still serving, this long before the sockets close. */
  shutdownGracePeriodMs: number;
  /** The window over which a graceful stop closes its sockets with 4200 (0: all at once). */
  shutdownCloseSpreadMs: number;
  pathPrefix: string;
}
