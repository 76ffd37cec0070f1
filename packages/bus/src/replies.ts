import { deserializeError } from '@stratus/common';
import type { SerializedError } from '@stratus/common';

/** What a server sends back for a call. */
export type WireReply = { result?: unknown } | { failure: SerializedError };

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Calls waiting for their reply, by message id, each with its own deadline. */
export class PendingReplies {
  private readonly waiting = new Map<string, Waiter>();

  expect(id: string, timeoutMs: number, onTimeout: () => Error): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(id, onTimeout()), timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
  }

  /** A reply for a call nobody waits for any more (it timed out) is dropped. */
  settle(id: string, reply: WireReply): void {
    const waiter = this.take(id);
    if (!waiter) return;
    if ('failure' in reply) waiter.reject(deserializeError(reply.failure));
    else waiter.resolve(reply.result);
  }

  fail(id: string, err: Error): void {
    this.take(id)?.reject(err);
  }

  failAll(err: Error): void {
    for (const id of [...this.waiting.keys()]) this.fail(id, err);
  }

  private take(id: string): Waiter | undefined {
    const waiter = this.waiting.get(id);
    if (!waiter) return undefined;
    clearTimeout(waiter.timer);
    this.waiting.delete(id);
    return waiter;
  }
}
