/**
 * The image store driver interface: where image data lives (ARCHITECTURE.md, "Drivers").
 * Glance keeps the image record in its database and the bytes in a store; a store only
 * knows opaque image ids and the locations it hands back.
 */
import type { Readable } from 'node:stream';

export interface AddOptions {
  /** The most bytes the image may have (Glance's `image_size_cap`); more fail with 413. */
  sizeCap: number;
  /** The size the client announced; any other size fails with 400. */
  expectedSize?: number;
  /** Aborting stops the upload and removes what was written. */
  signal?: AbortSignal;
}

export interface AddResult {
  /** Where the data is, as recorded in the image's `locations` (e.g. `file:///var/lib/x`). */
  location: string;
  /** Bytes stored. */
  size: number;
  /** Hex md5 of the data: Glance's `checksum`. */
  md5: string;
  /** Hex sha512 of the data: Glance's `os_hash_value` with `os_hash_algo` sha512. */
  sha512: string;
}

export interface GetOptions {
  /** First byte to return (default 0). */
  offset?: number;
  /** Most bytes to return (default: to the end); a range past the end is cut at the end. */
  length?: number;
}

/** One entry of Glance's `GET /v2/info/stores`. */
export interface StoreDescriptor {
  id: string;
  type: string;
  description: string;
  isDefault: boolean;
}

/** Which partial uploads `cleanupPartials` removes. */
export interface PartialCleanup {
  /** Only those older than this (default: any age). */
  olderThanMs?: number;
  /** Only those of these images, whatever their age. */
  imageIds?: readonly string[];
}

export interface ImageStore {
  readonly descriptor: StoreDescriptor;

  /**
   * Streams `source` into the store under `imageId`, hashing on the fly. Never buffers
   * the whole image. On any failure (size cap, size mismatch, abort, source error,
   * storage error) nothing of the upload stays behind. The store stops reading `source`
   * on failure but does not destroy it: the caller owns it (an HTTP request whose body
   * was refused still needs its 413 response).
   *
   * Errors: ImageSizeLimitExceeded (413), ImageSizeMismatch (400), InvalidImageId (400),
   * ImageDataExists (409), StorageFull (413), StorageWriteDenied (503), the signal's
   * reason on abort, the source's own error.
   */
  add(imageId: string, source: Readable, options: AddOptions): Promise<AddResult>;

  /**
   * The data at `location`, or the range of it asked for, as a stream of chunks.
   * Resolves only once the data is known to exist, so a caller can still answer 404
   * (ImageDataNotFound) or 416 (InvalidImageRange) before sending anything.
   */
  get(location: string, options?: GetOptions): Promise<Readable>;

  /** Bytes stored at `location`; ImageDataNotFound when there are none. */
  size(location: string): Promise<number>;

  /** Whether data is stored at `location`. */
  exists(location: string): Promise<boolean>;

  /** Removes the data at `location`. Deleting what is not there succeeds (idempotent). */
  delete(location: string): Promise<void>;

  /** Whether `location` names data of this store (its scheme, its place); never throws. */
  owns(location: string): boolean;

  /**
   * Startup recovery: removes uploads that a previous process left unfinished (a crash
   * or restart mid-upload). Uploads in progress in this process are kept. Returns the
   * image ids whose partial data was removed. With `imageIds`, only the partial data
   * of those images goes, however fresh (their uploads are known to be dead).
   */
  cleanupPartials(options?: PartialCleanup): Promise<string[]>;
}
