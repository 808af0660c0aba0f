// Typed wrapper over the addon's `Model` class: coded errors, AbortSignal handling, token streams as async iterators.
import type {
  LoadModelOptions,
  Model,
  NativeGenerateOptions,
  NativeGenerateResult,
  NativeModelInfo,
  NativeScoreChoicesBatchOptions,
  NativeScoreChoicesOptions,
  NativeScoreChoicesResult,
} from '../../bindings/index.cjs';
import { fromNativeError } from '../errors.js';
import { callNative } from './call.js';
import { nativeBinding } from './binding.js';

export type {
  LoadModelOptions,
  NativeChatMessage,
  NativeGenerateOptions,
  NativeGenerateResult,
  NativeModelInfo,
  NativeScoreChoicesBatchOptions,
  NativeScoreChoicesOptions,
  NativeScoreChoicesResult,
  NativeScorePrompt,
} from '../../bindings/index.cjs';

export interface CallOptions {
  signal?: AbortSignal;
}

/** A text stream: iterate the pieces as they come; `result` resolves with the whole generation. */
export type NativeTokenStream = AsyncIterable<string> & { result: Promise<NativeGenerateResult> };

/** Buffers pieces pushed by a native callback and hands them out through an async iterator. */
function tokenStream(start: (onToken: (piece: string) => void) => Promise<NativeGenerateResult>): NativeTokenStream {
  const pending: string[] = [];
  let streamed = '';
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const result = start((piece) => {
    if (finished || piece === '') return;
    streamed += piece;
    pending.push(piece);
    notify();
  });
  void result.then(
    (output) => {
      finished = true;
      // Token callbacks and the task's completion travel on different queues: emit what has not arrived yet.
      if (output.text.length > streamed.length && output.text.startsWith(streamed)) {
        pending.push(output.text.slice(streamed.length));
      }
      notify();
    },
    () => {
      finished = true;
      notify();
    },
  );
  async function* pieces(): AsyncGenerator<string> {
    for (;;) {
      const piece = pending.shift();
      if (piece !== undefined) {
        yield piece;
        continue;
      }
      if (finished) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    await result; // rethrows the generation's error to the reader
  }
  return Object.assign(pieces(), { result });
}

export interface NativeLoadOptions extends LoadModelOptions, CallOptions {}

/**
 * A Qwen2/Qwen2.5 model running in the native addon. Every call runs on the libuv pool (the event loop stays free),
 * one at a time per model; errors are OptNativeError with the core's code.
 */
export class NativeModel {
  private constructor(
    private readonly model: Model,
    readonly path: string,
  ) {}

  /** Loads a .gguf file or an HF folder. A bare GGUF needs `tokenizerPath` (see ts/models `resolveModel`). */
  static async load(path: string, options: NativeLoadOptions = {}): Promise<NativeModel> {
    const { signal, ...loadOptions } = options;
    const model = await callNative(signal, () => nativeBinding().Model.load(path, loadOptions, signal));
    return new NativeModel(model, path);
  }

  info(): NativeModelInfo {
    try {
      return this.model.info();
    } catch (error) {
      throw fromNativeError(error);
    }
  }

  generate(options: NativeGenerateOptions, call: CallOptions = {}): Promise<NativeGenerateResult> {
    return callNative(call.signal, () => this.model.generate(options, call.signal));
  }

  /** Streams text pieces as they are generated. */
  stream(options: NativeGenerateOptions, call: CallOptions = {}): NativeTokenStream {
    return tokenStream((onToken) =>
      callNative(call.signal, () => this.model.stream(options, (piece: string) => onToken(piece), call.signal)),
    );
  }

  generateBatch(requests: NativeGenerateOptions[], call: CallOptions = {}): Promise<NativeGenerateResult[]> {
    return callNative(call.signal, () => this.model.generateBatch(requests, call.signal));
  }

  scoreChoices(options: NativeScoreChoicesOptions, call: CallOptions = {}): Promise<NativeScoreChoicesResult> {
    return callNative(call.signal, () => this.model.scoreChoices(options, call.signal));
  }

  /** Scores every prompt against the same choices; the prompts' common token prefix is computed once. */
  scoreChoicesBatch(
    options: NativeScoreChoicesBatchOptions,
    call: CallOptions = {},
  ): Promise<NativeScoreChoicesResult[]> {
    return callNative(call.signal, () => this.model.scoreChoicesBatch(options, call.signal));
  }

  tokenize(text: string): Promise<number[]> {
    return callNative(undefined, () => this.model.tokenize(text));
  }

  countTokens(text: string): Promise<number> {
    return callNative(undefined, () => this.model.countTokens(text));
  }

  /** Frees the weights after running calls finish; later calls fail with E_MODEL_DISPOSED. */
  dispose(): Promise<void> {
    return callNative(undefined, () => this.model.dispose());
  }
}
