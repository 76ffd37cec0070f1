export * from './store/index.js';
export * from './format/index.js';
