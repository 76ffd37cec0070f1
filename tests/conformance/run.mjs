#!/usr/bin/env node
// The Tempest conformance harness: runs Tempest's API tests for the chosen services against
// the running Stratus cloud and reports one result per test. See README.md beside this file.
//
//   npm run conformance -- [--cloud-dir DIR] [--workspace DIR] [--concurrency N]
//                          [--regex R] [--list] [--strict] <service…>
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isAvailable, parseCapabilities } from './lib/capabilities.mjs';
import { defaultCloudDir, parseCloudsYaml } from './lib/cloud.mjs';
import { loadExclusions, renderExcludeList } from './lib/exclusions.mjs';
import { buildResults, summarize, summaryLine, topReasons } from './lib/results.mjs';
import { SERVICE_NAMES, selectionRegex, serviceOf, validateServices } from './lib/services.mjs';
import {
  ensureTempest,
  listTests,
  runTempest,
  tempestInit,
  tempestVersion,
} from './lib/tempest.mjs';
import { buildTempestConf, confProblems, parseIni, renderIni } from './lib/tempest-conf.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');

const USAGE = `usage: npm run conformance -- [options] <service…>

services: ${SERVICE_NAMES.join(', ')}

options:
  --cloud-dir DIR     the cloud's data directory, holding clouds.yaml
                      (default: ${defaultCloudDir()})
  --cloud NAME        the cloud in clouds.yaml (default: stratus)
  --workspace DIR     the tempest workspace to create; must not exist
                      (default: <cloud-dir>/conformance/<timestamp>-<services>)
  --concurrency N     tempest workers (default: ${availableParallelism()})
  --regex R           run only the tests of those services whose id also matches R
  --list              only list the tests (no cloud needed) and count them
  --strict            exit 1 when any test fails
  --timeout S         stop tempest after S seconds (default: 7200)
  --image-ref ID      [compute] image_ref (default: capabilities.yaml)
  --flavor-ref ID     [compute] flavor_ref (default: capabilities.yaml)
  --set S.O=V         any other tempest.conf option, e.g. --set compute.min_microversion=2.1
  -h, --help          this text

exit status: 0 the run completed (failures or not; with --strict: and nothing failed),
1 tests failed under --strict, 2 bad usage or set-up, 3 the run did not complete
(timeout, interrupted, tempest crashed)`;

class UsageError extends Error {}

