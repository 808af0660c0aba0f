// LoRA fine-tuning in the native core: `finetune(options, { onProgress, signal })` trains a PEFT adapter into
// `options.outputDir` and resolves with the run's summary (docs/finetune.md).
import type { NativeFinetuneOptions, NativeFinetuneProgress, NativeTrainSummary } from '../../bindings/index.cjs';
import { callNative } from './call.js';
import { nativeBinding } from './binding.js';

export type FinetuneOptions = NativeFinetuneOptions;
export type FinetuneProgress = NativeFinetuneProgress;
export type FinetuneSummary = NativeTrainSummary;

export interface FinetuneCallOptions {
  /** Called after every optimizer step (loss, tokens/s, ETA, whether it checkpointed). */
  onProgress?: (progress: FinetuneProgress) => void;
  /** Stops the run at the next step boundary after writing a checkpoint; the promise rejects with E_ABORTED. */
  signal?: AbortSignal;
}

/**
 * Trains a LoRA adapter on chat JSONL with the native core; errors are OptNativeError with the core's code
 * (E_BAD_INPUT for bad options or data lines, E_MODEL_FORMAT for another architecture, E_ABORTED on abort).
 */
export function finetune(options: FinetuneOptions, call: FinetuneCallOptions = {}): Promise<FinetuneSummary> {
  const { onProgress, signal } = call;
  const progress = onProgress ? (value: FinetuneProgress) => onProgress(value) : undefined;
  return callNative(signal, () => nativeBinding().finetune(options, progress, signal));
}
