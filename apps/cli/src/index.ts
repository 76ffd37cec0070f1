export { main } from './main.js';
export { SERVICES } from './services.js';
