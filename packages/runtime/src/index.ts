export * from './ports.js';
export * from './host-facts.js';
export * from './sections.js';
export * from './service.js';
export * from './cloud.js';
export * from './roles.js';
export * from './logging.js';
