/**
 * Timestamp formats as OpenStack services print them. All are UTC.
 * - isoSeconds:   2026-11-22T03:54:12Z            (Nova, Glance, Neutron resources)
 * - isoMicros:    2026-11-22T03:54:12.000000Z     (Keystone token expires_at/issued_at)
 * - isoMicrosNaive: 2026-11-22T03:54:12.000000    (Cinder, Nova's updated_at in some views)
 */

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function datePart(d: Date): string {
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

export function isoSeconds(d: Date): string {
  return `${datePart(d)}Z`;
}

export function isoMicros(d: Date): string {
  return `${isoMicrosNaive(d)}Z`;
}

export function isoMicrosNaive(d: Date): string {
  return `${datePart(d)}.${pad(d.getUTCMilliseconds(), 3)}000`;
}

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses the ISO 8601 forms OpenStack clients send (with or without fraction, `Z`,
 * an offset, or nothing, which means UTC). Returns undefined for anything else, so
 * callers can answer 400 with their own message.
 */
export function parseTimestamp(value: string): Date | undefined {
  const m = TIMESTAMP_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  let time = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s ?? 0),
    ms,
  );
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  const date = new Date(time);
  // Date.UTC silently rolls 2026-02-31 over into March; a real calendar date must round-trip.
  if (Number.isNaN(date.getTime())) return undefined;
  if (!zone || zone === 'Z') {
    if (date.getUTCDate() !== Number(d) || date.getUTCMonth() !== Number(mo) - 1) return undefined;
  }
  return date;
}
