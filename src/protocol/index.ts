export * from './frames.js';
export * from './limits.js';
