import type { Binding, BusDriver, Destination, QueueSpec, WireMessage } from './driver.js';
import { TransportClosed } from './errors.js';

type Consumer = (message: WireMessage) => void;

interface Stored {
  message: WireMessage;
  expiresAt: number;
}

/** A queue of the in-process broker: round-robin over its consumers, like RabbitMQ. */
class MemoryQueue {
  readonly consumers: Consumer[] = [];
  private readonly stored: Stored[] = [];
  private next = 0;
  private scheduled = false;

  constructor(readonly spec: QueueSpec) {}

  push(message: WireMessage): void {
    const ttl = message.expirationMs;
    this.stored.push({ message, expiresAt: ttl === undefined ? Infinity : Date.now() + ttl });
    this.schedule();
  }

  /** Delivery is always asynchronous, as over a socket: a sender never runs a handler. */
  schedule(): void {
    if (this.scheduled || this.consumers.length === 0 || this.stored.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    const now = Date.now();
    for (let item = this.stored.shift(); item; item = this.stored.shift()) {
      if (item.expiresAt < now) continue;
      const consumer = this.consumers[this.next++ % this.consumers.length];
      consumer?.(item.message);
      if (this.consumers.length === 0) return;
    }
  }
}

/** What one exchange name holds: queues and their bindings, shared by its transports. */
class MemoryBroker {
  readonly queues = new Map<string, MemoryQueue>();
  private readonly bindings = new Map<string, Set<MemoryQueue>>();
  users = 0;

  declare(spec: QueueSpec): MemoryQueue {
    let queue = this.queues.get(spec.name);
    if (!queue) {
      queue = new MemoryQueue(spec);
      this.queues.set(spec.name, queue);
    }
    for (const b of spec.bindings) {
      const key = bindingKey(b);
      const bound = this.bindings.get(key) ?? new Set();
      bound.add(queue);
      this.bindings.set(key, bound);
    }
    return queue;
  }

  delete(queue: MemoryQueue): void {
    this.queues.delete(queue.spec.name);
    for (const b of queue.spec.bindings) this.bindings.get(bindingKey(b))?.delete(queue);
  }

  route(to: Destination, message: WireMessage): void {
    if ('queue' in to) this.queues.get(to.queue)?.push(message);
    else for (const queue of this.bindings.get(bindingKey(to)) ?? []) queue.push(message);
  }
}

function bindingKey(b: Binding): string {
  return `${b.exchange}\0${b.key}`;
}

/**
 * Transports that name the same exchange share a broker, so the services of an
 * all-in-one process talk through it while tests stay isolated by exchange name. A
 * broker lives as long as some transport uses it.
 */
const brokers = new Map<string, MemoryBroker>();

export class MemoryDriver implements BusDriver {
  private readonly broker: MemoryBroker;
  private readonly cancels = new Set<() => Promise<void>>();
  private closed = false;

  constructor(private readonly exchange: string) {
    this.broker = brokers.get(exchange) ?? new MemoryBroker();
    brokers.set(exchange, this.broker);
    this.broker.users++;
  }

  async declare(queue: QueueSpec): Promise<void> {
    this.assertOpen();
    this.broker.declare(queue);
  }

  async publish(to: Destination, message: WireMessage): Promise<void> {
    this.assertOpen();
    this.broker.route(to, message);
    // Like a broker's confirmation, the answer comes on a later turn of the event loop,
    // so a sender looping over casts lets the deliveries run.
    await new Promise((resolve) => setImmediate(resolve));
  }

  async consume(spec: QueueSpec, onMessage: Consumer): Promise<() => Promise<void>> {
    this.assertOpen();
    const queue = this.broker.declare(spec);
    const consumer: Consumer = (m) => onMessage(m);
    queue.consumers.push(consumer);
    queue.schedule();
    const cancel = async (): Promise<void> => {
      this.cancels.delete(cancel);
      queue.consumers.splice(queue.consumers.indexOf(consumer), 1);
      if (!spec.durable) this.broker.delete(queue);
    };
    this.cancels.add(cancel);
    return cancel;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.cancels].map((cancel) => cancel()));
    if (--this.broker.users === 0) brokers.delete(this.exchange);
  }

  private assertOpen(): void {
    if (this.closed) throw new TransportClosed();
  }
}
