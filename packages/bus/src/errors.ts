import { Timeout, defineError } from '@stratus/common';

/** A call got no reply in time: the server is down, overloaded, or never got the message. */
export const MessagingTimeout = defineError(
  'MessagingTimeout',
  504,
  'Timed out waiting for a reply to an RPC call.',
  { parent: Timeout },
);

/** The server does not implement the method (typically an older server during an upgrade). */
export const UnsupportedRpcMethod = defineError(
  'UnsupportedRpcMethod',
  500,
  'The RPC server does not implement this method.',
);

/** The server does not speak the message's version: another major, or a newer minor. */
export const UnsupportedVersion = defineError(
  'UnsupportedVersion',
  500,
  'The RPC server does not support the version of this message.',
);

/** The client was asked to send something its version cap forbids: the peers are older. */
export const RpcVersionCapError = defineError(
  'RpcVersionCapError',
  500,
  'The RPC message needs a version above the version cap.',
);

/** The transport was closed: no more messages go out, pending calls are abandoned. */
export const TransportClosed = defineError(
  'TransportClosed',
  503,
  'The message bus transport is closed.',
);
