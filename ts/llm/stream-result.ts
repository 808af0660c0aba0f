import type { GenerateResult, StreamChunk } from './types.js';

export type ModelStream = AsyncIterable<StreamChunk> & { result: Promise<GenerateResult> };

/**
 * Builds a LanguageModel stream from a producer that calls `emit(delta)` and resolves with the final result. The
 * producer starts at once (so `result` settles even if nobody iterates); deltas are buffered until read.
 */
export function createModelStream(produce: (emit: (delta: string) => void) => Promise<GenerateResult>): ModelStream {
  const buffered: string[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const result = produce((delta) => {
    if (delta === '') return;
    buffered.push(delta);
    notify();
  });
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  void settled.then(() => {
    finished = true;
    notify();
  });
  async function* chunks(): AsyncGenerator<StreamChunk> {
    for (;;) {
      const delta = buffered.shift();
      if (delta !== undefined) {
        yield { delta };
        continue;
      }
      if (finished) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    await result; // rethrows the producer's error to the reader
  }
  return Object.assign(chunks(), { result });
}

/** Drains a stream into its final result (used by wrappers that only need the result). */
export async function collectStream(stream: ModelStream): Promise<GenerateResult> {
  for await (const _chunk of stream) {
    // deltas are already part of the result
  }
  return stream.result;
}
