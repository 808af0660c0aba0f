// An audio manifest with the native Qwen2-Audio model that hears it: what `opro --manifest` optimizes for and
// `evaluate --manifest` scores. The model is a LanguageModel (ts/audio/classifier-model.ts), so a run can put it
// behind its cache, meter and budget like any text model.
import { basename } from 'node:path';
import type { AudioExample, AudioManifestDataset } from '../datasets/audio-manifest.js';
import { loadDataset } from '../datasets/registry.js';
import type { DatasetLoadOptions, SplitName } from '../datasets/types.js';
import { OptNativeError } from '../errors.js';
import { residentLanguageModel } from '../llm/resident-model.js';
import type { LanguageModel } from '../llm/types.js';
import { normalizeLabels } from '../metrics/index.js';
import { NativeAudioModel } from '../native/audio-model.js';
import type { ExclusiveResidency } from '../run/exclusive-residency.js';
import { accuracy } from '../tasks/metrics.js';
import type { PromptEvaluator } from '../tasks/prompt-evaluator.js';
import type { TextTask } from '../tasks/types.js';
import { answerLabel, audioClassifierModel } from './classifier-model.js';
import { scoreByCondition, type ConditionScores } from './condition-scores.js';
import {
  audioPromptEvaluator,
  classifyAudio,
  decodeClips,
  type AudioPrediction,
  type ReplyLabels,
} from './evaluator.js';

/** The original tool's start prompt for the speech / non-speech job. */
export const ORIGINAL_AUDIO_BASELINE_PROMPT =
  'Does this audio contain human speech?\nReply with ONLY one word: SPEECH or NON-SPEECH.';

export interface AudioTargetOptions {
  /** The manifest file (audio_manifest:FILE). */
  manifest: string;
  loadOptions: DatasetLoadOptions;
  /** The Qwen2-Audio HF folder. */
  modelPath: string;
  /** PEFT LoRA adapter folder merged at load. */
  lora?: string;
  device?: 'cpu' | 'cuda';
  mode: 'generate' | 'score';
  /** --low-memory: the audio model takes turns in memory with the optimizer LLM. */
  residency?: ExclusiveResidency;
}

/** Generated answers read as the native model reads them (crates/metrics' label normalizer). */
const nativeReplyLabels: ReplyLabels = (replies, labels) => normalizeLabels(replies, { labels: [...labels] });

/** OPRO's view of an audio manifest: what the optimizer meta-prompt and the candidate screening need. */
export function audioOproTask(dataset: AudioManifestDataset): TextTask {
  const labels = dataset.labels;
  return {
    name: basename(dataset.manifestPath),
    description:
      `Classify an audio clip (it is given to the model with the instruction) as one of: ${labels.join(', ')}. ` +
      'Clips vary in noise level, duration, band-limiting and reverberation.',
    metricName: 'exact_match',
    scoreKind: 'balanced_accuracy',
    kind: 'classification',
    // The original tool's prompts carry their own answer format ("Reply with ONLY one word: …").
    answerFormat: '',
    instructionPosition: 'before',
    answerFormatPosition: 'end',
    scoreCalibration: 'none',
    labels,
    requiredLabelWords: labels,
    maxAnswerTokens: 8,
    splits: dataset,
    formatMessages: (instruction) => [{ role: 'user', content: instruction }],
    extractAnswer: (reply) => answerLabel(reply, labels),
    metric: (prediction, example) => ({ score: prediction === example.target ? 1 : 0 }),
  };
}

/** The native audio model of a manifest as a LanguageModel; resident in `residency` when one is given. */
async function openAudioModel(options: AudioTargetOptions, labels: readonly string[]): Promise<LanguageModel> {
  const { modelPath, lora, device } = options;
  // The cache key names the model: the same folder with and without an adapter answers differently.
  const modelId = lora === undefined ? modelPath : `${modelPath}+lora:${lora}`;
  const load = async () =>
    audioClassifierModel(await NativeAudioModel.load(modelPath, { lora, device }), { modelId, labels });
  return options.residency
    ? residentLanguageModel(options.residency, `audio:${modelPath}:${lora ?? ''}`, load)
    : load();
}

