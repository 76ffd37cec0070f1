import { stringify, type ToStringOptions } from 'yaml';
import { envVarName, isSecret, type Section } from './section.js';
import { typeLabel } from './values.js';

const HEADER = `# Stratus configuration (/etc/stratus/stratus.yaml, or --config, or STRATUS_CONFIG).
#
# Every key is optional: each is shown commented out with its default. Uncomment a key
# and change its value to override it; a key or section left empty keeps its defaults.
# Precedence: defaults < this file < environment variables STRATUS_<SECTION>__<KEY>
# < command-line flags.
`;

/**
 * A sample configuration file documenting every key. It parses to exactly the defaults,
 * and stays valid when any single key line is uncommented.
 */
export function renderSample(sections: readonly Section[]): string {
  const lines = [HEADER];
  for (const section of sections) {
    const description = (section.schema as { description?: string }).description;
    if (description) lines.push(...comment(description, ''));
    lines.push(`${section.name}:`);
    for (const [key, prop] of Object.entries(section.schema.properties)) {
      const p = prop as { description: string; default: unknown };
      lines.push(...comment(p.description, '  '));
      lines.push(`  # type: ${typeLabel(prop)}; env: ${envVarName(section.name, key)}`);
      // A secret's line stays empty, which loads as "keep the default".
      const value = isSecret(section, key) ? `${key}:` : keyValue(key, p.default);
      lines.push(`  # ${value}`, '');
    }
  }
  return lines.join('\n');
}

const WIDTH = 88;

function comment(text: string, indent: string): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = `${indent}#`;
    for (const word of paragraph.split(' ').filter(Boolean)) {
      if (line.length + 1 + word.length > WIDTH && line !== `${indent}#`) {
        lines.push(line);
        line = `${indent}#`;
      }
      line += ` ${word}`;
    }
    lines.push(line);
  }
  return lines;
}

function keyValue(key: string, value: unknown): string {
  // One line per key, so that uncommenting it is one edit: flow collections, no folding,
  // and JSON-style double quotes, which escape newlines instead of breaking the line.
  const options: ToStringOptions = {
    collectionStyle: 'flow',
    lineWidth: 0,
    defaultStringType: 'QUOTE_DOUBLE',
    doubleQuotedAsJSON: true,
  };
  return `${key}: ${stringify(value, options).trimEnd()}`;
}

/** A copy of the configuration safe to log: secret values become "***". */
export function redactConfig<T extends object>(config: T, sections: readonly Section[]): T {
  const copy = structuredClone(config) as Record<string, Record<string, unknown>>;
  for (const section of sections) {
    const values = copy[section.name];
    if (!values) continue;
    for (const key of Object.keys(values)) {
      // An empty secret stays visible: "not set" is worth seeing in a log, and leaks nothing.
      if (isSecret(section, key) && values[key] !== '') values[key] = '***';
    }
  }
  return copy as T;
}
