export * from './requirements.js';
export * from './tmp.js';
