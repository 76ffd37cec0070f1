import { BadRequest, defineError } from '@stratus/common';
import type { InspectionResult } from './types.js';
import type { ImageFormat } from './types.js';

export const ImageFormatMismatch = defineError(
  'ImageFormatMismatch',
  400,
  'The image data does not match its disk_format.',
  { parent: BadRequest },
);

export const UnsafeImage = defineError('UnsafeImage', 400, 'The image data failed safety checks.', {
  parent: BadRequest,
});

/**
 * The detected formats each declared disk_format accepts. Kernel, ramdisk and machine
 * images (aki/ari/ami) are plain bytes; an ISO must carry an ISO 9660/UDF volume
 * descriptor (hybrid ISOs with an MBR/GPT are still detected as iso). Everything else
 * must be exactly what it claims: in particular a qcow2 uploaded as raw is refused.
 */
export const ACCEPTED_FORMATS: Readonly<Record<string, readonly ImageFormat[]>> = {
  raw: ['raw'],
  ami: ['raw'],
  ari: ['raw'],
  aki: ['raw'],
  iso: ['iso'],
  qcow2: ['qcow2'],
  vmdk: ['vmdk'],
  vhd: ['vhd'],
  vhdx: ['vhdx'],
  vdi: ['vdi'],
};

/**
 * Refuses image data whose detected format is not what `disk_format` declares, or
 * which failed a safety check. Both are 400s with a message naming the problem.
 */
export function checkDiskFormat(declared: string, result: InspectionResult): void {
  const accepted = ACCEPTED_FORMATS[declared];
  if (!accepted) {
    throw new ImageFormatMismatch(
      `Image data cannot be verified against disk_format '${declared}'.`,
      { declared, detected: result.format },
    );
  }
  if (!accepted.includes(result.format)) {
    throw new ImageFormatMismatch(
      `Image data is ${result.format} but disk_format is '${declared}'.`,
      { declared, detected: result.format },
    );
  }
  if (result.safetyProblems.length > 0) {
    throw new UnsafeImage(
      `Image data (${result.format}) failed safety checks: ${result.safetyProblems.join('; ')}.`,
      { declared, detected: result.format, problems: [...result.safetyProblems] },
    );
  }
}
