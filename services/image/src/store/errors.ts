/**
 * Errors of the image store layer. The API layer turns each into Glance's error body
 * with the status given here.
 */
import { BadRequest, Conflict, NotFound, ServiceUnavailable, defineError } from '@stratus/common';

/** More bytes arrived than the size cap (Glance's `image_size_cap`) allows. */
export const ImageSizeLimitExceeded = defineError(
  'ImageSizeLimitExceeded',
  413,
  'The provided image is too large.',
);

/** The data did not have the size the client announced. */
export const ImageSizeMismatch = defineError(
  'ImageSizeMismatch',
  400,
  'The size of the uploaded data does not match the expected size.',
  { parent: BadRequest },
);

/** The image id cannot name an object in a store (path separators, dots, too long). */
export const InvalidImageId = defineError(
  'InvalidImageId',
  400,
  'The image id cannot be used to name stored image data.',
  { parent: BadRequest },
);

/** The location is malformed, or belongs to another store than the one asked. */
export const InvalidStoreLocation = defineError(
  'InvalidStoreLocation',
  400,
  'The image location is not valid for this store.',
  { parent: BadRequest },
);

/** The location is well formed, but no data is stored there. */
export const ImageDataNotFound = defineError(
  'ImageDataNotFound',
  404,
  'No image data is stored at this location.',
  { parent: NotFound },
);

/** The requested byte range lies outside the stored data. */
export const InvalidImageRange = defineError(
  'InvalidImageRange',
  416,
  'The requested range cannot be satisfied.',
);

/** Data for this image is already stored, or is being uploaded right now. */
export const ImageDataExists = defineError(
  'ImageDataExists',
  409,
  'Image data with this id already exists in the store.',
  { parent: Conflict },
);

/** The store's medium is full (ENOSPC, EFBIG). */
export const StorageFull = defineError(
  'StorageFull',
  413,
  'There is not enough disk space on the image storage media.',
);

/** The store may not write to its medium (EACCES, EPERM, EROFS). */
export const StorageWriteDenied = defineError(
  'StorageWriteDenied',
  503,
  'Permission to write image data was denied by the image store.',
  { parent: ServiceUnavailable },
);

/** No store with this id is configured. */
export const UnknownImageStore = defineError(
  'UnknownImageStore',
  400,
  'No image store with this identifier is configured.',
  { parent: BadRequest },
);
