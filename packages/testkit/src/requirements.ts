import { isCI } from '@stratus/config';

/**
 * Decides whether a test that needs an outside piece (a server, a package, root) can
 * run. Returns `false` when the piece is there, or a skip reason naming what is
 * missing and how to install it. In CI (CI=true) a missing piece is an error instead:
 * CI installs everything, so a skip there would hide a broken install.
 *
 *   const skip = await requirement('PostgreSQL', () => probePostgres(url), 'apt-get install postgresql');
 *   describe('on PostgreSQL', { skip }, () => { ... });
 */
export async function requirement(
  what: string,
  probe: () => Promise<unknown> | unknown,
  installHint: string,
): Promise<string | false> {
  let problem: string | undefined;
  try {
    const result = await probe();
    if (result === false) problem = 'not available';
    else if (typeof result === 'string') problem = result;
  } catch (err) {
    problem = err instanceof Error ? err.message : String(err);
  }
  if (problem === undefined) return false;
  const reason = `needs ${what} (${problem}); ${installHint}`;
  if (isCI()) throw new Error(`CI must not skip: this test ${reason}`);
  process.stderr.write(`skipping: ${reason}\n`);
  return reason;
}

/** True when running as root (network namespaces, bridges, iptables need it). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
