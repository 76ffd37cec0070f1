import type { TSchema } from 'typebox';
import Value from 'typebox/value';

// Schemas are read as plain JSON Schema so that Type.Enum, literal unions and hand-written
// schemas are all understood the same way.
type Json = Record<string, unknown>;

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/**
 * Turns an environment string into the value the schema wants. What cannot be converted
 * comes back as the string itself, so that validation reports it like any other bad value.
 */
export function coerceString(schema: TSchema, raw: string): unknown {
  const s = schema as Json;
  const text = raw.trim();
  if ('const' in s) return String(s['const']) === text ? s['const'] : raw;
  if (Array.isArray(s['enum'])) return s['enum'].find((v) => String(v) === text) ?? raw;
  if (Array.isArray(s['anyOf'])) {
    for (const member of s['anyOf'] as TSchema[]) {
      const v = coerceString(member, raw);
      if (Value.Check(member, v)) return v;
    }
    return raw;
  }
  switch (s['type']) {
    case 'integer':
      return /^[-+]?\d+$/.test(text) ? Number(text) : raw;
    case 'number':
      return text !== '' && Number.isFinite(Number(text)) ? Number(text) : raw;
    case 'boolean': {
      const lower = text.toLowerCase();
      return TRUE.includes(lower) ? true : FALSE.includes(lower) ? false : raw;
    }
    case 'string':
      return raw;
    case 'array': {
      if (text.startsWith('[')) return parseJson(raw);
      const items = (s['items'] ?? {}) as TSchema;
      const parts = text === '' ? [] : text.split(',');
      return parts.map((part) => coerceString(items, part.trim()));
    }
    default:
      return parseJson(raw);
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

const TYPE_KEYWORDS = new Set(['type', 'enum', 'const', 'anyOf', 'oneOf']);

/** Why a value does not fit its schema ("must be an integer"), or undefined if it does. */
export function problemWith(schema: TSchema, value: unknown): string | undefined {
  if (Value.Check(schema, value)) return undefined;
  const errors = Value.Errors(schema, value);
  // A wrong type reads best as what was expected; a broken constraint as TypeBox says it.
  const typeError = errors.some((e) => TYPE_KEYWORDS.has(e.keyword));
  return typeError ? `must be ${expectation(schema)}` : (errors[0]?.message ?? 'is invalid');
}

function choices(s: Json): unknown[] | undefined {
  if (Array.isArray(s['enum'])) return s['enum'];
  if (!Array.isArray(s['anyOf'])) return undefined;
  const members = s['anyOf'] as Json[];
  return members.every((m) => 'const' in m) ? members.map((m) => m['const']) : undefined;
}

function expectation(schema: TSchema): string {
  const s = schema as Json;
  const values = choices(s);
  if (values) return `one of ${values.map(String).join(', ')}`;
  if ('const' in s) return String(s['const']);
  if (Array.isArray(s['anyOf'])) return (s['anyOf'] as TSchema[]).map(expectation).join(' or ');
  if (s['type'] === 'array') return `a list of ${typeLabel((s['items'] ?? {}) as TSchema)}`;
  if (s['type'] === 'integer') return 'an integer';
  if (typeof s['type'] === 'string') return `a ${s['type']}`;
  return 'a valid value';
}

/** A short type description for the sample file: `integer >= 0`, `json | pretty`. */
export function typeLabel(schema: TSchema): string {
  const s = schema as Json;
  const values = choices(s);
  if (values) return values.map(String).join(' | ');
  if ('const' in s) return String(s['const']);
  if (Array.isArray(s['anyOf'])) return (s['anyOf'] as TSchema[]).map(typeLabel).join(' | ');
  if (s['type'] === 'array') return `list of ${typeLabel((s['items'] ?? {}) as TSchema)}`;
  if (typeof s['type'] !== 'string') return 'any';
  const bounds = [
    typeof s['minimum'] === 'number' ? `>= ${s['minimum']}` : '',
    typeof s['maximum'] === 'number' ? `<= ${s['maximum']}` : '',
  ].filter(Boolean);
  return [s['type'], ...bounds].join(' ');
}
