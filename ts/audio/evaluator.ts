// The PromptEvaluator of audio manifests: classify the clips with a prompt, reward terms BA_clip and BA_conditions.
// The clips go to a LanguageModel as audio messages (ts/audio/classifier-model.ts), so the optimizers' meter, budget
// and cache see every clip; tests pass a scripted classifier instead.
import type { AudioExample } from '../datasets/audio-manifest.js';
import { OptNativeError } from '../errors.js';
import type { LanguageModel, ScoreChoicesRequest } from '../llm/types.js';
import type { PromptEvaluator, PromptScore } from '../tasks/prompt-evaluator.js';
import { answerLabel, audioClassifierModel, type AudioClassifier } from './classifier-model.js';
import { scoreByCondition } from './condition-scores.js';
import { decodeToMono16k, type SoxOptions } from './sox.js';

export { answerLabel, type AudioAnswer, type AudioClassifier } from './classifier-model.js';

/** One clip's prediction: what the model said and the label it means (null = no usable answer). */
export interface AudioPrediction {
  readonly raw: string;
  readonly label: string | null;
}

/** The labels generated replies mean, one per reply (default: `answerLabel`). */
export type ReplyLabels = (replies: readonly string[], labels: readonly string[]) => (string | null)[];

/** The model that hears the clips: a LanguageModel taking audio messages, or a classifier (wrapped into one). */
export interface AudioModelSource {
  model?: LanguageModel;
  classifier?: AudioClassifier;
}

export interface ClassifyAudioOptions extends AudioModelSource {
  labels: readonly string[];
  mode?: 'generate' | 'score';
  /** Clips per model call (default 16). */
  batchSize?: number;
  /** How generated replies are read as labels (the native model's own rule, for one). */
  replyLabels?: ReplyLabels;
  signal?: AbortSignal;
}

export interface AudioPromptEvaluatorOptions extends SoxOptions, Omit<ClassifyAudioOptions, 'signal'> {
  clips: readonly AudioExample[];
  conditionColumns: readonly string[];
  /** The clips decoded, in order (default: decoded on first use and kept by this evaluator). */
  samples?: () => Promise<readonly Float32Array[]>;
}

const byPrefix: ReplyLabels = (replies, labels) => replies.map((reply) => answerLabel(reply, labels));

function modelOf(source: AudioModelSource, labels: readonly string[]): LanguageModel {
  if (source.model) return source.model;
  if (!source.classifier) throw new OptNativeError('E_BAD_INPUT', 'audio evaluation needs a model or a classifier');
  return audioClassifierModel(source.classifier, { modelId: 'audio-classifier', labels });
}

/** One batch of clips: scored against the labels, or answered and read as labels. */
async function classifyBatch(
  model: LanguageModel,
  batch: readonly Float32Array[],
  prompt: string,
  options: ClassifyAudioOptions,
): Promise<AudioPrediction[]> {
  const messages = (clip: Float32Array) => [{ role: 'user' as const, content: prompt, audio: clip }];
  if ((options.mode ?? 'score') === 'score') {
    const requests: ScoreChoicesRequest[] = batch.map((clip) => ({
      messages: messages(clip),
      choices: [...options.labels],
      signal: options.signal,
    }));
    if (!model.scoreChoicesBatch) throw new OptNativeError('E_BAD_INPUT', `${model.modelId} cannot score labels`);
    const results = await model.scoreChoicesBatch(requests);
    return results.map((result) => ({
      raw: result.best,
      label: options.labels.includes(result.best) ? result.best : null,
    }));
  }
  const results = await model.generateBatch(
    batch.map((clip) => ({ messages: messages(clip), signal: options.signal })),
  );
  const replies = results.map((result) => result.text);
  const labels = (options.replyLabels ?? byPrefix)(replies, options.labels);
  return replies.map((raw, index) => ({ raw, label: labels[index] ?? null }));
}

/** Classifies decoded clips in batches; one prediction per clip, in order. */
export async function classifyAudio(
  samples: readonly Float32Array[],
  prompt: string,
  options: ClassifyAudioOptions,
): Promise<AudioPrediction[]> {
  const model = modelOf(options, options.labels);
  const batchSize = Math.max(1, options.batchSize ?? 16);
  const predictions: AudioPrediction[] = [];
  for (let start = 0; start < samples.length; start += batchSize) {
    if (options.signal?.aborted) throw new OptNativeError('E_ABORTED', 'evaluation aborted');
    const batch = samples.slice(start, start + batchSize);
    const replies = await classifyBatch(model, batch, prompt, options);
    if (replies.length !== batch.length) {
      throw new OptNativeError('E_INTERNAL', `the model returned ${replies.length} answers for ${batch.length} clips`);
    }
    predictions.push(...replies);
  }
  return predictions;
}

/** Decodes manifest clips to 16 kHz mono (sox), in order. */
export function decodeClips(clips: readonly AudioExample[], options: SoxOptions = {}): Promise<Float32Array[]> {
  return Promise.all(clips.map((clip) => decodeToMono16k(clip.audioPath, options)));
}

/** Scores prompts on manifest clips; the decoded audio is kept, since every candidate prompt hears the same clips. */
export function audioPromptEvaluator(options: AudioPromptEvaluatorOptions): PromptEvaluator {
  if (options.clips.length === 0) throw new OptNativeError('E_EMPTY_TABLE', 'no clips to evaluate prompts on');
  const { classifier: _classifier, model: _model, ...rest } = options;
  const classify: ClassifyAudioOptions = { ...rest, model: modelOf(options, options.labels) };
  let audio: Promise<readonly Float32Array[]> | undefined;
  return {
    async evaluate(prompt, signal): Promise<PromptScore> {
      audio ??= options.samples?.() ?? decodeClips(options.clips, options);
      const predictions = (await classifyAudio(await audio, prompt, { ...classify, signal })).map(
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
