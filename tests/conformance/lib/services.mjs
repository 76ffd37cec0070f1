// The Tempest API areas the harness knows, and the [service_available] flag of each.

/** service → the `[service_available]` option Tempest uses for it (identity has none). */
export const SERVICES = {
  identity: { flag: null, catalogType: 'identity' },
  compute: { flag: 'nova', catalogType: 'compute' },
  image: { flag: 'glance', catalogType: 'image' },
  network: { flag: 'neutron', catalogType: 'network' },
  volume: { flag: 'cinder', catalogType: 'volumev3' },
  object_storage: { flag: 'swift', catalogType: 'object-store' },
};

/** `[service_available]` flags for services Tempest knows that have no API area here. */
export const OTHER_AVAILABILITY_FLAGS = { dashboard: 'horizon' };

export const SERVICE_NAMES = Object.keys(SERVICES);

/** Checks service names given on the command line; returns them deduplicated, in order. */
export function validateServices(names) {
  const unknown = names.filter((n) => !(n in SERVICES));
  if (unknown.length)
    throw new Error(
      `unknown service ${unknown.map((n) => `'${n}'`).join(', ')}; choose from ${SERVICE_NAMES.join(', ')}`,
    );
  return [...new Set(names)];
}

/**
 * The regex handed to `tempest run --regex`: the API areas of the chosen services, narrowed
 * by an optional extra regex (which must also match somewhere in the test id).
 */
export function selectionRegex(services, extra) {
  const areas = services.length ? `tempest\\.api\\.(?:${services.join('|')})\\.` : '';
  if (!extra) return `^${areas}`;
  if (!areas) return extra;
  // A lookahead from the start: `extra` may itself be anchored with ^.
  return `^(?=.*?(?:${extra}))${areas}`;
}

/** The service a test id belongs to (`tempest.api.<service>.…`), or 'other'. */
export function serviceOf(testId) {
  const m = /tempest\.api\.(\w+)\./.exec(testId);
  return m && m[1] in SERVICES ? m[1] : 'other';
}
