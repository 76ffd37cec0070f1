import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '@stratus/common';
import { Enforcer, readPolicyFile, type RuleDefault } from '@stratus/policy';
import type { Kysely } from 'kysely';
import type { ImageSettings } from '../config.js';
import type { ImageSchema } from '../db/schema.js';
import { createStores, FileStore } from '../store/index.js';
import { unlimited, type Quotas } from './quotas.js';
import type { ImageService } from './service.js';

export interface OpenImageOptions {
  db: Kysely<ImageSchema>;
  settings: ImageSettings;
  dataDir: string;
  logger: Logger;
  policies: readonly RuleDefault[];
  quotas?: Quotas;
  /** This node's name: claims of images start with it. */
  host: string;
  fetch?: typeof fetch;
  identityUrl?: string;
  region?: string;
}

/** The image service's state for one process: stores, staging, policy and quotas. */
export function openImageService(options: OpenImageOptions): ImageService {
  const { settings } = options;
  const base = settings.store_dir || join(options.dataDir, 'images');
  const ids = settings.stores.length > 0 ? settings.stores : ['file'];
  const defaultId = settings.default_store || ids[0];
  if (!ids.includes(defaultId ?? ''))
    throw new Error(
      `image.default_store ${defaultId} is not one of image.stores (${ids.join(', ')})`,
    );
  const stores = createStores(
    ids.map((id) => ({
      type: 'file' as const,
      id,
      dir: join(base, id),
      description: `Images in files (${id})`,
      isDefault: id === defaultId,
    })),
  );
  const staging = new FileStore({
    type: 'file',
    id: 'os_glance_staging_store',
    dir: settings.staging_dir || join(options.dataDir, 'image-staging'),
  });
  const enforcer = new Enforcer(options.policies, {
    overrides: settings.policy_file ? readPolicyFile(settings.policy_file) : {},
    logger: options.logger,
  });
  return {
    db: options.db,
    settings,
    stores,
    staging,
    enforcer,
    quotas: options.quotas ?? unlimited,
    logger: options.logger,
    worker: `${options.host}:${process.pid}:${randomBytes(4).toString('hex')}`,
    background: new Set(),
    fetch: options.fetch ?? fetch,
    region: options.region ?? 'RegionOne',
    ...(options.identityUrl ? { identityUrl: options.identityUrl } : {}),
  };
}

/** Waits for background work (imports) to finish. */
export async function drain(service: ImageService): Promise<void> {
  while (service.background.size > 0) await Promise.allSettled([...service.background]);
}
