// From subunit packets (plus the test lists and the exclusions) to one result per test
// and the summary.
//
// Tempest runs a test class's setUpClass once; when it fails or skips (no token, a
// service that is not available), unittest reports one pseudo-test
// `setUpClass (module.Class)` and nothing at all for the class's tests. Every listed
// test still gets a result here: the class-level one it inherited, or, when tempest
// reported nothing for it (timeout, a crashed worker), a failure saying so.
import { exclusionFor } from './exclusions.mjs';
import { serviceOf } from './services.mjs';

const FINAL = { success: 'pass', xfail: 'pass', skip: 'skip', fail: 'fail', uxsuccess: 'fail' };
const CLASS_LEVEL = /^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((.+)\)$/;

/** Folds packets into { id → { status, files: { name → text }, start, stop } }. */
export function collectTests(packets) {
  const tests = new Map();
  for (const p of packets) {
    if (p.testId === undefined) continue; // non-test output (stdout of the runner)
    let t = tests.get(p.testId);
    if (!t) {
      t = { status: undefined, files: {}, start: undefined, stop: undefined };
      tests.set(p.testId, t);
    }
    if (p.fileName !== undefined && p.fileBytes)
      t.files[p.fileName] = (t.files[p.fileName] ?? '') + p.fileBytes.toString('utf8');
    if (p.status === 'inprogress') t.start ??= p.timestamp;
    else if (p.status && p.status !== 'exists') {
      t.status = p.status;
      t.stop = p.timestamp;
    }
  }
  return tests;
}

/** The line that says what went wrong: the exception at the end of a traceback. */
export function failureReason(traceback) {
  const lines = traceback.replace(/\s+$/, '').split('\n');
  // The exception starts at the first line after the last stack frame that is not indented.
  let last = -1;
  lines.forEach((l, i) => {
    if (/^\s+File "/.test(l)) last = i;
  });
  let start = lines.findIndex(
    (l, i) => i > last && l.length > 0 && !/^\s/.test(l) && !/^Traceback \(most recent/.test(l),
  );
  if (start === -1) start = Math.max(0, lines.length - 1);
  return truncate(
    lines
      .slice(start, start + 4)
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim(),
    300,
  );
}

function truncate(s, n) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Keeps the first and last lines of a long traceback. */
export function abbreviateTraceback(text, head = 12, tail = 8) {
  const lines = text.replace(/\s+$/, '').split('\n');
  if (lines.length <= head + tail + 1) return lines.join('\n');
  return [
    ...lines.slice(0, head),
    `  … ${lines.length - head - tail} lines …`,
    ...lines.slice(-tail),
  ].join('\n');
}

function describe(t) {
  const status = FINAL[t.status];
  const out = { status };
  if (t.status === 'xfail') out.note = 'expected failure';
  if (t.status === 'uxsuccess')
    out.reason = 'unexpected success (the test is marked as expected to fail)';
  if (status === 'skip') out.reason = (t.files.reason ?? '').trim() || 'skipped (no reason given)';
  if (status === 'fail' && t.files.traceback) {
    out.reason = failureReason(t.files.traceback);
    out.traceback = abbreviateTraceback(t.files.traceback);
  } else if (status === 'fail' && !out.reason) out.reason = 'failed (no traceback reported)';
  if (t.start !== undefined && t.stop !== undefined)
    out.duration_s = Math.round((t.stop - t.start) * 1000) / 1000;
  return out;
}

/**
 * Builds the per-test results.
 *
 * listed: every test id the selection matches (`tempest run --list-tests`, no exclusions).
 * toRun: the ids left after the exclusion list (`--list-tests --exclude-list …`).
 * packets: the parsed subunit stream of the run.
 * exclusions: parsed exclusion entries, for the reasons of excluded tests.
 * noResult: the reason given to a test that tempest reported nothing for.
 *
 * Returns { tests: { id → entry }, classLevel: { id → entry }, unlisted: [ids] }.
 */
export function buildResults({
  listed,
  toRun,
  packets,
  exclusions = [],
  noResult = 'no result reported',
}) {
  const reported = collectTests(packets);
  const runSet = new Set(toRun);
  const classLevel = {};
  const classResults = []; // [prefix, id, entry], setUp before tearDown
  for (const [id, t] of reported) {
    const m = CLASS_LEVEL.exec(id);
    if (!m || !t.status) continue;
    const entry = { ...describe(t), affected: 0 };
    classLevel[id] = entry;
    if (m[1].startsWith('setUp')) classResults.push([`${m[2]}.`, id, entry]);
  }

  const tests = {};
  const all = [...new Set([...listed, ...toRun])];
  for (const id of all) {
    const service = serviceOf(id);
    if (!runSet.has(id)) {
      const e = exclusionFor(exclusions, id);
      tests[id] = {
        status: 'excluded',
        service,
        reason: e ? e.reason : 'matched the exclusion list',
        ...(e ? { excluded_by: `${e.pattern} (${e.where})` } : {}),
      };
      continue;
    }
    const own = reported.get(id);
    if (own?.status) {
      tests[id] = { service, ...describe(own) };
      continue;
    }
    const inherited = classResults.find(([prefix]) => id.startsWith(prefix));
    if (inherited) {
      const [, classId, entry] = inherited;
      entry.affected += 1;
      const what = classId.split(' ')[0];
      tests[id] = {
        status: entry.status,
        service,
        reason:
          entry.status === 'skip'
            ? `${what} skipped the class: ${entry.reason}`
            : `${what} failed: ${entry.reason}`,
        via: classId,
      };
      continue;
    }
    tests[id] = { status: 'fail', service, reason: noResult };
  }

  // Tests tempest ran that --list-tests did not name (should not happen): keep them.
  const unlisted = [];
  for (const [id, t] of reported) {
    if (id in tests || CLASS_LEVEL.test(id) || !t.status) continue;
    unlisted.push(id);
    tests[id] = { service: serviceOf(id), ...describe(t) };
  }
  return { tests: sortKeys(tests), classLevel: sortKeys(classLevel), unlisted };
}

function sortKeys(o) {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function emptyCounts() {
  return { passed: 0, failed: 0, skipped: 0, excluded: 0, total: 0 };
}

const COUNT_KEY = { pass: 'passed', fail: 'failed', skip: 'skipped', excluded: 'excluded' };

/** Totals and per-service counts: { total: counts, services: { name → counts } }. */
export function summarize(tests) {
  const total = emptyCounts();
  const services = {};
  for (const t of Object.values(tests)) {
    const per = (services[t.service] ??= emptyCounts());
    for (const c of [total, per]) {
      c[COUNT_KEY[t.status]] += 1;
      c.total += 1;
    }
  }
  return { total, services };
}

/** The summary line: `N passed, N failed, N skipped, N excluded`. */
export function summaryLine(c) {
  return `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.excluded} excluded`;
}

/** The commonest failure reasons: [{ reason, count }], most frequent first. */
export function topReasons(tests, status = 'fail', limit = 5) {
  const counts = new Map();
  for (const t of Object.values(tests)) {
    if (t.status !== status) continue;
    // Group inherited results by the class-level reason, not by class.
    const key = t.reason.replace(/^(setUpClass|setUpModule) (failed|skipped the class): /, '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
    .slice(0, limit);
}
