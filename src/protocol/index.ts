export * from './frames.js';
export * from './limits.js';
export * from './http.js';
export * from './exec-query.js';
export * from './errors.js';
export * from './input-pacer.js';
