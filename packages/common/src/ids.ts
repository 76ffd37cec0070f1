import { randomBytes, randomUUID } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A random (version 4) UUID in its canonical dashed form, as Nova, Glance, Neutron use. */
export function uuid(): string {
  return randomUUID();
}

/** A 32-hex-digit id without dashes, as Keystone uses for users, projects and the rest. */
export function hexId(): string {
  return randomBytes(16).toString('hex');
}

/** An OpenStack request id: `req-` followed by a UUID. */
export function requestId(): string {
  return `req-${randomUUID()}`;
}

/** True for a UUID with or without dashes, in any case. */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** The canonical dashed lower-case form of a UUID given with or without dashes. */
export function canonicalUuid(value: string): string {
  if (!isUuid(value)) throw new TypeError(`not a UUID: ${value}`);
  const hex = value.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
