import type { Static, TObject } from 'typebox';
import Value from 'typebox/value';

/**
 * One section of the configuration file (`database:`, `log:` …): a TypeBox object whose
 * properties each carry a `default` and a `description`, and optionally `secret: true`.
 */
export interface Section<Name extends string = string, Schema extends TObject = TObject> {
  readonly name: Name;
  readonly schema: Schema;
}

// Single underscores only: `__` separates section from key in STRATUS_<SECTION>__<KEY>.
const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/**
 * Defines a section. Mistakes here are programming errors, so they throw at import time
 * rather than surfacing as a confusing config problem later.
 */
export function defineSection<const Name extends string, Schema extends TObject>(
  name: Name,
  schema: Schema,
): Section<Name, Schema> {
  if (!SNAKE_CASE.test(name)) throw new Error(`config section "${name}" must be snake_case`);
  for (const [key, prop] of Object.entries(schema.properties)) {
    const where = `config key ${name}.${key}`;
    const p = prop as Record<string, unknown>;
    if (!SNAKE_CASE.test(key)) throw new Error(`${where} must be snake_case`);
    if (typeof p['description'] !== 'string' || p['description'] === '') {
      throw new Error(`${where} needs a description`);
    }
    if (p['default'] === undefined) throw new Error(`${where} needs a default`);
    if (!Value.Check(prop, p['default'])) throw new Error(`${where} has an invalid default`);
  }
  return Object.freeze({ name, schema });
}

export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The loaded configuration for a list of sections: `{ [section name]: its values }`. */
export type ConfigOf<Sections extends readonly Section[]> = {
  readonly [S in Sections[number] as S['name']]: DeepReadonly<Static<S['schema']>>;
};

/** What the CLI passes from its flags: any subset of keys; undefined means "not given". */
export type ConfigOverrides<Sections extends readonly Section[]> = {
  [S in Sections[number] as S['name']]?: Partial<Static<S['schema']>>;
};

export function envVarName(section: string, key: string): string {
  return `STRATUS_${section.toUpperCase()}__${key.toUpperCase()}`;
}

export function isSecret(section: Section, key: string): boolean {
  return (
    (section.schema.properties[key] as Record<string, unknown> | undefined)?.['secret'] === true
  );
}
