/**
 * The `file` store: each image is one file `<dir>/<imageId>`, its location
 * `file://<dir>/<imageId>`. An upload goes to `<dir>/<imageId>.partial`, is fsynced, and
 * only then appears under its final name (atomically, never over existing data), so a
 * reader or a restart never sees half an image under the final name.
 */
import { constants, createReadStream } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { ValidationError } from '@stratus/common';
import type {
  AddOptions,
  AddResult,
  GetOptions,
  ImageStore,
  PartialCleanup,
  StoreDescriptor,
} from './driver.js';
import {
  ImageDataExists,
  ImageDataNotFound,
  InvalidStoreLocation,
  StorageFull,
  StorageWriteDenied,
} from './errors.js';
import { PARTIAL_SUFFIX, checkAddOptions, checkImageId, ingest, resolveRange } from './ingest.js';

export interface FileStoreConfig {
  type: 'file';
  /** The store's id in /v2/info/stores and in multi-store requests (default `file`). */
  id?: string;
  /** Where images live (Glance's `filesystem_store_datadir`); created when missing. */
  dir: string;
  description?: string;
  isDefault?: boolean;
  /** Size of the chunks `get` returns (default 1 MiB: a quarter of the CPU of 64 KiB per byte served). */
  chunkSize?: number;
  /** Mode of stored image files (default 0o640). */
  fileMode?: number;
}

