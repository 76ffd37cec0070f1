/**
 * The store registry: config `type` → driver, and the set of stores one image service
 * runs with (Glance's multi-store `enabled_backends` with one `default_backend`).
 */
import { ValidationError } from '@stratus/common';
import type { ImageStore, PartialCleanup, StoreDescriptor } from './driver.js';
import { UnknownImageStore, InvalidStoreLocation } from './errors.js';
import { FakeStore } from './fake.js';
import type { FakeStoreConfig } from './fake.js';
import { FileStore } from './file.js';
import type { FileStoreConfig } from './file.js';

export type StoreConfig = FileStoreConfig | FakeStoreConfig;
export type StoreType = StoreConfig['type'];

type Factories = { [K in StoreType]: (config: Extract<StoreConfig, { type: K }>) => ImageStore };

const drivers: Factories = {
  file: (config) => new FileStore(config),
  fake: (config) => new FakeStore(config),
};

/** The store types `createStore` knows. */
export const storeTypes = Object.keys(drivers) as StoreType[];

export function createStore(config: StoreConfig): ImageStore {
  const type: unknown = (config as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string' || !Object.hasOwn(drivers, type)) {
    throw new ValidationError(
      `Unknown image store type ${JSON.stringify(type)}; known types: ${storeTypes.join(', ')}.`,
    );
  }
  const factory = drivers[type as StoreType] as (config: StoreConfig) => ImageStore;
  return factory(config);
}

/** Every configured store, the default one, and which store a location belongs to. */
export class ImageStores {
  readonly default: ImageStore;
  private readonly byId = new Map<string, ImageStore>();

  constructor(stores: readonly ImageStore[]) {
    if (stores.length === 0) throw new ValidationError('At least one image store is needed.');
    for (const store of stores) {
      const { id } = store.descriptor;
      if (this.byId.has(id)) throw new ValidationError(`Two image stores have the id ${id}.`);
      this.byId.set(id, store);
    }
    const defaults = stores.filter((store) => store.descriptor.isDefault);
    const only = stores.length === 1 ? stores[0] : undefined;
    const chosen = defaults.length === 1 ? defaults[0] : defaults.length === 0 ? only : undefined;
    if (!chosen) {
      throw new ValidationError(
        defaults.length === 0
          ? 'With several image stores, one must be the default (isDefault).'
          : `Only one image store can be the default, not ${defaults.map((s) => s.descriptor.id).join(', ')}.`,
      );
    }
    this.default = chosen;
  }

  /** The store with this id (Glance's `X-Image-Meta-Store`), else UnknownImageStore (400). */
  get(id: string): ImageStore {
    const store = this.byId.get(id);
    if (!store) throw new UnknownImageStore(`Store for identifier ${id} not found.`);
    return store;
  }

  /** The store holding `location`, else InvalidStoreLocation (400). */
  forLocation(location: string): ImageStore {
    for (const store of this.byId.values()) if (store.owns(location)) return store;
    throw new InvalidStoreLocation(`No configured image store holds ${JSON.stringify(location)}.`);
  }

  all(): ImageStore[] {
    return [...this.byId.values()];
  }

  /** What /v2/info/stores lists; exactly one is the default. */
  descriptors(): StoreDescriptor[] {
    return this.all().map((store) => ({ ...store.descriptor, isDefault: store === this.default }));
  }

  /** Startup recovery of every store; the image ids whose partial data went, by store id. */
  async cleanupPartials(options?: PartialCleanup): Promise<Record<string, string[]>> {
    const removed: Record<string, string[]> = {};
    for (const store of this.all())
      removed[store.descriptor.id] = await store.cleanupPartials(options);
    return removed;
  }
}

export function createStores(configs: readonly StoreConfig[]): ImageStores {
  return new ImageStores(configs.map(createStore));
}
