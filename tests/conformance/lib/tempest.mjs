// Running Debian's tempest: finding (or installing) it, `tempest init`, listing and running
// tests. Tempest runs on /usr/bin/python3 through its shebang; the `python3` on PATH may
// be another Python without the OpenStack libraries, which is why nothing here names one.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { SubunitParser } from './subunit.mjs';

export const INSTALL_COMMAND = 'apt-get install -y tempest python3-openstackclient';

/**
 * The environment tempest runs with. stestr starts its workers with $PYTHON when it is
 * set, which would be the wrong interpreter here; without it, the one running tempest.
 */
export function childEnv() {
  // eslint-disable-next-line no-restricted-properties -- a standalone script handing its environment to tempest
  const env = { ...process.env };
  delete env.PYTHON;
  return env;
}

/** The path of `name` on PATH, or null. */
export function which(name, pathVar = childEnv().PATH ?? '') {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Finds tempest; installs it from Debian when missing and running as root, otherwise
 * throws with the command to run.
 */
export function ensureTempest(
  log,
  uid = process.getuid?.(),
  find = () => which('tempest') ?? which('tempest', '/usr/bin'),
) {
  const found = find();
  if (found) return found;
  if (uid !== 0)
    throw new Error(`tempest is not installed. Install it with:\n  sudo ${INSTALL_COMMAND}`);
  log(`tempest is not installed; running: ${INSTALL_COMMAND}`);
  const install = () =>
    spawnSync('apt-get', ['install', '-y', 'tempest', 'python3-openstackclient'], {
      stdio: 'inherit',
      env: { ...childEnv(), DEBIAN_FRONTEND: 'noninteractive' },
    }).status;
  if (install() !== 0) {
    log('apt-get install failed; refreshing the package lists and trying again');
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    if (install() !== 0) throw new Error(`'${INSTALL_COMMAND}' failed`);
  }
  const installed = find();
  if (!installed) throw new Error(`'${INSTALL_COMMAND}' succeeded but tempest is not on PATH`);
  return installed;
}

function runCapture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: childEnv(),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
    ...opts,
  });
  if (r.error) throw r.error;
  return r;
}

/** The installed Tempest's version, e.g. '33.0.0', or null. */
export function tempestVersion(tempest) {
  const r = spawnSync(tempest, ['--version'], { encoding: 'utf8', env: childEnv() });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split(/\s+/).pop() || null;
}

/**
 * `tempest init DIR` (DIR must not exist). Tempest also records every workspace in
 * ~/.tempest/workspace.yaml and refuses a second one with the same name; a throw-away
 * registry keeps runs independent and leaves the user's file alone.
 */
export function tempestInit(tempest, dir) {
  const registry = mkdtempSync(join(tmpdir(), 'stratus-conformance-'));
  try {
    const r = runCapture(tempest, [
      'init',
      '--workspace-path',
      join(registry, 'workspace.yaml'),
      dir,
    ]);
    if (r.status !== 0)
      throw new Error(`tempest init ${dir} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  } finally {
    rmSync(registry, { recursive: true, force: true });
  }
}

/** `tempest run --list-tests`: the test ids the selection matches. */
export function listTests(tempest, { workspace, configFile, regex, excludeList }) {
  const args = ['run', '--list-tests', '--config-file', configFile, '--regex', regex];
  if (excludeList) args.push('--exclude-list', excludeList);
  const r = runCapture(tempest, args, { cwd: workspace });
  if (r.status !== 0)
    throw new Error(`tempest run --list-tests failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  return parseTestList(r.stdout);
}

/** Test ids from `--list-tests` output, ignoring anything that is not one. */
export function parseTestList(text) {
  return [
    ...new Set(
      text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => /^[A-Za-z_][\w.]*(\[[^\]\s]*\])?$/.test(l) && l.includes('.')),
    ),
  ];
}

/**
 * `tempest run --subunit` in its own process group, the stream saved to subunitFile and
 * parsed as it arrives. Resolves { code, signal, timedOut, interrupted, packets, skippedBytes }.
 */
export function runTempest(
  tempest,
  {
    workspace,
    configFile,
    regex,
    excludeList,
    concurrency,
    subunitFile,
    logFile,
    timeoutS,
    onProgress,
  },
) {
  const args = ['run', '--config-file', configFile, '--regex', regex, '--subunit'];
  args.push('--concurrency', String(concurrency));
  if (excludeList) args.push('--exclude-list', excludeList);
  return new Promise((resolve, reject) => {
    const out = createWriteStream(subunitFile);
    const log = createWriteStream(logFile);
    const child = spawn(tempest, args, {
      cwd: workspace,
      env: childEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const parser = new SubunitParser();
    const packets = [];
    let timedOut = false;
    let interrupted = null;
    let killTimer;
    const killGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), 10_000);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutS * 1000);
    const onSignal = (signal) => {
      interrupted = signal;
      stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const progress = setInterval(() => onProgress?.(packets), 30_000);

    child.stdout.on('data', (chunk) => {
      out.write(chunk);
      for (const p of parser.push(chunk)) packets.push(p);
    });
    child.stderr.pipe(log);
    child.on('error', (err) => {
      clearTimeout(deadline);
      clearInterval(progress);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      clearInterval(progress);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Workers the group kill missed would still hold the cloud busy: one more sweep.
      killGroup('SIGKILL');
      const skippedBytes = parser.end();
      let pending = 2;
      const done = () => {
        if (--pending === 0)
          resolve({ code, signal, timedOut, interrupted, packets, skippedBytes });
      };
      out.end(done);
      log.end(done);
    });
  });
}
