export * from './env.js';
export * from './section.js';
export * from './load.js';
export * from './sample.js';
export * from './core.js';
export * from './reference.js';
