import { isStratusError, serializeError, silentLogger, uuid } from '@stratus/common';
import type { Logger } from '@stratus/common';
import { AmqpDriver } from './amqp-driver.js';
import type { BusDriver, QueueSpec, WireMessage } from './driver.js';
import { MessagingTimeout, TransportClosed } from './errors.js';
import { MemoryDriver } from './memory-driver.js';
import { PendingReplies } from './replies.js';
import type { WireReply } from './replies.js';

export type TransportKind = 'memory' | 'amqp';

/** Options of createTransport, plain values: the config package maps its bus section onto them. */
export interface TransportOptions {
  /** `memory` (in-process, the all-in-one default) or `amqp` (RabbitMQ). */
  transport?: TransportKind;
  /**
   * The broker, `amqp://user:password@host:5672/vhost` (oslo's `rabbit://` works too);
   * the local `amqp://guest:guest@127.0.0.1:5672/` by default.
   */
  url?: string;
  /** Prefix of every exchange and queue (`stratus`): deployments sharing a broker stay apart. */
  exchange?: string;
  logger?: Logger;
  /** AMQP heartbeat interval, 10 s by default: how soon a dead connection is noticed. */
  heartbeatSeconds?: number;
  /** AMQP: pause between reconnection attempts, 2 s by default. */
  reconnectSeconds?: number;
}

/** Where an RPC message goes: any server of the topic, one host's server, or all of them. */
export interface Target {
  topic: string;
  server?: string;
  fanout?: boolean;
}

/** An RPC message as it travels: the version is the one it was sent as. */
export interface RpcRequest {
  method: string;
  version: string;
  args: Record<string, unknown>;
}

/** Handles one request; its result (or thrown error) is the reply of a call. */
export type RpcDispatcher = (request: RpcRequest) => Promise<unknown>;

export const NOTIFICATION_PRIORITIES = ['INFO', 'WARN', 'ERROR'] as const;
export type NotificationPriority = (typeof NOTIFICATION_PRIORITIES)[number];

/** The envelope of a notification, field for field as oslo.messaging sends it. */
export interface Notification<P = unknown> {
  message_id: string;
  publisher_id: string;
  event_type: string;
  priority: NotificationPriority;
  payload: P;
  timestamp: string;
}

export type NotificationHandler = (notification: Notification) => Promise<void> | void;

export interface Listener {
  /** Stops consuming and waits for the handlers still running. */
  stop(): Promise<void>;
}

/**
 * The message bus as RPC and notifications see it. Use rpcClient/rpcServer and
 * notifier/listenNotifications rather than these primitives.
 */
export interface Transport {
  readonly kind: TransportKind;
  readonly exchange: string;
  /**
   * The durable queues this transport declared. They outlive it on purpose (messages
   * wait there for a server to come back); tests and cleanup tools delete them.
   */
  readonly durableQueues: ReadonlySet<string>;
  /** Resolves once the bus holds the message; with `fanout`, every server gets it. */
  cast(target: Target, request: RpcRequest): Promise<void>;
  /** Resolves with the reply of one server, or rejects with its error or MessagingTimeout. */
  call(target: Target, request: RpcRequest, timeoutMs: number): Promise<unknown>;
  /**
   * Serves `topic` (shared with the topic's other servers), `topic.server` and the
   * fanout. Resolves once consuming: over AMQP, that waits for the broker.
   */
  listen(topic: string, server: string, dispatch: RpcDispatcher): Promise<Listener>;
  notify(topic: string, notification: Notification): Promise<void>;
  /** Listeners of one pool share each notification; every pool gets all of them. */
  listenNotifications(
    topics: readonly string[],
    pool: string | undefined,
    handler: NotificationHandler,
  ): Promise<Listener>;
  /** Stops listeners, waits for their handlers, abandons pending calls, disconnects. */
  close(): Promise<void>;
}

const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672/';

