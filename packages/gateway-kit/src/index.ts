export * from './config/index.js';
export * from './store/index.js';
