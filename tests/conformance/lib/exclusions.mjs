// Exclusion lists: tests/conformance/exclude/<service>.txt.
//
//   # a comment line
//   tempest\.api\.identity\.admin\.v3\.test_trusts   # trusts are not implemented yet
//   tempest.api.identity.v3.test_users.IdentityV3UsersTest.test_user_account_lockout[id-a7ad8bbf-2cff-4520-8c1d-96332e151658]  # needs security compliance
//
// Each entry is a regex (matched anywhere in the test id, as stestr does) or a full test
// id with its [id-…] suffix (matched literally), followed by `# reason`. The reason is
// mandatory. stestr splits a line at its first '#', so a pattern cannot contain one.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A full Tempest test id, e.g. `tempest.api.x.Class.test_y[id-…,smoke]`. */
const TEST_ID = /^[A-Za-z_][\w.]*\[[^\]]*\]$/;

function escapeRegex(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Parses one exclusion file. Throws one error listing every bad line (no reason, a
 * pattern that is not a valid regex).
 */
export function parseExclusions(text, file = '<exclusions>') {
  const entries = [];
  const errors = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const hash = line.indexOf('#');
    const pattern = (hash === -1 ? line : line.slice(0, hash)).trim();
    const reason = hash === -1 ? '' : line.slice(hash + 1).trim();
    const where = `${file}:${i + 1}`;
    if (!reason) {
      errors.push(`${where}: '${pattern}' has no reason; write it as '${pattern}  # why'`);
      return;
    }
    const literal = TEST_ID.test(pattern);
    const regex = literal ? `^${escapeRegex(pattern)}$` : pattern;
    let compiled;
    try {
      compiled = new RegExp(regex);
    } catch (err) {
      errors.push(`${where}: '${pattern}' is not a valid regex (${err.message})`);
      return;
    }
    entries.push({ pattern, regex, reason, literal, where, compiled });
  });
  if (errors.length) throw new Error(`bad exclusion entries:\n  ${errors.join('\n  ')}`);
  return entries;
}

/**
 * Reads exclude/<service>.txt for each service; a missing file is an empty list. Entries
 * name their file relative to `relativeTo` (the repository).
 */
export function loadExclusions(dir, services, relativeTo = dir) {
  const entries = [];
  for (const service of services) {
    const file = join(dir, `${service}.txt`);
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (err.code === 'ENOENT') continue;
      throw err;
    }
    entries.push(
      ...parseExclusions(text, relative(relativeTo, file)).map((e) => ({ ...e, service })),
    );
  }
  return entries;
}

/** The file handed to `tempest run --exclude-list`: stestr's own `regex # comment` format. */
export function renderExcludeList(entries) {
  return entries.map((e) => `${e.regex}  # ${e.reason} (${e.where})\n`).join('');
}

/** The first entry that excludes testId, as stestr decides it (re.search). */
export function exclusionFor(entries, testId) {
  return entries.find((e) => e.compiled.test(testId));
}