/** The loaded audio evaluator: the manifest, the model, and the evaluator/prediction helpers over its clips. */
export class AudioTarget {
  /** Decoded clips per split: an optimizer builds an evaluator per step, and every step hears the same clips. */
  private readonly decoded = new Map<SplitName, Promise<Float32Array[]>>();

  private constructor(
    readonly dataset: AudioManifestDataset,
    /** The native audio model: audio messages in, answers out. */
    readonly model: LanguageModel,
    private readonly mode: 'generate' | 'score',
  ) {}

  static async open(options: AudioTargetOptions): Promise<AudioTarget> {
    const dataset = (await loadDataset(
      `audio_manifest:${options.manifest}`,
      options.loadOptions,
    )) as AudioManifestDataset;
    return new AudioTarget(dataset, await openAudioModel(options, dataset.labels), options.mode);
  }

  get task(): TextTask {
    const task = audioOproTask(this.dataset);
    // Scored labels need no answer words in the prompt; generated answers do (the original tool's rule).
    return this.mode === 'score' ? { ...task, requiredLabelWords: [] } : task;
  }

  clips(split: SplitName): readonly AudioExample[] {
    return this.dataset[split];
  }

  /** The split's clips as 16 kHz mono samples, decoded once (a failed decode is tried again next time). */
  private samples(split: SplitName): Promise<Float32Array[]> {
    let decoded = this.decoded.get(split);
    if (decoded === undefined) {
      decoded = decodeClips(this.clips(split));
      decoded.catch(() => this.decoded.delete(split));
      this.decoded.set(split, decoded);
    }
    return decoded;
  }

  /** Scores prompts on a split through `model` (this target's model behind a run's cache and meter). */
  evaluator(split: SplitName, model: LanguageModel = this.model): PromptEvaluator {
    return audioPromptEvaluator({
      clips: this.clips(split),
      labels: this.dataset.labels,
      conditionColumns: this.dataset.conditionColumns,
      model,
      mode: this.mode,
      replyLabels: nativeReplyLabels,
      samples: () => this.samples(split),
    });
  }

  /** Predictions and scores of one prompt on a split. */
  async predict(
    split: SplitName,
    prompt: string,
    model: LanguageModel = this.model,
  ): Promise<{ predictions: AudioPrediction[]; scores: ConditionScores }> {
    const clips = this.clips(split);
    if (clips.length === 0) throw new OptNativeError('E_EMPTY_TABLE', `the ${split} split of the manifest is empty`);
    const predictions = await classifyAudio(await this.samples(split), prompt, {
      labels: this.dataset.labels,
      model,
      mode: this.mode,
      replyLabels: nativeReplyLabels,
    });
    const scores = scoreByCondition(
      clips,
      predictions.map((prediction) => prediction.label),
      this.dataset.conditionColumns,
    );
    return { predictions, scores };
  }

  async dispose(): Promise<void> {
    await this.model.dispose?.();
  }
}

/** RFC 4180 field (same rule as the text predictions CSV). */
const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** Predictions CSV of an audio split: clip id, raw output, normalized label, label, then one column per condition. */
export function audioPredictionsCsv(
  clips: readonly AudioExample[],
  predictions: readonly AudioPrediction[],
  conditionColumns: readonly string[],
): string {
  const header = ['clip_id', 'raw_output', 'normalized_label', 'label', ...conditionColumns];
  const rows = clips.map((clip, index) => {
    const prediction = predictions[index] as AudioPrediction;
    const conditions = conditionColumns.map((column) => clip.conditions[column] ?? '');
    return [clip.id, prediction.raw, prediction.label ?? '', clip.target, ...conditions].map(csvField).join(',');
  });
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

/** The metrics report of an audio split: overall and per condition value. */
export function audioMetricsReport(
  manifest: string,
  split: SplitName,
  clips: readonly AudioExample[],
  predictions: readonly AudioPrediction[],
  scores: ConditionScores,
): Record<string, unknown> {
  return {
    manifest,
    split,
    n_samples: clips.length,
    ba_clip: scores.baClip,
    ba_conditions: scores.baConditions,
    accuracy: accuracy(clips.map((clip, index) => predictions[index]?.label === clip.target)),
    unknown: predictions.filter((prediction) => prediction.label === null).length,
    ba_conditions_by_column: scores.byColumn,
    per_condition: scores.perValue,
  };
}
