import { existsSync, readFileSync } from 'node:fs';
import { defineError } from '@stratus/common';
import type { TSchema } from 'typebox';
import { parse } from 'yaml';
import { processEnvironment, type Environment } from './env.js';
import type { ConfigOf, ConfigOverrides, Section } from './section.js';
import { coerceString, problemWith } from './values.js';

/** Every problem found while loading, one per line of the message (details.problems). */
export const ConfigError = defineError('ConfigError', 500, 'The configuration is invalid.');

export const DEFAULT_CONFIG_FILE = '/etc/stratus/stratus.yaml';

export interface LoadOptions<Sections extends readonly Section[]> {
  sections: Sections;
  /** From `--config`; must exist. */
  file?: string | undefined;
  /** Defaults to the process environment. */
  env?: Environment;
  overrides?: ConfigOverrides<Sections>;
  /** Read only if it exists; tests point it into a temp dir. */
  defaultFile?: string;
}

export interface ConfigFile {
  path: string;
  /** How it was chosen; explicit choices must exist, the default is used only if it does. */
  source: '--config' | 'STRATUS_CONFIG' | 'default';
}

export function resolveConfigFile(
  options: Pick<LoadOptions<readonly Section[]>, 'file' | 'env' | 'defaultFile'>,
): ConfigFile | undefined {
  const env = options.env ?? processEnvironment();
  if (options.file) return { path: options.file, source: '--config' };
  const fromEnv = env['STRATUS_CONFIG'];
  if (fromEnv) return { path: fromEnv, source: 'STRATUS_CONFIG' };
  const fallback = options.defaultFile ?? DEFAULT_CONFIG_FILE;
  return existsSync(fallback) ? { path: fallback, source: 'default' } : undefined;
}

type Values = Record<string, Record<string, unknown>>;

/**
 * Loads and validates the configuration: schema defaults < YAML file <
 * STRATUS_<SECTION>__<KEY> environment variables < overrides. Throws one ConfigError
 * listing every problem, so an operator fixes them all in one go.
 */
export function loadConfig<const Sections extends readonly Section[]>(
  options: LoadOptions<Sections>,
): ConfigOf<Sections> {
  const env = options.env ?? processEnvironment();
  const sections = new Map<string, Section>();
  for (const s of options.sections) {
    if (sections.has(s.name)) throw new Error(`config section ${s.name} is defined twice`);
    sections.set(s.name, s);
  }
  const problems: string[] = [];
  const result: Values = {};
  for (const s of sections.values()) {
    result[s.name] = {};
    for (const [key, prop] of Object.entries(s.schema.properties)) {
      result[s.name]![key] = structuredClone((prop as { default: unknown }).default);
    }
  }

  const knownSection = (name: string, from: string): Section | undefined => {
    const section = sections.get(name);
    if (!section) {
      problems.push(`config: unknown section ${name}${hint(name, sections.keys())} (from ${from})`);
    }
    return section;
  };
  const set = (name: string, key: string, value: unknown, raw: unknown, from: string): void => {
    const section = knownSection(name, from);
    if (!section) return;
    const schema = propertyOf(section, key);
    if (!schema) {
      const keys = Object.keys(section.schema.properties);
      problems.push(`config: unknown key ${name}.${key}${hint(key, keys)} (from ${from})`);
      return;
    }
    const problem = problemWith(schema, value);
    if (problem) {
      problems.push(`config: ${name}.${key} ${problem}, got ${JSON.stringify(raw)} (from ${from})`);
    } else {
      result[name]![key] = value;
    }
  };

  const file = resolveConfigFile({ ...options, env });
  if (file) {
    for (const [name, values] of readFile(file, problems)) {
      if (!knownSection(name, file.path)) continue;
      for (const [key, value] of Object.entries(values)) {
        // A key left empty, as when a secret's line in the sample is uncommented, keeps its default.
        if (value !== null) set(name, key, value, value, file.path);
      }
    }
  }

  for (const [variable, raw] of Object.entries(env)) {
    const m = /^STRATUS_(.+?)__(.+)$/.exec(variable);
    if (!m || raw === undefined) continue;
    const name = m[1]!.toLowerCase();
    const key = m[2]!.toLowerCase();
    const section = sections.get(name);
    const schema = section && propertyOf(section, key);
    set(name, key, schema ? coerceString(schema, raw) : raw, raw, variable);
  }

  for (const [name, values] of Object.entries(options.overrides ?? {})) {
    for (const [key, value] of Object.entries((values ?? {}) as Record<string, unknown>)) {
      if (value !== undefined) set(name, key, value, value, 'overrides');
    }
  }

  if (problems.length > 0) throw new ConfigError(problems.join('\n'), { problems });
  return deepFreeze(result) as ConfigOf<Sections>;
}

/** The file's sections; an empty (null) section means "all defaults". */
function readFile(file: ConfigFile, problems: string[]): [string, Record<string, unknown>][] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file.path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(
      code === 'ENOENT'
        ? `config: file ${file.path} does not exist (from ${file.source})`
        : `config: cannot read ${file.path}: ${(err as Error).message}`,
    );
    return [];
  }
  if (doc === null || doc === undefined) return [];
  if (!isMapping(doc)) {
    problems.push(`config: ${file.path} must be a mapping of sections`);
    return [];
  }
  const result: [string, Record<string, unknown>][] = [];
  for (const [name, values] of Object.entries(doc)) {
    if (values === null) result.push([name, {}]);
    else if (isMapping(values)) result.push([name, values]);
    else problems.push(`config: section ${name} must be a mapping of keys (from ${file.path})`);
  }
  return result;
}

// Own properties only: a key such as `constructor` must be unknown, not Object's.
function propertyOf(section: Section, key: string): TSchema | undefined {
  const properties = section.schema.properties;
  return Object.hasOwn(properties, key) ? (properties[key] as TSchema) : undefined;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** "; did you mean pool_max?" when a known name is a likely typo of the given one. */
function hint(given: string, known: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(given.length / 3)) + 1;
  for (const name of known) {
    const d = distance(given, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best === undefined ? '' : `; did you mean ${best}?`;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length]!;
}
