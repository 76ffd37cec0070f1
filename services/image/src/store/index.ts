export * from './driver.js';
export * from './errors.js';
export * from './file.js';
export * from './fake.js';
export * from './registry.js';
export { checkImageId, resolveRange } from './ingest.js';
