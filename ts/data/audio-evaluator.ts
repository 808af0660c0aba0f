// OPRO's PromptEvaluator for audio manifests: classify the clips with a prompt, reward terms BA_clip and BA_cond.
// The classifier is the native Qwen2-Audio model (`AudioModel.classify`) once it lands; anything with the same
// shape plugs in (tests use a scripted one).
import type { AudioExample } from '../datasets/audio-manifest.js';
import { OptNativeError } from '../errors.js';
import type { PromptEvaluator, PromptScore } from '../optimizers/opro/evaluator.js';
import { scoreByCondition } from './condition-scores.js';
import { decodeToMono16k, type SoxOptions } from './sox.js';

/** The audio model's classify call: one answer per clip (16 kHz mono samples). */
export interface AudioClassifier {
  classify(
    clips: readonly Float32Array[],
    prompt: string,
    options: { labels: readonly string[]; mode: 'generate' | 'score'; signal?: AbortSignal },
  ): Promise<readonly string[]>;
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

/** Scores prompts on manifest clips; the decoded audio is kept, since every candidate prompt sees the same clips. */
export function audioPromptEvaluator(options: AudioPromptEvaluatorOptions): PromptEvaluator {
  if (options.clips.length === 0) throw new OptNativeError('E_EMPTY_TABLE', 'no clips to evaluate prompts on');
  let audio: Promise<Float32Array[]> | undefined;
  const batchSize = Math.max(1, options.batchSize ?? 16);
  return {
    async evaluate(prompt, signal): Promise<PromptScore> {
      audio ??= Promise.all(options.clips.map((clip) => decodeToMono16k(clip.audioPath, options)));
      const samples = await audio;
      const answers: string[] = [];
      for (let start = 0; start < samples.length; start += batchSize) {
        if (signal?.aborted) throw new OptNativeError('E_ABORTED', 'evaluation aborted');
        const batch = samples.slice(start, start + batchSize);
        const replies = await options.classifier.classify(batch, prompt, {
          labels: options.labels,
          mode: options.mode ?? 'score',
          signal,
        });
        if (replies.length !== batch.length) {
          throw new OptNativeError(
            'E_INTERNAL',
            `classify returned ${replies.length} answers for ${batch.length} clips`,
          );
        }
        answers.push(...replies);
      }
      const predictions = answers.map((answer) => answerLabel(answer, options.labels));
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
