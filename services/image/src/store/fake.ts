/**
 * The `fake` store: image data in this process's memory, for tests and for the
 * all-in-one's fake mode. It behaves as the real stores do (same checks, same errors,
 * same cleanup) and can be told to fail: after some bytes of an upload, on delete, or
 * partway through a read, and to read or write slowly.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ValidationError, defineError } from '@stratus/common';
import type {
  AddOptions,
  AddResult,
  GetOptions,
  ImageStore,
  PartialCleanup,
  StoreDescriptor,
} from './driver.js';
import { ImageDataExists, ImageDataNotFound, InvalidStoreLocation } from './errors.js';
import { checkAddOptions, checkImageId, ingest, resolveRange } from './ingest.js';

/** The failure a fake store was told to inject. */
export const InjectedStoreFault = defineError(
  'InjectedStoreFault',
  500,
  'The fake image store failed as it was told to.',
);

export interface FakeStoreConfig {
  type: 'fake';
  /** The store's id (default `fake`); also the host part of its locations. */
  id?: string;
  description?: string;
  isDefault?: boolean;
  /** Most bytes per chunk that `get` returns (default 64 KiB). */
  chunkSize?: number;
}

/** What to break. Change the fields at any time; each call reads them when it starts. */
export interface FakeStoreFaults {
  /** `add` fails once an upload would store more than this many bytes. */
  failAddAfterBytes?: number;
  /** `delete` fails (with this error, or InjectedStoreFault) and keeps the data. */
  failDelete?: boolean | Error;
  /** The stream of `get` fails once it would pass this many bytes. */
  failReadAfterBytes?: number;
  /** Delay before each chunk `get` returns. */
  readDelayMs?: number;
  /** Delay before each chunk of an upload is stored. */
  writeDelayMs?: number;
  /** The error of `failAddAfterBytes` and `failReadAfterBytes` (default InjectedStoreFault). */
  error?: () => Error;
}

interface Stored {
  chunks: Buffer[];
  size: number;
  /** When the upload started (Date.now()). */
  startedAt: number;
}

const SCHEME = 'fake://';

export class FakeStore implements ImageStore {
  readonly descriptor: StoreDescriptor;
  faults: FakeStoreFaults = {};
  private readonly chunkSize: number;
  private readonly images = new Map<string, Stored>();
  /** Uploads not finished: active ones, and stale ones planted by `plantStalePartial`. */
  private readonly partials = new Map<string, Stored>();
  private readonly active = new Set<string>();

  constructor(config: FakeStoreConfig = { type: 'fake' }) {
    const id = config.id ?? 'fake';
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new ValidationError(`Invalid store id ${id}.`);
    this.chunkSize = config.chunkSize ?? 64 * 1024;
    if (!Number.isSafeInteger(this.chunkSize) || this.chunkSize < 1) {
      throw new ValidationError(`chunkSize must be a positive integer, not ${config.chunkSize}.`);
    }
    this.descriptor = {
      id,
      type: 'fake',
      description: config.description ?? 'Images in memory (fake store)',
      isDefault: config.isDefault ?? false,
    };
  }

  /** What the store holds: finished images and unfinished uploads, by image id. */
  contents(): { images: string[]; partials: string[] } {
    return { images: [...this.images.keys()].sort(), partials: [...this.partials.keys()].sort() };
  }

  /** Leaves an unfinished upload behind, as a process that died mid-upload would. */
  plantStalePartial(imageId: string, data: Buffer = Buffer.alloc(0), startedAt = Date.now()): void {
    checkImageId(imageId);
    this.partials.set(imageId, { chunks: [Buffer.from(data)], size: data.length, startedAt });
  }

  private imageIdOf(location: string): string | null {
    const prefix = `${SCHEME}${this.descriptor.id}/`;
    if (typeof location !== 'string' || !location.startsWith(prefix)) return null;
    const imageId = location.slice(prefix.length);
    try {
      checkImageId(imageId);
    } catch {
      return null;
    }
    return imageId;
  }

  private mustImageIdOf(location: string): string {
    const imageId = this.imageIdOf(location);
    if (imageId === null) {
      throw new InvalidStoreLocation(
        `Location ${JSON.stringify(location)} is not an image of the fake store ${this.descriptor.id}.`,
      );
    }
    return imageId;
  }

