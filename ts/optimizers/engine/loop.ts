/**
 * The stop rules every optimizer's search loop shares: an exhausted budget or an abort ends the search with the best
 * result so far (reason `budget` or `aborted`); any other error propagates.
 */
import { OptNativeError } from '../../errors.js';
import type { StopReason } from '../contract.js';
import { isStopError } from './steps.js';

/** Why a stop error ended the search; undefined for an error that is not a stop. */
export function stopReasonOf(error: unknown): Extract<StopReason, 'budget' | 'aborted'> | undefined {
  if (!isStopError(error)) return undefined;
  return error.code === 'E_BUDGET' ? 'budget' : 'aborted';
}

/**
 * Runs `loop` until it returns (its own stop reason) or a stop error ends it; `onStop` hears about the latter (a
 * progress event). Other errors propagate.
 */
export async function runSearchLoop(
  loop: () => Promise<StopReason | void>,
  onStop: (reason: 'budget' | 'aborted', error: OptNativeError) => void,
): Promise<StopReason | void> {
  try {
    return await loop();
  } catch (error) {
    const reason = stopReasonOf(error);
    if (reason === undefined) throw error;
    onStop(reason, error as OptNativeError);
    return reason;
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new OptNativeError('E_ABORTED', 'the optimization was aborted');
}
