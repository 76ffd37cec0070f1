import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { processEnvironment } from '@stratus/config';

export const STRATUS_BIN = fileURLToPath(new URL('../../bin/stratus.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `stratus ARGS` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STRATUS_BIN, ...args], {
      env: { ...cleanEnv(), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment without any STRATUS_* setting of the developer's shell. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(processEnvironment()).filter(([k]) => !k.startsWith('STRATUS_')),
  );
}

export interface UpProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far. */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code and how long the exit took. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Starts `stratus up ARGS` and resolves once it printed "Stratus is ready". */
export function startUp(args: string[], timeoutMs = 20_000): Promise<UpProcess> {
  return startStratus(['up', ...args], 'Stratus is ready', {}, timeoutMs);
}

/** Starts a long-running stratus command and resolves once its output contains `ready`. */
export function startStratus(
  args: string[],
  ready: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 20_000,
): Promise<UpProcess> {
  const child = spawn(process.execPath, [STRATUS_BIN, ...args], { env: { ...cleanEnv(), ...env } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const handle: UpProcess = {
    child,
    output: () => out,
    stop: async () => {
      const t0 = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const r = await exited;
      return { ...r, ms: Date.now() - t0 };
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stratus ${args[0]} was not ready within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (): void => {
      if (out.includes(ready)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(handle);
      }
    };
    child.stdout.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      if (!out.includes(ready))
        reject(new Error(`stratus ${args[0]} exited with ${code}:\n${out}`));
    });
  });
}

/** A port offset whose identity port (5000 + offset) is likely free, distinct per test file. */
export function randomPortOffset(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}