  private mustGet(location: string): Stored {
    const stored = this.images.get(this.mustImageIdOf(location));
    if (!stored) throw new ImageDataNotFound(`No image data is stored at ${location}.`);
    return stored;
  }

  owns(location: string): boolean {
    return this.imageIdOf(location) !== null;
  }

  async add(imageId: string, source: Readable, options: AddOptions): Promise<AddResult> {
    checkImageId(imageId);
    checkAddOptions(options);
    options.signal?.throwIfAborted();
    if (this.images.has(imageId)) {
      throw new ImageDataExists(`Data for image ${imageId} is already stored.`);
    }
    if (this.partials.has(imageId)) {
      throw new ImageDataExists(`Data for image ${imageId} is being uploaded.`);
    }
    const faults = { ...this.faults };
    const partial: Stored = { chunks: [], size: 0, startedAt: Date.now() };
    this.partials.set(imageId, partial);
    this.active.add(imageId);
    try {
      const result = await ingest(source, options, async (chunk) => {
        if (faults.writeDelayMs) await sleep(faults.writeDelayMs);
        const limit = faults.failAddAfterBytes;
        if (limit !== undefined && partial.size + chunk.length > limit) {
          throw injected(faults, `The fake store failed after ${limit} bytes of the upload.`);
        }
        // A copy: the source may reuse its buffers.
        partial.chunks.push(Buffer.from(chunk));
        partial.size += chunk.length;
      });
      this.images.set(imageId, partial);
      return { location: `${SCHEME}${this.descriptor.id}/${imageId}`, ...result };
    } finally {
      this.partials.delete(imageId);
      this.active.delete(imageId);
    }
  }

  async get(location: string, options: GetOptions = {}): Promise<Readable> {
    const stored = this.mustGet(location);
    const { start, end } = resolveRange(stored.size, options);
    const faults = { ...this.faults };
    // A snapshot: like an open file, a read in progress survives a delete.
    const chunks = [...stored.chunks];
    return Readable.from(readRange(chunks, start, end, this.chunkSize, faults), {
      objectMode: false,
    });
  }

  async size(location: string): Promise<number> {
    return this.mustGet(location).size;
  }

  async exists(location: string): Promise<boolean> {
    return this.images.has(this.mustImageIdOf(location));
  }

  async delete(location: string): Promise<void> {
    const imageId = this.mustImageIdOf(location);
    const { failDelete } = this.faults;
    if (failDelete) {
      throw failDelete instanceof Error
        ? failDelete
        : new InjectedStoreFault(`The fake store failed to delete ${location}.`);
    }
    this.images.delete(imageId);
  }

  async cleanupPartials(options: PartialCleanup = {}): Promise<string[]> {
    const { olderThanMs, imageIds } = options;
    const cutoff = olderThanMs && !imageIds ? Date.now() - olderThanMs : Infinity;
    const removed: string[] = [];
    for (const [imageId, partial] of [...this.partials]) {
      if (imageIds && !imageIds.includes(imageId)) continue;
      if (this.active.has(imageId) || partial.startedAt > cutoff) continue;
      this.partials.delete(imageId);
      removed.push(imageId);
    }
    return removed.sort();
  }
}

function injected(faults: FakeStoreFaults, message: string): Error {
  return faults.error ? faults.error() : new InjectedStoreFault(message);
}

async function* readRange(
  chunks: readonly Buffer[],
  start: number,
  end: number,
  chunkSize: number,
  faults: FakeStoreFaults,
): AsyncGenerator<Buffer> {
  let position = 0;
  let sent = 0;
  for (const chunk of chunks) {
    const chunkStart = position;
    position += chunk.length;
    if (position <= start) continue;
    if (chunkStart >= end) break;
    let from = Math.max(start, chunkStart) - chunkStart;
    const to = Math.min(end, position) - chunkStart;
    while (from < to) {
      const piece = chunk.subarray(from, Math.min(to, from + chunkSize));
      from += piece.length;
      if (faults.readDelayMs) await sleep(faults.readDelayMs);
      const limit = faults.failReadAfterBytes;
      if (limit !== undefined && sent + piece.length > limit) {
        throw injected(faults, `The fake store failed after reading ${limit} bytes.`);
      }
      sent += piece.length;
      yield piece;
    }
  }
}
