import { isoMicrosNaive, uuid } from '@stratus/common';
import type {
  Listener,
  Notification,
  NotificationHandler,
  NotificationPriority,
  Transport,
} from './transport.js';

export interface NotifierOptions {
  /** Who sends, as oslo's publisher_id: `<service>.<host>`, e.g. `compute.host1`. */
  publisherId: string;
  /** Where to send; oslo's `notifications` topic by default. */
  topics?: readonly string[];
}

/** Sends `<service>.<resource>.<action>[.start|.end|.error]` events at a priority. */
export interface Notifier {
  info(eventType: string, payload: unknown): Promise<void>;
  warn(eventType: string, payload: unknown): Promise<void>;
  error(eventType: string, payload: unknown): Promise<void>;
}

export function notifier(transport: Transport, options: NotifierOptions): Notifier {
  const topics = options.topics ?? ['notifications'];
  const send = async (priority: NotificationPriority, eventType: string, payload: unknown) => {
    const notification: Notification = {
      message_id: uuid(),
      publisher_id: options.publisherId,
      event_type: eventType,
      priority,
      payload,
      // oslo prints Python's str(datetime): a space between date and time, microseconds.
      timestamp: isoMicrosNaive(new Date()).replace('T', ' '),
    };
    await Promise.all(topics.map((topic) => transport.notify(topic, notification)));
  };
  return {
    info: (eventType, payload) => send('INFO', eventType, payload),
    warn: (eventType, payload) => send('WARN', eventType, payload),
    error: (eventType, payload) => send('ERROR', eventType, payload),
  };
}

export interface NotificationListenerOptions {
  topics: readonly string[];
  /**
   * Listeners in the same pool share the notifications (each goes to one of them);
   * every pool, and the default pool, gets all of them.
   */
  pool?: string;
  handler: NotificationHandler;
}

export function listenNotifications(
  transport: Transport,
  options: NotificationListenerOptions,
): Promise<Listener> {
  return transport.listenNotifications(options.topics, options.pool, options.handler);
}
