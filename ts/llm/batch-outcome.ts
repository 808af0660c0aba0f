/** The answers that did arrive in a batch that failed, keyed by the error it failed with. */
const arrivedBeforeFailure = new WeakMap<object, readonly unknown[]>();

/**
 * Awaits a batch made of independent calls (an HTTP provider's batch is that many requests). When some fail it
 * throws the first failure, in request order, with the answers that did arrive attached (see `answersOfFailedBatch`):
 * the cache and the budget above keep and count them, so a retry never pays for them again.
 */
export async function settleBatch<T>(calls: Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(calls);
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (!failure) return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
  const error: unknown = failure.reason;
  if (typeof error === 'object' && error !== null) {
    arrivedBeforeFailure.set(
      error,
      outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : undefined)),
    );
  }
  throw error;
}

/** The answer for each request of the batch that failed with `error` (undefined where none came). */
export function answersOfFailedBatch<T>(error: unknown): readonly (T | undefined)[] {
  const arrived = typeof error === 'object' && error !== null ? arrivedBeforeFailure.get(error) : undefined;
  return (arrived ?? []) as readonly (T | undefined)[];
}
