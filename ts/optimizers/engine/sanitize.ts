/**
 * Candidate screening shared by every optimizer. The rules still live in ../opro/sanitize.ts (kept in place while it
 * is being extended); the engine and the other optimizers import them from here.
 */
export * from '../opro/sanitize.js';
