export * from './errors.js';
export * from './notifier.js';
export * from './rpc.js';
export { amqpExchanges } from './amqp-driver.js';
export { NOTIFICATION_PRIORITIES, createTransport } from './transport.js';
export type {
  Listener,
  Notification,
  NotificationHandler,
  NotificationPriority,
  RpcDispatcher,
  RpcRequest,
  Target,
  Transport,
  TransportKind,
  TransportOptions,
} from './transport.js';
export { compareVersions, isCompatible, parseVersion } from './version.js';
export type { Version } from './version.js';
