// How every addon call is made from TypeScript: an already-aborted signal is refused before crossing, and the
// addon's `[E_CODE] message` rejections come back as coded errors.
import { OptNativeError, fromNativeError } from '../errors.js';

function abortedError(cause?: unknown): OptNativeError {
  return new OptNativeError('E_ABORTED', 'the native call was aborted', { cause });
}

/** Runs a native call: refuses an already-aborted signal, maps `[E_CODE]` rejections back to coded errors. */
export async function callNative<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw abortedError(signal.reason);
  try {
    return await call();
  } catch (error) {
    // A task cancelled before it started rejects with a plain AbortError.
    if (error instanceof Error && error.name === 'AbortError') throw abortedError(error);
    throw fromNativeError(error);
  }
}
