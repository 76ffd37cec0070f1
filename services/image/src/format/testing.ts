import assert from 'node:assert/strict';
import { ImageInspector } from './inspector.js';
import type { InspectionResult } from './types.js';

// Test helpers (not exported from the package index).

const CHUNKINGS = [1, 7, 512, 4093, 65536];

/** Feeds `data` in chunks of `size` bytes. */
export function inspectIn(data: Buffer, size: number): InspectionResult {
  const inspector = new ImageInspector();
  for (let at = 0; at < data.length; at += size) inspector.push(data.subarray(at, at + size));
  return inspector.finish();
}

/** Inspects with every chunking and asserts they all agree; returns the result. */
export function inspectAllWays(data: Buffer, sizes = CHUNKINGS): InspectionResult {
  const whole = inspectIn(data, Math.max(data.length, 1));
  for (const size of sizes) assert.deepEqual(inspectIn(data, size), whole, `chunk size ${size}`);
  return whole;
}

/** A qcow2 header (version 3, 1 GiB, 64 KiB clusters), with the fields a test names. */
export function qcow2Header(
  opts: { version?: number; backing?: bigint; incompat?: bigint } = {},
): Buffer {
  const h = Buffer.alloc(512);
  h.write('QFI\xfb', 0, 'latin1');
  h.writeUInt32BE(opts.version ?? 3, 4);
  h.writeBigUInt64BE(opts.backing ?? 0n, 8);
  h.writeUInt32BE(16, 20); // 64 KiB clusters
  h.writeBigUInt64BE(1n << 30n, 24); // 1 GiB
  h.writeBigUInt64BE(opts.incompat ?? 0n, 72);
  h.writeUInt32BE(4, 96);
  h.writeUInt32BE(104, 100); // header_length; extensions (end marker: zeros) follow
  return h;
}

/** A monolithic sparse VMDK whose embedded descriptor is `descriptor`. */
export function sparseVmdk(descriptor: string, capacitySectors = 2048n): Buffer {
  const img = Buffer.alloc(512 + 20 * 512);
  img.write('KDMV', 0, 'latin1');
  img.writeUInt32LE(1, 4);
  img.writeBigUInt64LE(capacitySectors, 12);
  img.writeBigUInt64LE(128n, 20);
  img.writeBigUInt64LE(1n, 28);
  img.writeBigUInt64LE(20n, 36);
  img.writeUInt32LE(512, 44);
  img.writeBigUInt64LE(21n, 48);
  img.writeBigUInt64LE(22n, 56);
  img.write(descriptor, 512, 'latin1');
  return img;
}

/** The descriptor of a well-formed single-extent sparse VMDK. */
export const VMDK_DESCRIPTOR = [
  '# Disk DescriptorFile',
  'version=1',
  'CID=12345678',
  'parentCID=ffffffff',
  'createType="monolithicSparse"',
  '',
  '# Extent description',
  'RW 2048 SPARSE "disk.vmdk"',
  '',
  'ddb.virtualHWVersion = "4"',
  '',
].join('\n');