const SCHEME = 'file://';

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** Storage errors of the file system, as the store's own errors; anything else unchanged. */
export function mapFsError(err: unknown, what: string): unknown {
  switch (errnoOf(err)) {
    case 'ENOSPC':
    case 'EFBIG':
    case 'EDQUOT':
      return new StorageFull(`There is not enough space on the image store to ${what}.`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StorageWriteDenied(`The image store may not ${what}: ${String(err)}`);
    default:
      return err;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
    done += bytesWritten;
  }
}

export class FileStore implements ImageStore {
  readonly descriptor: StoreDescriptor;
  readonly dir: string;
  private readonly chunkSize: number;
  private readonly fileMode: number;
  /** Image ids uploading in this process: their partial files are not stale. */
  private readonly active = new Set<string>();

  constructor(config: FileStoreConfig) {
    if (typeof config.dir !== 'string' || config.dir === '') {
      throw new ValidationError('The file image store needs a directory (dir).');
    }
    this.dir = resolve(config.dir);
    this.chunkSize = config.chunkSize ?? 1024 * 1024;
    if (!Number.isSafeInteger(this.chunkSize) || this.chunkSize < 1) {
      throw new ValidationError(`chunkSize must be a positive integer, not ${config.chunkSize}.`);
    }
    this.fileMode = config.fileMode ?? 0o640;
    const id = config.id ?? 'file';
    this.descriptor = {
      id,
      type: 'file',
      description: config.description ?? `Images in files under ${this.dir}`,
      isDefault: config.isDefault ?? false,
    };
  }

  locationOf(imageId: string): string {
    checkImageId(imageId);
    return SCHEME + resolve(this.dir, imageId);
  }

  /** The file a location names, or null when it is not one of this store's images. */
  private pathOf(location: string): string | null {
    if (typeof location !== 'string' || !location.startsWith(SCHEME)) return null;
    const path = location.slice(SCHEME.length);
    // Only the exact form this store hands out: absolute, normalised, directly in dir.
    if (!isAbsolute(path) || resolve(path) !== path || dirname(path) !== this.dir) return null;
    const name = basename(path);
    try {
      checkImageId(name);
    } catch {
      return null;
    }
    return path;
  }

  private mustPathOf(location: string): string {
    const path = this.pathOf(location);
    if (path === null) {
      throw new InvalidStoreLocation(
        `Location ${JSON.stringify(location)} is not an image of the file store ${this.descriptor.id} (${this.dir}).`,
      );
    }
    return path;
  }

  owns(location: string): boolean {
    return this.pathOf(location) !== null;
  }

  async add(imageId: string, source: Readable, options: AddOptions): Promise<AddResult> {
    checkImageId(imageId);
    checkAddOptions(options);
    options.signal?.throwIfAborted();
    const final = resolve(this.dir, imageId);
    const partial = final + PARTIAL_SUFFIX;
    await mkdir(this.dir, { recursive: true }).catch((err: unknown) => {
      throw mapFsError(err, 'create its directory');
    });
    if (await pathExists(final)) {
      throw new ImageDataExists(`Data for image ${imageId} is already stored.`);
    }
    if (this.active.has(imageId)) {
      throw new ImageDataExists(`Data for image ${imageId} is being uploaded.`);
    }

    let handle: FileHandle;
    try {
      // O_EXCL: a partial file of another process's upload is never overwritten.
      handle = await open(partial, 'wx', this.fileMode);
    } catch (err) {
      if (errnoOf(err) === 'EEXIST') {
        throw new ImageDataExists(`Data for image ${imageId} is being uploaded.`);
      }
      throw mapFsError(err, 'write image data');
    }
    this.active.add(imageId);
    let closed = false;
    let published = false;
    try {
      const result = await ingest(source, options, (chunk) => writeAll(handle, chunk));
      await handle.sync();
      closed = true;
      await handle.close();
      await publish(partial, final, imageId);
      published = true;
      await unlink(partial).catch((err: unknown) => {
        if (errnoOf(err) !== 'ENOENT') throw err;
      });
      await fsyncPath(this.dir);
      return { location: SCHEME + final, ...result };
    } catch (err) {
      if (!closed) await handle.close().catch(() => undefined);
      await unlink(partial).catch(() => undefined);
      if (published) await unlink(final).catch(() => undefined);
      throw mapFsError(err, 'write image data');
    } finally {
      this.active.delete(imageId);
    }
  }

  async get(location: string, options: GetOptions = {}): Promise<Readable> {
    const path = this.mustPathOf(location);
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_RDONLY);
    } catch (err) {
      throw notFoundOr(err, location);
    }
    try {
      const { size } = await handle.stat();
      const { start, end } = resolveRange(size, options);
      if (end === start) {
        await handle.close();
        return Readable.from([]);
      }
      // createReadStream's `end` is inclusive.
      return createReadStream(path, {
        fd: handle,
        start,
        end: end - 1,
        highWaterMark: this.chunkSize,
        autoClose: true,
      });
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  async size(location: string): Promise<number> {
    const path = this.mustPathOf(location);
    try {
      return (await stat(path)).size;
    } catch (err) {
      throw notFoundOr(err, location);
    }
  }

  async exists(location: string): Promise<boolean> {
    return pathExists(this.mustPathOf(location));
  }

  async delete(location: string): Promise<void> {
    const path = this.mustPathOf(location);
    try {
      await unlink(path);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw mapFsError(err, 'delete image data');
    }
  }

  async cleanupPartials(options: PartialCleanup = {}): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw err;
    }
    const { olderThanMs, imageIds } = options;
    const cutoff = olderThanMs && !imageIds ? Date.now() - olderThanMs : Infinity;
    const removed: string[] = [];
    for (const name of names) {
      if (!name.endsWith(PARTIAL_SUFFIX)) continue;
      const imageId = name.slice(0, -PARTIAL_SUFFIX.length);
      if (imageIds && !imageIds.includes(imageId)) continue;
      if (this.active.has(imageId)) continue;
      const path = resolve(this.dir, name);
      try {
        const info = await lstat(path);
        if (!info.isFile() || info.mtimeMs > cutoff) continue;
        await unlink(path);
        removed.push(imageId);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err;
      }
    }
    return removed.sort();
  }
}

/**
 * Gives the finished partial file its final name, atomically. A hard link fails rather
 * than replace data stored meanwhile (the caller then unlinks the partial name); where
 * links are not supported, rename (which would replace it) is the fallback, after a
 * last check.
 */
async function publish(partial: string, final: string, imageId: string): Promise<void> {
  try {
    await link(partial, final);
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'EEXIST')
      throw new ImageDataExists(`Data for image ${imageId} is already stored.`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
      throw err;
    }
    if (await pathExists(final)) {
      throw new ImageDataExists(`Data for image ${imageId} is already stored.`);
    }
    await rename(partial, final);
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw err;
  }
}

function notFoundOr(err: unknown, location: string): unknown {
  if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'EISDIR') {
    return new ImageDataNotFound(`No image data is stored at ${location}.`);
  }
  return err;
}
