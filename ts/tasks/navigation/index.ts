export * from './examples.js';
export * from './program.js';
export * from './metric.js';
export * from './episodes.js';
