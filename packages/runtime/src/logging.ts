import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Logger } from '@stratus/common';
import type PinoPretty from 'pino-pretty';
import { pino, type DestinationStream } from 'pino';
import type { CloudConfig } from './sections.js';

/** pino-pretty is loaded only when asked for: JSON logs should not pay for it. */
function prettyStream(destination: DestinationStream, colorize: boolean): DestinationStream {
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pretty({ destination, colorize });
}

/** Never logged in clear: credentials in bodies and headers (the values become [Redacted]). */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  'headers["x-service-token"]',
  'headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers["x-subject-token"]',
  'req.headers["x-service-token"]',
  'req.headers.authorization',
];

export interface CloudLogger {
  logger: Logger;
  /** Writes buffered lines out; call before the process exits. */
  flush(): void;
}

/**
 * The process logger from the `log` section. `fallbackFile` is where logs go when the
 * config names no file (`stratus up` keeps its log in the data directory so that the
 * terminal shows only what a person needs); without it they go to stderr.
 */
export function createLogger(log: CloudConfig['log'], fallbackFile?: string): CloudLogger {
  const file = log.file || fallbackFile;
  if (file) mkdirSync(dirname(file), { recursive: true });
  const target = file
    ? pino.destination({ dest: file, sync: false })
    : pino.destination({ fd: 2, sync: true });
  const stream: DestinationStream = log.format === 'pretty' ? prettyStream(target, !file) : target;
  const logger = pino(
    {
      level: log.level,
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
      base: { pid: process.pid },
    },
    stream,
  );
  return {
    logger,
    flush: () => {
      if ('flushSync' in target && typeof target.flushSync === 'function') {
        try {
          target.flushSync();
        } catch {
          // Not yet open (nothing was written): nothing to flush.
        }
      }
    },
  };
}
