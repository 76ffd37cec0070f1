/**
 * An operator's policy.yaml: a mapping of rule names to check strings. JSON files load
 * too, since JSON is YAML. oslo's old list-of-lists rule format is not accepted.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PolicyDefinitionError } from './errors.js';

export type PolicyOverrides = Readonly<Record<string, string>>;

export function parsePolicyFile(text: string, source = 'policy file'): PolicyOverrides {
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new PolicyDefinitionError(`${source} is not valid YAML: ${reason}`, { source });
  }
  // A file of nothing but comments (such as the generated sample) overrides nothing.
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new PolicyDefinitionError(`${source} must be a mapping of rule names to check strings`, {
      source,
    });
  }
  for (const [name, value] of Object.entries(data)) {
    if (typeof value !== 'string') {
      throw new PolicyDefinitionError(
        `${source}: rule "${name}" must be a check string, not ${JSON.stringify(value)}`,
        { source, rule: name },
      );
    }
  }
  // fromEntries defines own properties, so a "__proto__" rule name stays a plain key.
  return Object.fromEntries(Object.entries(data)) as PolicyOverrides;
}

/**
 * Reads and parses a policy file. With `optional`, a missing file means no overrides,
 * which is how oslo treats the default policy.yaml that nobody wrote.
 */
export function readPolicyFile(
  path: string,
  options: { optional?: boolean } = {},
): PolicyOverrides {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (options.optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  return parsePolicyFile(text, path);
}
