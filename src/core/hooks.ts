/**
 * Channel lifecycle events the core reports, for webhooks and metrics. Every method is optional;
 * implementations must not block (queue and return).
 */
export interface ServerHooks {
  channelOccupied?(appId: string, channel: string): void;
  channelVacated?(appId: string, channel: string): void;
  memberAdded?(appId: string, channel: string, userId: string): void;
  memberRemoved?(appId: string, channel: string, userId: string): void;
  clientEvent?(appId: string, e: { channel: string; event: string; data: string; socketId: string; userId?: string }): void;
  cacheMiss?(appId: string, channel: string): void;
  subscriptionCount?(appId: string, channel: string, count: number): void;
  connectionOpened?(appId: string): void;
  connectionClosed?(appId: string): void;
  messageSent?(appId: string, bytes: number, sockets: number): void;
  messageReceived?(appId: string, bytes: number): void;
}
