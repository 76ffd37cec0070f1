import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { renderMarkdownReference, renderSample } from '@stratus/config';
import {
  cloudCatalog,
  createLogger,
  openServiceDatabase,
  parseRoleRef,
  probeHost,
  resolveDataDir,
  sectionSettings,
  startCloud,
  syncDatabases,
} from '@stratus/runtime';
import { bootstrapIdentity, identitySection, rotateFernetKeys } from '@stratus/identity';
import { configFromFlags, parsePortOffset, SECTIONS, type CommonFlags } from './config.js';
import { formatDoctorReport } from './doctor.js';
import { waitForSignal } from './process.js';
import { SERVICES } from './services.js';
import { up } from './up.js';
import { VERSION } from './version.js';

function portOffsetOption(value: string): number {
  try {
    return parsePortOffset(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Runs the stratus command with `argv` (as process.argv) and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  let exitCode = 0;
  const program = new Command('stratus')
    .description('Stratus: an OpenStack-compatible cloud')
    .version(VERSION, '--version', 'print the version')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('up')
    .description('run the all-in-one cloud in the foreground')
    .option(
      '--data-dir <dir>',
      'where state lives (default ~/.local/share/stratus, or /var/lib/stratus as root)',
    )
    .option('--port-offset <n>', 'add N to every standard port', portOffsetOption)
    .option('--bind <address>', 'the address every API listens on (default 127.0.0.1)')
    .option('--config <file>', 'configuration file')
    .action(async (flags: CommonFlags) => {
      exitCode = await up(flags, out);
    });

  program
    .command('serve')
    .description('run one role of one service, e.g. identity:api (for multi-node)')
    .argument('<service:role>', 'the role to run')
    .option('--config <file>', 'configuration file')
    .action(async (spec: string, flags: CommonFlags) => {
      const stopSignal = waitForSignal(['SIGINT', 'SIGTERM']);
      const ref = parseRoleRef(SERVICES, spec);
      const config = configFromFlags(flags);
      const { logger, flush } = createLogger(config.log);
      const cloud = await startCloud({ services: SERVICES, roles: [ref], config, logger });
      logger.info({ role: spec, url: cloud.roles[0]?.url }, 'serving');
      out(`Serving ${spec}${cloud.roles[0]?.url ? ` at ${cloud.roles[0].url}` : ''}`);
      const signal = await stopSignal;
      logger.info({ signal }, 'stopping');
      await cloud.stop();
      flush();
      out(`Stopped ${spec}.`);
    });

  const db = program.command('db').description('database administration');
  db.command('sync')
    .description("apply every service's pending database migrations")
    .option('--config <file>', 'configuration file')
    .option('--data-dir <dir>', 'data directory (for SQLite databases)')
    .action(async (flags: CommonFlags) => {
      const config = configFromFlags(flags);
      const { logger, flush } = createLogger({ ...config.log, level: 'warn' });
      for (const r of await syncDatabases(SERVICES, config, logger)) {
        out(`${r.service}: ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'up to date'}`);
      }
      flush();
    });

  const configCommand = program.command('config').description('configuration helpers');
  configCommand
    .command('sample')
    .description('print a commented sample configuration file')
    .action(() => {
      process.stdout.write(renderSample(SECTIONS));
    });
  configCommand
    .command('reference')
    .description('print the configuration reference as a Markdown table (as in README.md)')
    .action(() => {
      process.stdout.write(renderMarkdownReference(SECTIONS));
    });

  program
    .command('doctor')
    .description('report what this host offers and which drivers `up` will choose')
    .option('--port-offset <n>', 'check the ports moved by N', portOffsetOption)
    .option('--bind <address>', 'check ports on this address')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print the facts as JSON')
    .action(async (flags: CommonFlags & { json?: boolean }) => {
      const config = configFromFlags(flags);
      const facts = await probeHost({
        bindHost: config.core.bind_host,
        portOffset: config.core.port_offset,
      });
      process.stdout.write(
        flags.json ? JSON.stringify(facts, null, 2) + '\n' : formatDoctorReport(facts),
      );
    });

  program
    .command('bootstrap')
    .description(
      'create the Default domain, admin, roles and catalog (multi-node; `up` does this itself)',
    )
    .option('--config <file>', 'configuration file')
    .action(async (flags: CommonFlags) => {
      const config = configFromFlags(flags);
      const settings = sectionSettings(config, identitySection);
      if (!settings.admin_password) {
        throw new Error(
          'set identity.admin_password (or STRATUS_IDENTITY__ADMIN_PASSWORD) to bootstrap',
        );
      }
      const { logger, flush } = createLogger({ ...config.log, level: 'warn' });
      await syncDatabases(SERVICES, config, logger);
      const identity = SERVICES.find((s) => s.name === 'identity');
      if (!identity) throw new Error('this build has no identity service');
      const database = await openServiceDatabase(identity, config, logger);
      try {
        await bootstrapIdentity({
          database,
          settings,
          region: config.core.region,
          catalog: cloudCatalog(SERVICES, config),
          servicePassword: config.service_auth.password,
        });
      } finally {
        await database.close();
        flush();
      }
      out('bootstrapped: Default domain, admin project and user, roles, catalog');
    });

  program
    .command('identity')
    .description('identity administration')
    .command('fernet')
    .description('Fernet token keys')
    .command('rotate')
    .description(
      'rotate the Fernet keys (staged becomes primary); running servers pick it up within 30 s',
    )
    .option('--config <file>', 'configuration file')
    .option('--data-dir <dir>', 'data directory (where fernet-keys/ lives by default)')
    .action(async (flags: CommonFlags) => {
      const config = configFromFlags(flags);
      const primary = await rotateFernetKeys(
        sectionSettings(config, identitySection),
        resolveDataDir(config),
      );
      out(`rotated: key ${primary} is now primary`);
    });

  program
    .command('version')
    .description('print the version')
    .action(() => out(VERSION));

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`stratus: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
