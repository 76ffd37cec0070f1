/**
 * The contract of a message bus driver: the part of AMQP 0-9-1 that RPC and notifications
 * use, small enough that an in-process broker can implement it faithfully. Transport (in
 * transport.ts) builds call, cast, fanout and notifications on top, once for every driver.
 *
 * There are two exchanges: `direct` routes a message to the queues bound with its exact
 * routing key (RPC topics and notification priorities), `fanout` to every queue bound
 * with the topic (one private queue per server).
 */
export interface BusDriver {
  /**
   * Makes sure a queue and its bindings exist, now and after every reconnect, where they
   * exist again before any message is sent on the new connection. A sender declares the
   * queue it sends to, so the message waits there until a server consumes it; a caller
   * declares its reply queue, so no request goes out before the queue of its reply exists.
   */
  declare(queue: QueueSpec): Promise<void>;
  /** Resolves once the bus holds the message (on AMQP: the broker confirmed it). */
  publish(to: Destination, message: WireMessage): Promise<void>;
  /**
   * Declares the queue and delivers its messages to `onMessage`, also after reconnects,
   * until the returned function cancels it. After a reconnect, sending may resume before
   * this declaration is redone: declare the queue too if messages must not miss it. Each
   * message is acknowledged as it is handed over: at most once, as oslo.messaging does
   * for RPC.
   */
  consume(
    queue: QueueSpec,
    onMessage: (message: WireMessage) => void,
  ): Promise<() => Promise<void>>;
  /** Stops everything and rejects messages not yet accepted by the bus. */
  close(): Promise<void>;
}

export interface QueueSpec {
  name: string;
  /**
   * Durable queues keep their messages across consumer and broker restarts; the others
   * belong to one consumer (a server's fanout queue, a transport's reply queue) and go
   * away with it.
   */
  durable: boolean;
  bindings: readonly Binding[];
}

export interface Binding {
  exchange: 'direct' | 'fanout';
  key: string;
}

/** Through an exchange, or straight to one queue (replies). */
export type Destination = Binding | { queue: string };

export interface WireMessage {
  /** Always JSON, on every driver, so the memory bus behaves like the real one. */
  body: string;
  messageId?: string;
  correlationId?: string;
  replyTo?: string;
  /** Dropped instead of delivered once this old: nobody waits for a stale call. */
  expirationMs?: number;
}
