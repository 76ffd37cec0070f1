import type { Readable } from 'node:stream';
import { OverQuota } from '@stratus/common';
import {
  checkDiskFormat,
  ImageFormatMismatch,
  InspectingStream,
  UnsafeImage,
  type InspectionResult,
} from '../format/index.js';
import { ImageSizeLimitExceeded, type AddResult, type ImageStore } from '../store/index.js';
import type { ImageService } from './service.js';

/** Whether a failure means the bytes themselves are bad (the image is then killed). */
export function isBadData(err: unknown): boolean {
  return err instanceof ImageFormatMismatch || err instanceof UnsafeImage;
}

export interface IngestOptions {
  /** Most bytes to take. */
  sizeCap: number;
  /** True when `sizeCap` is a quota's remainder rather than image_size_cap. */
  capIsQuota?: boolean;
  expectedSize?: number;
  /** The declared disk_format to check the bytes against; undefined: no check (staging). */
  diskFormat?: string | null;
}

export interface Ingested extends AddResult {
  inspection: InspectionResult;
}

/**
 * Streams `source` into `store` under the image's id while inspecting it. The data
 * must match `diskFormat` and pass the safety checks, or it is removed again and the
 * 400 thrown. On any failure nothing stays in the store; `source` is never destroyed
 * (an HTTP request still needs its answer).
 */
export async function ingestData(
  imageId: string,
  source: Readable,
  store: ImageStore,
  options: IngestOptions,
): Promise<Ingested> {
  const inspector = new InspectingStream();
  const onError = (err: Error) => inspector.destroy(err);
  const onClose = () => {
    if (!source.readableEnded)
      inspector.destroy(
        new Error('The client closed the connection before sending all image data.'),
      );
  };
  source.once('error', onError);
  source.once('close', onClose);
  source.pipe(inspector);
  let added: AddResult;
  try {
    added = await store.add(imageId, inspector, {
      sizeCap: options.sizeCap,
      ...(options.expectedSize !== undefined ? { expectedSize: options.expectedSize } : {}),
    });
  } catch (err) {
    if (err instanceof ImageSizeLimitExceeded && options.capIsQuota)
      throw new OverQuota(
        `Denying attempt to upload image because it exceeds the quota: ${options.sizeCap} bytes remain.`,
      );
    throw err;
  } finally {
    source.off('error', onError);
    source.off('close', onClose);
    source.unpipe(inspector);
    if (!inspector.destroyed) inspector.destroy();
  }
  const inspection = inspector.result ?? inspector.inspector.finish();
  if (options.diskFormat) {
    try {
      checkDiskFormat(options.diskFormat, inspection);
    } catch (err) {
      await store.delete(added.location);
      throw err;
    }
  }
  return { ...added, inspection };
}

/** Keeps `heartbeat_at` fresh while this process writes an image's data. */
export function heartbeat(service: ImageService, imageId: string): () => void {
  const timer = setInterval(() => {
    service.db
      .updateTable('image')
      .set({ heartbeat_at: new Date() })
      .where('id', '=', imageId)
      .where('worker', '=', service.worker)
      .execute()
      .catch((err: unknown) => service.logger.warn({ err, image: imageId }, 'heartbeat failed'));
  }, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export const HEARTBEAT_MS = 10_000;
/** A claim whose heartbeat is older than this belongs to a process that died. */
export const STALE_MS = 60_000;
