import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { identitySection } from '@stratus/identity';
import {
  createLogger,
  formatHost,
  sectionSettings,
  portFor,
  resolveDataDir,
  startCloud,
  type RunningCloud,
} from '@stratus/runtime';
import { configFromFlags, type CommonFlags } from './config.js';
import { cloudsYaml, loadOrCreateSecrets, openrc, writePrivate } from './credentials.js';
import { SERVICES } from './services.js';
import { takeLock, waitForSignal, waitHealthy } from './process.js';

const STOP_DEADLINE_MS = 10_000;

/**
 * `stratus up`: the all-in-one cloud in the foreground. Every role of every service in
 * this process, SQLite and the memory bus under the data directory; stops cleanly on
 * SIGTERM or Ctrl-C, and the next `up` on the same directory finds everything as it was.
 */
export async function up(flags: CommonFlags, out: (line: string) => void): Promise<number> {
  // Listen from the start: a signal during start-up must stop cleanly too.
  const stopSignal = waitForSignal(['SIGINT', 'SIGTERM']);
  const config = configFromFlags(flags);
  const dataDir = resolveDataDir(config);
  await mkdir(dataDir, { recursive: true });
  const releaseLock = await takeLock(join(dataDir, 'stratus.pid'));
  const { logger, flush } = createLogger(config.log, join(dataDir, 'stratus.log'));
  let cloud: RunningCloud | undefined;
  try {
    // A password set in the configuration wins; otherwise the one generated on the first start.
    const configured = sectionSettings(config, identitySection).admin_password;
    const servicePassword = config.service_auth.password;
    const { secrets, created } = await loadOrCreateSecrets(dataDir, {
      ...(configured ? { admin_password: configured } : {}),
      ...(servicePassword ? { service_password: servicePassword } : {}),
    });
    const withPassword = configFromFlags(flags, {
      identity: { admin_password: secrets.admin_password },
      service_auth: { password: secrets.service_password },
    });
    cloud = await startCloud({ services: SERVICES, config: withPassword, logger });
    await Promise.all(
      cloud.roles.flatMap((r) => (r.localUrl ? [waitHealthy(`${r.localUrl}/healthcheck`)] : [])),
    );

    const publicHost = config.core.public_host || config.core.bind_host;
    const credentials = {
      authUrl: `http://${formatHost(publicHost)}:${portFor('identity', config.core.port_offset)}/v3`,
      username: 'admin',
      password: secrets.admin_password,
      projectName: 'admin',
      region: config.core.region,
    };
    await writePrivate(join(cloud.dataDir, 'clouds.yaml'), cloudsYaml(credentials));
    await writePrivate(join(cloud.dataDir, 'openrc'), openrc(credentials));

    // Since the process started, module loading included: what a user waits for.
    const seconds = (performance.now() / 1000).toFixed(2);
    for (const r of cloud.roles)
      out(`  ${`${r.service}:${r.role}`.padEnd(24)} ${r.url ?? '(no API)'}`);
    if (created)
      out(
        `  admin password generated: ${secrets.admin_password} (kept in ${join(cloud.dataDir, 'secrets.yaml')})`,
      );
    out(`  export OS_CLIENT_CONFIG_FILE=${join(cloud.dataDir, 'clouds.yaml')} OS_CLOUD=stratus`);
    out(
      `Stratus is ready in ${seconds} s (data in ${cloud.dataDir}; logs in ${config.log.file || join(cloud.dataDir, 'stratus.log')})`,
    );
    logger.info({ seconds: Number(seconds), roles: cloud.roles.length }, 'Stratus is ready');

    const signal = await stopSignal;
    out(`Stopping (${signal})…`);
    logger.info({ signal }, 'stopping');
    const deadline = setTimeout(() => {
      logger.error('services did not stop within 10 s; exiting anyway');
      flush();
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    await cloud.stop();
    cloud = undefined;
    clearTimeout(deadline);
    out('Stratus stopped.');
    return 0;
  } finally {
    if (cloud) await cloud.stop().catch(() => undefined);
    await releaseLock();
    flush();
  }
}