export function createTransport(options: TransportOptions = {}): Transport {
  const kind = options.transport ?? 'memory';
  const exchange = options.exchange ?? 'stratus';
  if (!/^[\w.-]+$/.test(exchange)) throw new TypeError(`invalid bus exchange name: ${exchange}`);
  const logger = (options.logger ?? silentLogger).child({ component: 'bus', transport: kind });
  let driver: BusDriver;
  if (kind === 'memory') {
    driver = new MemoryDriver(exchange);
  } else if (kind === 'amqp') {
    driver = new AmqpDriver({
      url: (options.url ?? DEFAULT_AMQP_URL).replace(/^rabbit:/, 'amqp:'),
      exchange,
      logger,
      heartbeatSeconds: options.heartbeatSeconds ?? 10,
      reconnectSeconds: options.reconnectSeconds ?? 2,
    });
  } else {
    throw new TypeError(`unknown bus transport ${String(kind)}: use memory or amqp`);
  }
  return new BusTransport(kind, exchange, driver, logger);
}

/**
 * call, cast, fanout and notifications over any driver, so both transports share one
 * implementation of the semantics. Queue names follow oslo.messaging's, prefixed with
 * the exchange: `<exchange>.<topic>`, `<exchange>.<topic>.<host>`,
 * `<exchange>.<topic>_fanout_<id>`, `<exchange>.reply_<id>`, `<exchange>.notifications.info`.
 */
