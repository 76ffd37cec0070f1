/**
 * A sample policy.yaml, laid out as `oslopolicy-sample-generator` lays it out: every
 * rule with its description, the API calls it guards, its intended scopes and its
 * default, commented out so that the file as shipped changes nothing. An operator
 * uncomments the lines they mean to change.
 */
import type { RuleDefault } from './enforcer.js';

export interface SampleOptions {
  /** Write the rules as live YAML instead of comments (oslo's `comment_rule=False`). */
  readonly commented?: boolean;
}

export function renderPolicySample(
  defaults: readonly RuleDefault[],
  options: SampleOptions = {},
): string {
  const commented = options.commented ?? true;
  return defaults.map((rule) => renderRule(rule, commented)).join('');
}

function renderRule(rule: RuleDefault, commented: boolean): string {
  const lines: string[] = [];
  if (rule.deprecated_for_removal) {
    lines.push('# DEPRECATED');
    lines.push(`# "${rule.name}" has been deprecated since ${rule.deprecated_since ?? 'unknown'}.`);
    lines.push(...comment(rule.deprecated_reason));
  }
  if (rule.description) lines.push(...comment(rule.description));
  for (const op of rule.operations ?? []) lines.push(`# ${op.method}  ${op.path}`);
  if (rule.scope_types) lines.push(`# Intended scope(s): ${rule.scope_types.join(', ')}`);
  lines.push(`${commented ? '#' : ''}${yamlEntry(rule.name, rule.check_str)}`, '');

  const old = rule.deprecated_rule;
  if (old && !rule.deprecated_for_removal) {
    const since = old.deprecated_since ?? rule.deprecated_since ?? 'unknown';
    lines.push('# DEPRECATED');
    lines.push(
      ...comment(
        `${yamlEntry(old.name, old.check_str)} has been deprecated since ${since} in favor of ` +
          `${yamlEntry(rule.name, rule.check_str)}.`,
      ),
    );
    lines.push(...comment(old.deprecated_reason ?? rule.deprecated_reason));
    if (old.name !== rule.name) {
      // The old name still works as an override; an alias keeps the two in step.
      lines.push(`# WARNING: "${old.name}" is now called "${rule.name}".`);
      lines.push('# A policy file that overrides the old name should move the override');
      lines.push('# to the new name, or keep the old name as an alias of the new one:');
      lines.push(`# ${yamlEntry(old.name, `rule:${rule.name}`)}`);
    }
    lines.push('');
  }
  return lines.map((line) => `${line}\n`).join('');
}

/**
 * JSON strings are valid YAML double-quoted scalars, so quoting with JSON keeps a name or
 * check string containing quotes or backslashes loadable; plain ones look exactly as oslo
 * writes them.
 */
function yamlEntry(name: string, checkStr: string): string {
  return `${JSON.stringify(name)}: ${JSON.stringify(checkStr)}`;
}

/**
 * A description as comment lines: paragraphs re-wrapped to 70 columns, blank lines kept,
 * indented lines (literal blocks such as examples) left as written.
 */
function comment(text: string | undefined): string[] {
  if (!text) return ['#'];
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = (): void => {
    out.push(...wrap(paragraph.join(' '), 70));
    paragraph = [];
  };
  for (const line of text.trim().split('\n')) {
    if (line.trim() === '') {
      flush();
      out.push('#');
    } else if (/^\s/.test(line)) {
      flush();
      out.push(`# ${line.trimEnd()}`);
    } else {
      paragraph.push(line.trimEnd());
    }
  }
  flush();
  return out;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : `# ${word}`;
  }
  if (line) lines.push(line);
  return lines;
}
