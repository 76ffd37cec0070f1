/**
 * Evaluates a parsed rule against a target (what is acted on) and credentials (who acts),
 * with oslo.policy's semantics: values are compared as Python would print them, a
 * missing key makes a check false rather than an error, and roles match regardless of case.
 */
import type { Check, Template } from './parser.js';

export type Attributes = Readonly<Record<string, unknown>>;

/** Finds a named rule for `rule:` checks; undefined means it does not exist (fail closed). */
export type RuleLookup = (name: string) => Check | undefined;

export function evaluate(
  check: Check,
  target: Attributes,
  creds: Attributes,
  rules: RuleLookup,
): boolean {
  switch (check.type) {
    case 'always':
      return true;
    case 'never':
      return false;
    case 'not':
      return !evaluate(check.check, target, creds, rules);
    case 'and':
      return check.checks.every((c) => evaluate(c, target, creds, rules));
    case 'or':
      return check.checks.some((c) => evaluate(c, target, creds, rules));
    case 'rule': {
      const rule = rules(check.name);
      return rule !== undefined && evaluate(rule, target, creds, rules);
    }
    case 'role': {
      const role = substitute(check.template, target);
      const held = creds['roles'];
      if (role === undefined || !Array.isArray(held)) return false;
      const wanted = role.toLowerCase();
      return held.some((r) => typeof r === 'string' && r.toLowerCase() === wanted);
    }
    case 'generic': {
      const match = substitute(check.template, target);
      if (match === undefined) return false;
      if ('literal' in check.left) return check.left.literal === match;
      return matchesPath(creds, check.left.path, match);
    }
  }
}

/**
 * Python's `str()` of a scalar, because oslo compares `match == str(value)`: that is why
 * `is_admin_project:True` matches a boolean and `None:%(x)s` matches a null. Containers
 * have no sensible string form here and never match.
 */
export function pythonStr(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
    case 'bigint':
      return String(value);
    default:
      return value === null ? 'None' : undefined;
  }
}

/**
 * Fills `%(key)s` from the target; undefined when a key is missing. The key is first
 * taken literally (oslo targets are often flat: `{'target.project.id': …}`), then as a
 * dotted path into nested objects (`{ target: { project: { id } } }`).
 */
function substitute(template: Template, target: Attributes): string | undefined {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = Object.hasOwn(target, part.key)
      ? target[part.key]
      : walk(target, part.key.split('.'));
    const text = pythonStr(value);
    if (text === undefined) return undefined;
    out += text;
  }
  return out;
}

function walk(value: unknown, path: readonly string[]): unknown {
  for (const key of path) {
    if (!isRecord(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/**
 * oslo's `GenericCheck._find_in_dict`: follows a dotted path into the credentials, and
 * where it meets a list, succeeds if any element matches the rest of the path.
 */
function matchesPath(value: unknown, path: readonly string[], match: string): boolean {
  const [key, ...rest] = path;
  if (key === undefined) return pythonStr(value) === match;
  // Own properties only, so `constructor:…` cannot reach into the prototype chain.
  if (!isRecord(value) || !Object.hasOwn(value, key)) return false;
  const next = value[key];
  if (next === undefined) return false;
  if (Array.isArray(next)) return next.some((item) => matchesPath(item, rest, match));
  return matchesPath(next, rest, match);
}

function isRecord(value: unknown): value is Attributes {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
