import { OptNativeError, type ErrorCode } from '../errors.js';

export { errorText } from '../errors.js';

/** Errors that another attempt cannot fix: bad specs, missing files or models. */
const PERMANENT: ReadonlySet<ErrorCode> = new Set([
  'E_BAD_INPUT',
  'E_FILE_NOT_FOUND',
  'E_EMPTY_TABLE',
  'E_MODEL_NOT_FOUND',
  'E_MODEL_FORMAT',
  'E_NATIVE_UNAVAILABLE',
  'E_ABORTED',
]);

export function isRetryable(error: unknown): boolean {
  return !(error instanceof OptNativeError && PERMANENT.has(error.code));
}

/** Exponential backoff: `base`, 2·base, 4·base, … after the 1st, 2nd, 3rd failed attempt. */
export function backoffDelayMs(baseMs: number, failedAttempts: number): number {
  return baseMs * 2 ** Math.max(0, failedAttempts - 1);
}