class BusTransport implements Transport {
  readonly durableQueues = new Set<string>();
  private readonly replies = new PendingReplies();
  private replyQueue: Promise<string> | undefined;
  private readonly listeners = new Set<Listener>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly kind: TransportKind,
    readonly exchange: string,
    private readonly driver: BusDriver,
    private readonly log: Logger,
  ) {}

  async cast(target: Target, request: RpcRequest): Promise<void> {
    await this.send(target, { body: JSON.stringify(request) });
  }

  async call(target: Target, request: RpcRequest, timeoutMs: number): Promise<unknown> {
    if (target.fanout) throw new TypeError('a call goes to one server; only cast can fan out');
    this.assertOpen();
    const messageId = uuid();
    const where = routingKey(target);
    const reply = this.replies.expect(
      messageId,
      timeoutMs,
      () =>
        new MessagingTimeout(
          `Timed out after ${timeoutMs} ms waiting for a reply to ${request.method} on ${where}.`,
          { topic: where, method: request.method, timeoutMs },
        ),
    );
    // The deadline covers everything, waiting for a connection included.
    this.replyQueueName()
      .then((replyTo) => {
        const body = JSON.stringify(request);
        return this.send(target, { body, messageId, replyTo, expirationMs: timeoutMs });
      })
      .catch((err: unknown) => this.replies.fail(messageId, asError(err)));
    return reply;
  }

  async listen(topic: string, server: string, dispatch: RpcDispatcher): Promise<Listener> {
    const fanout: QueueSpec = {
      name: `${this.exchange}.${topic}_fanout_${uuid()}`,
      durable: false,
      bindings: [{ exchange: 'fanout', key: topic }],
    };
    return this.subscribe(
      [this.rpcQueue(topic), this.rpcQueue(`${topic}.${server}`), fanout],
      (message) => this.answer(message, dispatch),
    );
  }

  async notify(topic: string, notification: Notification): Promise<void> {
    this.assertOpen();
    const key = `${topic}.${notification.priority.toLowerCase()}`;
    await this.driver.publish({ exchange: 'direct', key }, { body: JSON.stringify(notification) });
  }

  async listenNotifications(
    topics: readonly string[],
    pool: string | undefined,
    handler: NotificationHandler,
  ): Promise<Listener> {
    // One queue per pool and routing key: a pool's listeners share it, pools each get a copy.
    const queues = topics.flatMap((topic) =>
      NOTIFICATION_PRIORITIES.map((priority): QueueSpec => {
        const key = `${topic}.${priority.toLowerCase()}`;
        const name = `${this.exchange}.${key}${pool === undefined ? '' : `.${pool}`}`;
        return { name, durable: true, bindings: [{ exchange: 'direct', key }] };
      }),
    );
    return this.subscribe(queues, async (message) => {
      await handler(JSON.parse(message.body) as Notification);
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Handlers still running may call and cast, so the bus stays usable until they end.
      await Promise.all([...this.listeners].map((listener) => listener.stop()));
      this.closed = true;
      this.replies.failAll(new TransportClosed('The transport closed before the reply came.'));
      await this.driver.close();
    })();
    return this.closing;
  }

  private async send(target: Target, message: WireMessage): Promise<void> {
    this.assertOpen();
    if (target.fanout) {
      await this.driver.publish({ exchange: 'fanout', key: target.topic }, message);
      return;
    }
    // Declared by the sender too, so a message sent before any server started waits.
    const queue = this.rpcQueue(routingKey(target));
    await this.driver.declare(queue);
    this.durableQueues.add(queue.name);
    await this.driver.publish({ exchange: 'direct', key: routingKey(target) }, message);
  }

  private rpcQueue(key: string): QueueSpec {
    return {
      name: `${this.exchange}.${key}`,
      durable: true,
      bindings: [{ exchange: 'direct', key }],
    };
  }

  /** The transport's one reply queue, declared on its first call. */
  private replyQueueName(): Promise<string> {
    this.replyQueue ??= (async () => {
      this.assertOpen();
      const name = `${this.exchange}.reply_${uuid()}`;
      const queue: QueueSpec = { name, durable: false, bindings: [] };
      // Declared as a sender's queue too, not only by consuming it: after a reconnect the
      // driver declares it again before sending anything, so no request leaves before the
      // queue its reply goes to exists (a reply to a missing queue is silently dropped).
      await this.driver.declare(queue);
      await this.driver.consume(queue, (m) => this.onReply(m));
      return name;
    })().catch((err: unknown) => {
      this.replyQueue = undefined;
      throw err;
    });
    return this.replyQueue;
  }

  private onReply(message: WireMessage): void {
    if (message.correlationId === undefined) return;
    try {
      this.replies.settle(message.correlationId, JSON.parse(message.body) as WireReply);
    } catch (err) {
      this.log.error({ err }, 'dropped an unreadable RPC reply');
    }
  }

  private async answer(message: WireMessage, dispatch: RpcDispatcher): Promise<void> {
    const request = JSON.parse(message.body) as RpcRequest | null;
    const method = request?.method;
    let body: string;
    try {
      body = JSON.stringify({ result: await dispatch(request as RpcRequest) });
    } catch (err) {
      body = JSON.stringify({ failure: serializeError(err) });
      if (!isStratusError(err)) {
        this.log.error({ err, method }, 'RPC handler failed unexpectedly');
      } else if (message.replyTo === undefined) {
        this.log.warn({ err: serializeError(err), method }, 'RPC cast failed');
      }
    }
    if (message.replyTo !== undefined && message.messageId !== undefined) {
      await this.driver.publish(
        { queue: message.replyTo },
        { body, correlationId: message.messageId },
      );
    }
  }

  /** Consumes the queues with one handler; stopping waits for the handlers in flight. */
  private async subscribe(
    queues: readonly QueueSpec[],
    handle: (message: WireMessage) => Promise<void>,
  ): Promise<Listener> {
    this.assertOpen();
    const inflight = new Set<Promise<void>>();
    const onMessage = (message: WireMessage): void => {
      const done: Promise<void> = handle(message)
        .catch((err: unknown) => this.log.error({ err }, 'failed to handle a bus message'))
        .finally(() => inflight.delete(done));
      inflight.add(done);
    };
    const started = await Promise.allSettled(queues.map((q) => this.driver.consume(q, onMessage)));
    const cancels = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(cancels.map((cancel) => cancel()));
      throw failed.reason;
    }
    for (const q of queues) if (q.durable) this.durableQueues.add(q.name);
    let stopped: Promise<void> | undefined;
    const listener: Listener = {
      stop: () =>
        (stopped ??= (async () => {
          this.listeners.delete(listener);
          await Promise.all(cancels.map((cancel) => cancel()));
          while (inflight.size > 0) await Promise.all(inflight);
        })()),
    };
    this.listeners.add(listener);
    return listener;
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosed();
  }
}

function routingKey(target: Target): string {
  return target.server === undefined ? target.topic : `${target.topic}.${target.server}`;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
