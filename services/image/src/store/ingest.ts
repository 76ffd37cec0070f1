/**
 * What every store does alike: checking ids, ranges and sizes, and reading an upload
 * chunk by chunk while counting and hashing it.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BadRequest } from '@stratus/common';
import type { AddOptions, GetOptions } from './driver.js';
import {
  ImageSizeLimitExceeded,
  ImageSizeMismatch,
  InvalidImageId,
  InvalidImageRange,
} from './errors.js';

/** Suffix of the data of an upload in progress; never a valid image id. */
export const PARTIAL_SUFFIX = '.partial';

const IMAGE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;

/** Image ids name files and keys: no separators, no leading dot, no `.partial` suffix. */
export function checkImageId(imageId: string): void {
  if (!IMAGE_ID.test(imageId) || imageId.endsWith(PARTIAL_SUFFIX) || imageId.includes('..')) {
    throw new InvalidImageId(`Image id ${JSON.stringify(imageId)} cannot name stored data.`);
  }
}

function isByteCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function checkAddOptions(options: AddOptions): void {
  if (!isByteCount(options.sizeCap)) {
    throw new BadRequest(`sizeCap must be a non-negative integer, not ${options.sizeCap}.`);
  }
  const { expectedSize } = options;
  if (expectedSize !== undefined) {
    if (!isByteCount(expectedSize)) {
      throw new BadRequest(`The image size must be a non-negative integer, not ${expectedSize}.`);
    }
    if (expectedSize > options.sizeCap) throw sizeLimitExceeded(options.sizeCap);
  }
}

function sizeLimitExceeded(sizeCap: number): Error {
  return new ImageSizeLimitExceeded(
    `The provided image is too large: the limit is ${sizeCap} bytes.`,
    { sizeCap },
  );
}

function sizeMismatch(expected: number, actual: string | number): Error {
  return new ImageSizeMismatch(
    `Size of uploaded data (${actual} bytes) does not match the expected size (${expected} bytes).`,
    { expectedSize: expected },
  );
}

/** The byte range [start, end) that `options` asks of data of `size` bytes. */
export function resolveRange(
  size: number,
  options: GetOptions = {},
): { start: number; end: number } {
  const { offset = 0, length } = options;
  if (!isByteCount(offset) || (length !== undefined && !isByteCount(length))) {
    throw new InvalidImageRange(`Invalid range: offset ${offset}, length ${length}.`, { size });
  }
  if (offset > size) {
    throw new InvalidImageRange(`Offset ${offset} lies beyond the image's ${size} bytes.`, {
      size,
    });
  }
  const end = length === undefined ? size : Math.min(size, offset + length);
  return { start: offset, end };
}

/** The abort reason as an Error: the signal's own reason, or a standard AbortError. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('The upload was aborted.', 'AbortError');
}

export interface Ingested {
  size: number;
  md5: string;
  sha512: string;
}

/** Bytes gathered before one `write`: fewer, larger writes cost less per byte. */
export const WRITE_BATCH = 1024 * 1024;

/**
 * Reads `source` to its end, counting and hashing each chunk and handing the data to
 * `write` in batches of about WRITE_BATCH bytes. One write is in flight while the next
 * batch is read and hashed (hashing md5 and sha512 costs as much as the disk), and a
 * new write waits for the previous one: that is the backpressure. Fails as soon as the byte count passes
 * the size cap or the expected size, when the signal aborts (even while the source is
 * silent), or when the source fails. Does not clean up: the caller removes what `write`
 * stored. Does not destroy `source` either.
 */
export async function ingest(
  source: Readable,
  options: AddOptions,
  write: (chunk: Buffer) => Promise<void>,
): Promise<Ingested> {
  const { sizeCap, expectedSize, signal } = options;
  signal?.throwIfAborted();
  const md5 = createHash('md5');
  const sha512 = createHash('sha512');
  let size = 0;

  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    if (!signal) return;
    onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined); // raced below; never an unhandled rejection

  const chunks = source.iterator({ destroyOnReturn: false });
  let finished = false;
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let writing: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    if (batchBytes === 0) return;
    const data = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batchBytes);
    batch = [];
    batchBytes = 0;
    if (writing) await writing;
    writing = write(data);
    // Observed by the next flush or at the end; never an unhandled rejection meanwhile.
    writing.catch(() => undefined);
  };
  try {
    for (;;) {
      const next = await (signal ? Promise.race([chunks.next(), aborted]) : chunks.next());
      if (next.done) break;
      const value: unknown = next.value;
      if (!(value instanceof Uint8Array)) {
        throw new TypeError('Image data must be a stream of bytes, not of strings or objects.');
      }
      const chunk = Buffer.isBuffer(value)
        ? value
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      size += chunk.length;
      if (size > sizeCap) throw sizeLimitExceeded(sizeCap);
      if (expectedSize !== undefined && size > expectedSize) {
        throw sizeMismatch(expectedSize, `more than ${expectedSize}`);
      }
      md5.update(chunk);
      sha512.update(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BATCH) await flush();
      signal?.throwIfAborted();
    }
    await flush();
    if (writing) await writing;
    finished = true;
  } finally {
    // A write is never raced with the signal or left running: the caller's cleanup must
    // not run beside it.
    if (writing) await writing.catch(() => undefined);
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    // Stop listening to the source. A pending read (after an abort) keeps its place in
    // the iterator's queue, so this must not be awaited.
    if (!finished) chunks.return?.().catch(() => undefined);
  }
  if (expectedSize !== undefined && size !== expectedSize) throw sizeMismatch(expectedSize, size);
  return { size, md5: md5.digest('hex'), sha512: sha512.digest('hex') };
}
