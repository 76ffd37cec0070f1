// Keystone-compatible Fernet tokens: the Fernet format, the key repository, and the
// payload formats on top of them.
export {
  Fernet,
  InvalidToken,
  MultiFernet,
  decodeBase64Url,
  encodeBase64Url,
  type DecryptOptions,
  type EncryptOptions,
  type FernetMessage,
} from './fernet.js';
export { DEFAULT_MAX_ACTIVE_KEYS, FernetKeyRepository, KeysNotFound } from './keys.js';
export {
  DEFAULT_AUTH_METHODS,
  DEFAULT_PAYLOAD_CONTEXT,
  PayloadVersion,
  bitmaskToMethods,
  decodePayload,
  encodePayload,
  methodsToBitmask,
  payloadVersionFor,
  type DecodedPayload,
  type PayloadContext,
  type TokenFields,
} from './payload.js';
export {
  TokenFormatter,
  creationTime,
  restorePadding,
  stripPadding,
  type TokenFormatterOptions,
  type TokenPayload,
} from './formatter.js';