function parseCommandLine(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'cloud-dir': { type: 'string' },
      cloud: { type: 'string', default: 'stratus' },
      workspace: { type: 'string' },
      concurrency: { type: 'string' },
      regex: { type: 'string' },
      list: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '7200' },
      'image-ref': { type: 'string' },
      'flavor-ref': { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  const services = validateServices(positionals);
  if (!services.length && !values.regex)
    throw new UsageError(`name at least one service (${SERVICE_NAMES.join(', ')})`);
  const concurrency = Number(values.concurrency ?? availableParallelism());
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError(`--concurrency must be a positive integer, not '${values.concurrency}'`);
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout must be a number of seconds`);
  const overrides = {};
  for (const s of values.set) {
    const m = /^([^.=\s]+)\.([^=\s]+)=(.*)$/.exec(s);
    if (!m) throw new UsageError(`--set wants section.option=value, not '${s}'`);
    (overrides[m[1]] ??= {})[m[2]] = m[3];
  }
  return {
    services,
    regex: values.regex,
    cloudDir: resolve(values['cloud-dir'] ?? defaultCloudDir()),
    cloudName: values.cloud,
    workspace: values.workspace && resolve(values.workspace),
    concurrency,
    list: values.list,
    strict: values.strict,
    timeoutS,
    imageRef: values['image-ref'],
    flavorRef: values['flavor-ref'],
    overrides,
  };
}

function log(line = '') {
  process.stdout.write(`${line}\n`);
}

function timestamp(d = new Date()) {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

function defaultWorkspace(opts) {
  const base = join(opts.cloudDir, 'conformance');
  const label = opts.services.length ? opts.services.join('+') : 'regex';
  const stem = join(base, `${timestamp()}-${label}${opts.list ? '-list' : ''}`);
  let dir = stem;
  for (let i = 2; existsSync(dir); i++) dir = `${stem}-${i}`;
  return dir;
}

/** Points <cloud-dir>/conformance/latest at the newest workspace. */
function linkLatest(workspace) {
  const link = join(dirname(workspace), 'latest');
  const tmp = `${link}.${process.pid}`;
  try {
    symlinkSync(relative(dirname(link), workspace), tmp);
    renameSync(tmp, link);
  } catch {
    // a convenience only
  }
}

async function preflight(cloud) {
  try {
    const res = await fetch(cloud.uriV3, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    throw new Error(
      `no identity service answers at ${cloud.uriV3} (${err.cause?.code ?? err.message}); is the cloud up? (npx stratus up)`,
    );
  }
}

function pad(s, n) {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main(argv) {
  let opts;
  try {
    opts = parseCommandLine(argv);
  } catch (err) {
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    log(USAGE);
    return 0;
  }

  // Repository inputs first: a bad exclusion entry or capability stops everything.
  const capabilitiesFile = join(HERE, 'capabilities.yaml');
  const capabilities = parseCapabilities(readFileSync(capabilitiesFile, 'utf8'), capabilitiesFile);
  const exclusionServices = opts.services.length ? opts.services : SERVICE_NAMES;
  const exclusions = loadExclusions(join(HERE, 'exclude'), exclusionServices, REPO);

  const tempest = ensureTempest(log);

  const cloudsFile = join(opts.cloudDir, 'clouds.yaml');
  let cloud = null;
  if (existsSync(cloudsFile))
    cloud = parseCloudsYaml(readFileSync(cloudsFile, 'utf8'), opts.cloudName, cloudsFile);
  else if (!opts.list)
    throw new Error(
      `${cloudsFile} not found: start a cloud (npx stratus up) or point --cloud-dir at its data directory`,
    );

  const conf = buildTempestConf({
    cloud,
    capabilities,
    imageRef: opts.imageRef,
    flavorRef: opts.flavorRef,
    overrides: opts.overrides,
  });
  if (!opts.list) {
    const problems = confProblems(conf, capabilities, opts.services);
    if (problems.length) throw new Error(problems.join('\n'));
    await preflight(cloud);
  }

  const workspace = opts.workspace ?? defaultWorkspace(opts);
  if (existsSync(workspace))
    throw new Error(`workspace ${workspace} already exists; tempest init needs a new directory`);
  mkdirSync(dirname(workspace), { recursive: true });
  tempestInit(tempest, workspace);
  if (!opts.workspace) linkLatest(workspace);

  const configFile = join(workspace, 'etc', 'tempest.conf');
  // It holds the admin password.
  writeFileSync(configFile, renderIni(conf, parseIni(readFileSync(configFile, 'utf8'))));
  chmodSync(configFile, 0o600);
  let excludeList;
  if (exclusions.length) {
    excludeList = join(workspace, 'exclude-list.txt');
    writeFileSync(excludeList, renderExcludeList(exclusions));
  }

  const regex = selectionRegex(opts.services, opts.regex);
  const version = tempestVersion(tempest);
  log(`tempest ${version ?? '(unknown version)'} at ${tempest}`);
  log(`workspace ${workspace}`);
  if (cloud) log(`cloud ${cloud.uriV3} (region ${cloud.region}, admin ${cloud.username})`);
  for (const s of opts.services)
    if (s !== 'identity' && !isAvailable(capabilities, s))
      log(`note: ${s} is not available in capabilities.yaml, so Tempest will skip its tests`);

  const listed = listTests(tempest, { workspace, configFile, regex });
  const toRun = excludeList
    ? listTests(tempest, { workspace, configFile, regex, excludeList })
    : listed;
  if (!listed.length) throw new Error(`no Tempest test matches ${regex}`);
  writeFileSync(join(workspace, 'tests-listed.txt'), listed.map((t) => `${t}\n`).join(''));
  writeFileSync(join(workspace, 'tests-to-run.txt'), toRun.map((t) => `${t}\n`).join(''));

  if (opts.list) {
    const runSet = new Set(toRun);
    const per = {};
    for (const id of listed) {
      const c = (per[serviceOf(id)] ??= { listed: 0, excluded: 0 });
      c.listed += 1;
      if (!runSet.has(id)) c.excluded += 1;
    }
    const order = [...opts.services, ...Object.keys(per).filter((s) => !opts.services.includes(s))];
    for (const service of order) {
      const c = per[service] ?? { listed: 0, excluded: 0 };
      log(
        `${pad(service, 16)} ${c.listed} tests (${c.excluded} excluded, ${c.listed - c.excluded} to run)`,
      );
    }
    log(`lists kept in ${workspace} (tests-listed.txt, tests-to-run.txt)`);
    log(
      `${listed.length} tests listed, ${listed.length - toRun.length} excluded, ${toRun.length} to run`,
    );
    return 0;
  }

  log(
    `running ${toRun.length} tests (${listed.length - toRun.length} excluded) with ${opts.concurrency} workers…`,
  );
  const started = Date.now();
  const nothingToRun = {
    code: null,
    signal: null,
    timedOut: false,
    interrupted: null,
    packets: [],
    skippedBytes: 0,
  };
  const run = !toRun.length
    ? nothingToRun
    : await runTempest(tempest, {
        workspace,
        configFile,
        regex,
        excludeList,
        concurrency: opts.concurrency,
        subunitFile: join(workspace, 'results.subunit'),
        logFile: join(workspace, 'tempest-run.log'),
        timeoutS: opts.timeoutS,
        onProgress: (packets) => {
          const done = packets.filter(
            (p) => p.status && !['exists', 'inprogress'].includes(p.status),
          );
          log(`  … ${done.length} results so far (${Math.round((Date.now() - started) / 1000)} s)`);
        },
      });
  const durationS = Math.round((Date.now() - started) / 100) / 10;

  const noResult = run.timedOut
    ? `no result: tempest was stopped after the ${opts.timeoutS} s timeout`
    : run.interrupted
      ? `no result: the run was interrupted (${run.interrupted})`
      : `no result reported by tempest (exit ${run.code ?? run.signal}; see tempest-run.log)`;
  const { tests, classLevel, unlisted } = buildResults({
    listed,
    toRun,
    packets: run.packets,
    exclusions,
    noResult,
  });
  const summary = summarize(tests);
  const missing = Object.values(tests).filter((t) => t.reason === noResult).length;
  const complete = !run.timedOut && !run.interrupted && missing === 0;

  const resultsFile = join(workspace, 'results.json');
  writeFileSync(
    resultsFile,
    JSON.stringify(
      {
        generated_at: new Date().toISOString(),
        tempest_version: version,
        cloud: cloud && { auth_url: cloud.uriV3, region: cloud.region },
        services: opts.services,
        regex,
        concurrency: opts.concurrency,
        workspace,
        run: {
          complete,
          exit_code: run.code,
          signal: run.signal,
          timed_out: run.timedOut,
          interrupted: run.interrupted,
          duration_s: durationS,
          subunit_packets: run.packets.length,
          non_subunit_bytes: run.skippedBytes,
          tests_without_result: missing,
          tests_not_listed: unlisted,
        },
        summary: { ...summary.total, line: summaryLine(summary.total) },
        per_service: summary.services,
        exclusions: exclusions.map(({ pattern, regex: r, reason, where }) => ({
          pattern,
          regex: r,
          reason,
          where,
        })),
        class_level: classLevel,
        tests,
      },
      null,
      2,
    ) + '\n',
  );

  if (run === nothingToRun) log('nothing to run: every selected test is excluded');
  else log(`tempest finished in ${durationS} s (exit ${run.code ?? run.signal})`);
  if (run.timedOut) log(`TIMEOUT: tempest was stopped after ${opts.timeoutS} s`);
  if (run.interrupted) log(`INTERRUPTED by ${run.interrupted}`);
  if (missing) log(`${missing} tests got no result from tempest (counted as failed)`);
  if (unlisted.length) log(`${unlisted.length} tests ran that --list-tests did not name`);
  const classErrors = Object.entries(classLevel).filter(
    ([id, e]) => e.status === 'fail' && /^tearDown/.test(id),
  );
  if (classErrors.length)
    log(`${classErrors.length} tearDownClass/Module errors (see class_level in results.json)`);
  for (const status of ['fail', 'skip']) {
    const reasons = topReasons(tests, status);
    if (!reasons.length) continue;
    log(status === 'fail' ? 'commonest failures:' : 'commonest skip reasons:');
    for (const r of reasons) log(`  ${String(r.count).padStart(5)} × ${r.reason}`);
  }
  log(`results: ${resultsFile}`);
  // Tempest writes its log (every HTTP request) beside the config it was given, or to logs/.
  const tempestLog = [join(workspace, 'tempest.log'), join(workspace, 'logs', 'tempest.log')].find(
    (f) => existsSync(f),
  );
  if (tempestLog) log(`tempest log: ${tempestLog}`);
  const order = [
    ...opts.services,
    ...Object.keys(summary.services).filter((s) => !opts.services.includes(s)),
  ];
  for (const s of order) {
    const c = summary.services[s];
    if (c) log(`${pad(`${s}:`, 16)} ${summaryLine(c)} (${c.total} tests)`);
  }
  // The last line, always in this form.
  log(summaryLine(summary.total));
  if (!complete) return 3;
  if (opts.strict && summary.total.failed > 0) return 1;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`conformance: ${err.message}\n`);
    process.exitCode = 2;
  },
);
