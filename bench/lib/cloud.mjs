// `stratus up` as a child process for the benchmarks that measure a real cloud.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** `stratus up` on `dir` with every port moved by `portOffset`; logs at warn only. */
export function spawnCloud(dir, portOffset) {
  const bin = fileURLToPath(new URL('../../apps/cli/bin/stratus.js', import.meta.url));
  return spawn(
    process.execPath,
    [bin, 'up', '--data-dir', dir, '--port-offset', String(portOffset)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, STRATUS_LOG__LEVEL: 'warn' },
    },
  );
}

/** Waits for `stratus up` to be ready; stops it when it is not. */
export async function cloudReady(child) {
  try {
    await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`stratus up not ready:\n${out}`)), 30_000);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('Stratus is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`stratus up exited ${code}:\n${out}`));
      });
    });
  } catch (err) {
    await stopCloud(child);
    throw err;
  }
  child.stdout.resume(); // keep draining whatever it prints later
}

export async function stopCloud(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
