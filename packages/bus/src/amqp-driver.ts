import { createRequire } from 'node:module';
import type * as AmqpConnectionManagerModule from 'amqp-connection-manager';
import type { AmqpConnectionManager, Channel, ChannelWrapper } from 'amqp-connection-manager';
import type { ConsumeMessage, Options } from 'amqplib';
import type { Logger } from '@stratus/common';
import type { BusDriver, Destination, QueueSpec, WireMessage } from './driver.js';
import { TransportClosed } from './errors.js';

// Loaded when the first AMQP transport is made, not on import: the all-in-one runs on
// the memory bus and should not pay for the AMQP client's load time and memory.
let amqpModule: typeof AmqpConnectionManagerModule | undefined;
function amqp(): typeof AmqpConnectionManagerModule {
  amqpModule ??= createRequire(import.meta.url)(
    'amqp-connection-manager',
  ) as typeof AmqpConnectionManagerModule;
  return amqpModule;
}

export interface AmqpDriverOptions {
  url: string;
  exchange: string;
  logger: Logger;
  heartbeatSeconds: number;
  reconnectSeconds: number;
}

/** The exchanges a deployment uses: RPC topics and notifications, and RPC fanout. */
export function amqpExchanges(exchange: string): { direct: string; fanout: string } {
  return { direct: exchange, fanout: `${exchange}_fanout` };
}

/** Unacknowledged deliveries per consumer; messages are acknowledged on receipt. */
const PREFETCH = 64;
/** A publish lost with its connection is retried on the next one, a few times. */
const PUBLISH_ATTEMPTS = 5;

/**
 * RabbitMQ through amqp-connection-manager, which reconnects, re-runs every declaration
 * and consumer on the new connection, and holds publishes while disconnected. Publishes
 * go through a confirm channel, persistent, so a resolved publish is on the broker.
 */
export class AmqpDriver implements BusDriver {
  private readonly manager: AmqpConnectionManager;
  private readonly publisher: ChannelWrapper;
  private readonly consumer: ChannelWrapper;
  private readonly declared = new Set<string>();
  private readonly exchanges: { direct: string; fanout: string };
  private readonly log: Logger;
  private closing = false;
  private markClosed = (): void => undefined;
  private readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(options: AmqpDriverOptions) {
    this.log = options.logger;
    this.exchanges = amqpExchanges(options.exchange);
    const where = redact(options.url);
    this.manager = amqp().connect([options.url], {
      heartbeatIntervalInSeconds: options.heartbeatSeconds,
      reconnectTimeInSeconds: options.reconnectSeconds,
      connectionOptions: {
        // RPC messages are small: without this, Nagle's algorithm delays each by ~40 ms.
        noDelay: true,
        clientProperties: { connection_name: `stratus:${options.exchange}` },
      },
    });
    this.manager.on('connect', () => this.log.info({ url: where }, 'connected to the message bus'));
    this.manager.on('disconnect', ({ err }) =>
      this.log.warn({ url: where, err: err?.message }, 'disconnected from the message bus'),
    );
    this.manager.on('connectFailed', ({ err }) =>
      this.log.warn({ url: where, err: err?.message }, 'cannot reach the message bus; retrying'),
    );
    this.publisher = this.channel('publish', true);
    this.consumer = this.channel('consume', false);
  }

  async declare(queue: QueueSpec): Promise<void> {
    if (this.closing) throw new TransportClosed();
    if (this.declared.has(queue.name)) return;
    this.declared.add(queue.name);
    // As a setup, the declaration runs before any publish on every new connection:
    // a message sent while disconnected still finds its queue. (consume's declarations
    // run on the consumer channel, which sets itself up concurrently: no such ordering.)
    await this.publisher.addSetup(this.declarer(queue));
  }

