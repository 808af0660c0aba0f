// OPRO's PromptEvaluator for audio manifests: classify the clips with a prompt, reward terms BA_clip and BA_cond.
// The classifier is the native Qwen2-Audio model (`NativeAudioModel`); anything with the same shape plugs in
// (tests use a scripted one).
import type { AudioExample } from '../datasets/audio-manifest.js';
import { OptNativeError } from '../errors.js';
import type { PromptEvaluator, PromptScore } from '../optimizers/engine/evaluator.js';
import { scoreByCondition } from './condition-scores.js';
import { decodeToMono16k, type SoxOptions } from './sox.js';

/** One clip's answer: raw text, or the text with the label the model itself resolved (null = none). */
export type AudioAnswer = string | { readonly text: string; readonly label: string | null };

/** The audio model's classify call (`NativeAudioModel` implements it): one answer per clip (16 kHz mono samples). */
export interface AudioClassifier {
  classify(
    clips: readonly Float32Array[],
    prompt: string,
    options: { labels: readonly string[]; mode: 'generate' | 'score'; signal?: AbortSignal },
  ): Promise<readonly AudioAnswer[]>;
}

/** One clip's prediction: what the model said and the label it means (null = no usable answer). */
export interface AudioPrediction {
  readonly raw: string;
  readonly label: string | null;
}

export interface AudioPromptEvaluatorOptions extends SoxOptions {
  clips: readonly AudioExample[];
  labels: readonly string[];
  conditionColumns: readonly string[];
  classifier: AudioClassifier;
  mode?: 'generate' | 'score';
  /** Clips per classify call (default 16). */
  batchSize?: number;
}

const normalized = (text: string) =>
  text
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '');

/** The label an answer names: the whole answer, or its start (longest label first: NON-SPEECH before SPEECH). */
export function answerLabel(answer: string, labels: readonly string[]): string | null {
  const text = normalized(answer);
  const byLength = [...labels].sort((a, b) => normalized(b).length - normalized(a).length);
  return (
    byLength.find((label) => text === normalized(label)) ??
    byLength.find((label) => text.startsWith(normalized(label))) ??
    null
  );
}

function toPrediction(answer: AudioAnswer, labels: readonly string[]): AudioPrediction {
  if (typeof answer === 'string') return { raw: answer, label: answerLabel(answer, labels) };
  return { raw: answer.text, label: answer.label };
}

export interface ClassifyAudioOptions {
  labels: readonly string[];
  classifier: AudioClassifier;
  mode?: 'generate' | 'score';
  /** Clips per classify call (default 16). */
  batchSize?: number;
  signal?: AbortSignal;
}

/** Classifies decoded clips in batches; one prediction per clip, in order. */
export async function classifyAudio(
  samples: readonly Float32Array[],
  prompt: string,
  options: ClassifyAudioOptions,
): Promise<AudioPrediction[]> {
  const batchSize = Math.max(1, options.batchSize ?? 16);
  const predictions: AudioPrediction[] = [];
  for (let start = 0; start < samples.length; start += batchSize) {
    if (options.signal?.aborted) throw new OptNativeError('E_ABORTED', 'evaluation aborted');
    const batch = samples.slice(start, start + batchSize);
    const replies = await options.classifier.classify(batch, prompt, {
      labels: options.labels,
      mode: options.mode ?? 'score',
      signal: options.signal,
    });
    if (replies.length !== batch.length) {
      throw new OptNativeError('E_INTERNAL', `classify returned ${replies.length} answers for ${batch.length} clips`);
    }
    predictions.push(...replies.map((reply) => toPrediction(reply, options.labels)));
  }
  return predictions;
}

/** Decodes manifest clips to 16 kHz mono (sox), in order. */
export function decodeClips(clips: readonly AudioExample[], options: SoxOptions = {}): Promise<Float32Array[]> {
  return Promise.all(clips.map((clip) => decodeToMono16k(clip.audioPath, options)));
}

/** Scores prompts on manifest clips; the decoded audio is kept, since every candidate prompt sees the same clips. */
export function audioPromptEvaluator(options: AudioPromptEvaluatorOptions): PromptEvaluator {
  if (options.clips.length === 0) throw new OptNativeError('E_EMPTY_TABLE', 'no clips to evaluate prompts on');
  let audio: Promise<Float32Array[]> | undefined;
  return {
    async evaluate(prompt, signal): Promise<PromptScore> {
      audio ??= decodeClips(options.clips, options);
      const predictions = (await classifyAudio(await audio, prompt, { ...options, signal })).map(
        (prediction) => prediction.label,
      );
      const scores = scoreByCondition(options.clips, predictions, options.conditionColumns);
      return {
        primary: scores.baClip,
        conditions: scores.baConditions,
        metrics: {
          ba_clip: scores.baClip,
          ba_conditions: scores.baConditions,
          ba_conditions_by_column: scores.byColumn,
          n_samples: options.clips.length,
          unknown: predictions.filter((prediction) => prediction === null).length,
        },
      };
    },
  };
}
