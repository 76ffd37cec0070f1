import type { RequestContext } from '@stratus/api-kit';
import type { Logger } from '@stratus/common';
import type { Enforcer } from '@stratus/policy';
import type { Kysely } from 'kysely';
import type { ImageSettings } from '../config.js';
import type { ImageSchema } from '../db/schema.js';
import type { FileStore, ImageStores } from '../store/index.js';
import type { Quotas } from './quotas.js';

/**
 * Everything the image API works with: the database, the stores and the staging area,
 * the policy, quotas, and `worker`, the id under which this process claims images
 * whose data it is writing.
 */
export interface ImageService {
  db: Kysely<ImageSchema>;
  settings: ImageSettings;
  stores: ImageStores;
  /** Where data waits between `PUT /stage` and its import. */
  staging: FileStore;
  enforcer: Enforcer;
  quotas: Quotas;
  logger: Logger;
  worker: string;
  /** Background work (imports) in flight, so close() and tests can wait for it. */
  background: Set<Promise<unknown>>;
  /** The identity endpoint (…/v3), where glance-download finds the caller's catalog. */
  identityUrl?: string;
  /** This cloud's region: glance-download's default source region. */
  region: string;
  /** A fetch for web-download; global fetch unless a test swaps it. */
  fetch: typeof fetch;
}

/** Glance's `context.is_admin`: the caller passes `context_is_admin`. */
export function isAdmin(service: ImageService, ctx: RequestContext): boolean {
  return service.enforcer.enforce('context_is_admin', {}, ctx);
}

/** Runs work in the background, keeping track of it; errors are logged, never thrown. */
export function runInBackground(service: ImageService, what: string, work: () => Promise<void>) {
  const p = work().catch((err: unknown) => service.logger.error({ err }, `${what} failed`));
  service.background.add(p);
  void p.finally(() => service.background.delete(p));
}