  async publish(to: Destination, message: WireMessage): Promise<void> {
    const options: Options.Publish = {
      persistent: true,
      contentType: 'application/json',
      messageId: message.messageId,
      correlationId: message.correlationId,
      replyTo: message.replyTo,
      expiration: message.expirationMs === undefined ? undefined : String(message.expirationMs),
    };
    for (let attempt = 1; ; attempt++) {
      if (this.closing) throw new TransportClosed();
      try {
        if ('queue' in to) await this.publisher.sendToQueue(to.queue, message.body, options);
        else
          await this.publisher.publish(this.exchanges[to.exchange], to.key, message.body, options);
        return;
      } catch (err) {
        if (this.closing) throw new TransportClosed();
        // amqplib fails a publish still unconfirmed when its connection drops; the next
        // connection sends it again. The broker may have kept the first copy: at least once.
        const nacked = err instanceof Error && err.message === 'message nacked';
        if (nacked || attempt >= PUBLISH_ATTEMPTS) throw err;
        this.log.warn({ err: String(err), attempt }, 'publish lost with its connection; resending');
      }
    }
  }

  async consume(
    queue: QueueSpec,
    onMessage: (message: WireMessage) => void,
  ): Promise<() => Promise<void>> {
    // A listener is ready once it consumes, so wait for the broker (or for close).
    await Promise.race([this.consumer.waitForConnect(), this.closed]);
    if (this.closing) throw new TransportClosed();
    const setup = this.declarer(queue);
    await this.consumer.addSetup(setup);
    const { consumerTag } = await this.consumer.consume(queue.name, (msg) => {
      // Acknowledged on receipt, on the channel that delivered it (a later ack would go
      // to whatever channel exists after a reconnect, which knows nothing of the tag).
      this.consumer.ack(msg);
      onMessage(toWire(msg));
    });
    return async () => {
      await this.consumer.cancel(consumerTag);
      await this.consumer.removeSetup(setup);
    };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.markClosed();
    // Closing the channels rejects publishes still waiting for a connection.
    await Promise.all([this.publisher.close(), this.consumer.close()]);
    const closed = this.manager.close().catch((err: unknown) => {
      this.log.warn({ err: String(err) }, 'error closing the message bus connection');
    });
    // When disconnected, amqp-connection-manager 5's close() waits for the retry timer it
    // has just cancelled, forever; a connect attempt in flight still closes what it opens.
    if (this.manager.isConnected()) await closed;
  }

  private channel(name: string, confirm: boolean): ChannelWrapper {
    const wrapper = this.manager.createChannel({
      name,
      confirm,
      setup: (channel: Channel) => this.setupChannel(channel),
    });
    wrapper.on('error', (err: unknown) =>
      this.log.error({ err: String(err), channel: name }, 'message bus channel setup failed'),
    );
    return wrapper;
  }

  private async setupChannel(channel: Channel): Promise<void> {
    // amqp-connection-manager replaces a channel only when the connection drops, so a
    // channel the broker closed on an error would stay dead: reconnect instead, which
    // redoes every declaration and consumer.
    channel.once('error', (err: unknown) => {
      this.log.error({ err: String(err) }, 'message bus channel failed; reconnecting');
      if (!this.closing) this.manager.reconnect();
    });
    await channel.assertExchange(this.exchanges.direct, 'direct', { durable: true });
    await channel.assertExchange(this.exchanges.fanout, 'direct', { durable: true });
    await channel.prefetch(PREFETCH);
  }

  private declarer(queue: QueueSpec): (channel: Channel) => Promise<void> {
    return async (channel) => {
      await channel.assertQueue(
        queue.name,
        // Exclusive queues die with their connection and are declared again on the next;
        // they belong to the connection, so both of its channels may declare them.
        queue.durable ? { durable: true } : { durable: false, exclusive: true, autoDelete: true },
      );
      for (const b of queue.bindings) {
        await channel.bindQueue(queue.name, this.exchanges[b.exchange], b.key);
      }
    };
  }
}

function toWire(msg: ConsumeMessage): WireMessage {
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    body: msg.content.toString('utf8'),
    messageId: text(msg.properties.messageId),
    correlationId: text(msg.properties.correlationId),
    replyTo: text(msg.properties.replyTo),
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
