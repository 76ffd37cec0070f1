import { envVarName, isSecret, type Section } from './section.js';
import { typeLabel } from './values.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The configuration reference as a Markdown table, for the README (kept in sync by a test). */
export function renderMarkdownReference(sections: readonly Section[]): string {
  const rows = ['| key | type | default | environment | meaning |', '|---|---|---|---|---|'];
  for (const section of sections) {
    for (const [key, prop] of Object.entries(section.schema.properties)) {
      const p = prop as { description: string; default: unknown };
      const shown = isSecret(section, key) ? '(secret)' : `\`${JSON.stringify(p.default)}\``;
      rows.push(
        `| \`${section.name}.${key}\` | ${cell(typeLabel(prop))} | ${shown} | \`${envVarName(section.name, key)}\` | ${cell(p.description)} |`,
      );
    }
  }
  return rows.join('\n') + '\n';
}
