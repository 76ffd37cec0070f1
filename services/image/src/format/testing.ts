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
