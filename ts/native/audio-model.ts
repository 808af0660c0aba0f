// Typed wrapper over the addon's `AudioModel` class (native Qwen2-Audio): coded errors and AbortSignal handling.
// Its `classify` has the `AudioClassifier` shape that ts/audio/classifier-model.ts turns into a LanguageModel.
import type {
  AudioModel,
  LoadAudioModelOptions,
  NativeAudioCacheStats,
  NativeClipAnswer,
  NativeGenerateResult,
} from '../../bindings/index.cjs';
import { callNative } from './call.js';
import { nativeBinding } from './binding.js';

export type { LoadAudioModelOptions, NativeAudioCacheStats, NativeClipAnswer } from '../../bindings/index.cjs';

/** 16 kHz mono samples, or a WAV/FLAC/MP3/OGG file path (decoded and resampled natively). */
export type AudioClip = Float32Array | string;

export type AudioClassifyMode = 'generate' | 'score';

export interface AudioClassifyOptions {
  /** Label names, e.g. `['SPEECH', 'NON-SPEECH']`. */
  labels: readonly string[];
  /** `score` (default): log-probability of each label; `generate`: greedy answer normalized to a label. */
  mode?: AudioClassifyMode;
  /** Tokens generated per clip in `generate` mode (default 8). */
  maxNewTokens?: number;
  signal?: AbortSignal;
}

/** The answer for one clip. */
export interface AudioClipResult {
  /** The label the answer means, or null when it names none. */
  label: string | null;
  /** Generated text (`generate`) or the best label (`score`). */
  raw: string;
  /** `score` mode: probability of each label (softmax of the label log-probabilities). */
  probabilities?: Readonly<Record<string, number>>;
  /** `score` mode: natural-log probability of each label. */
  logprobs?: Readonly<Record<string, number>>;
  usage: { promptTokens: number; completionTokens: number };
  /** Set when the clip is longer than the model's 30 s window: only its first 30 s were heard. */
  truncated?: true;
}

/** One clip's answer as `classify` gives it: the text, the label it means (null = none) and the tokens it took. */
export interface AudioClassifyAnswer {
  readonly text: string;
  readonly label: string | null;
  readonly usage: { promptTokens: number; completionTokens: number };
}

export interface AudioGenerateOptions {
  maxNewTokens?: number;
  signal?: AbortSignal;
}

export interface AudioModelLoadOptions {
  device?: 'cpu' | 'cuda';
  deviceIndex?: number;
  dtype?: 'f32' | 'f16' | 'bf16';
  /** PEFT LoRA adapter folder, merged at load. */
  lora?: string;
  /** Default: the model folder's tokenizer.json (must have the audio special tokens). */
  tokenizerPath?: string;
  signal?: AbortSignal;
}

function byLabel(labels: readonly string[], values: readonly number[] | undefined): Record<string, number> | undefined {
  if (values === undefined) return undefined;
  return Object.fromEntries(labels.map((label, index) => [label, values[index] as number]));
}

function toResult(labels: readonly string[], answer: NativeClipAnswer): AudioClipResult {
  return {
    label: answer.label ?? null,
    raw: answer.text,
    probabilities: byLabel(labels, answer.probabilities),
    logprobs: byLabel(labels, answer.logprobs),
    usage: { promptTokens: answer.usage.promptTokens, completionTokens: answer.usage.completionTokens },
    ...(answer.truncated ? { truncated: true as const } : {}),
  };
}

/**
 * Qwen2-Audio running in the native addon. Calls run on the libuv pool, one at a time per model; encoder outputs are
 * cached per clip (content hash), so a second prompt on the same clips skips the audio encoder.
 */
export class NativeAudioModel {
  private constructor(
    private readonly model: AudioModel,
    readonly path: string,
  ) {}

  /** Loads an HF Qwen2-Audio folder (config.json, safetensors, tokenizer.json with the audio tokens). */
  static async load(path: string, options: AudioModelLoadOptions = {}): Promise<NativeAudioModel> {
    const { signal, ...loadOptions } = options;
    const model = await callNative(signal, () =>
      nativeBinding().AudioModel.load(path, loadOptions as LoadAudioModelOptions, signal),
    );
    return new NativeAudioModel(model, path);
  }

  /** One result per clip, in order. */
  async classifyClips(
    clips: readonly AudioClip[],
    prompt: string,
    options: AudioClassifyOptions,
  ): Promise<AudioClipResult[]> {
    const { signal, labels, mode, maxNewTokens } = options;
    const answers = await callNative(signal, () =>
      this.model.classify([...clips], prompt, { labels: [...labels], mode, maxNewTokens }, signal),
    );
    return answers.map((answer) => toResult(labels, answer));
  }

  /** The `AudioClassifier` call (ts/audio/classifier-model.ts): raw text, native label and usage per clip. */
  async classify(
    clips: readonly Float32Array[],
    prompt: string,
    options: { labels: readonly string[]; mode: AudioClassifyMode; maxNewTokens?: number; signal?: AbortSignal },
  ): Promise<AudioClassifyAnswer[]> {
    const results = await this.classifyClips(clips, prompt, options);
    return results.map((result) => ({ text: result.raw, label: result.label, usage: result.usage }));
  }

  /** Greedy answer to `prompt` about one clip. */
  generate(clip: AudioClip, prompt: string, options: AudioGenerateOptions = {}): Promise<NativeGenerateResult> {
    const { signal, maxNewTokens } = options;
    return callNative(signal, () => this.model.generate(clip, prompt, { maxNewTokens }, signal));
  }

  /** Encoder-cache hits (clips whose encoder output was reused) and misses since load. */
  cacheStats(): Promise<NativeAudioCacheStats> {
    return callNative(undefined, () => this.model.cacheStats());
  }

  /** Frees the weights after running calls finish; later calls fail with E_MODEL_DISPOSED. */
  dispose(): Promise<void> {
    return callNative(undefined, () => this.model.dispose());
  }
}
