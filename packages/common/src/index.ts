export * from './errors.js';
export * from './ids.js';
export * from './time.js';
export * from './logger.js';
