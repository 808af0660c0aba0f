// The audio side of `opro` and `evaluate`: an audio manifest (--manifest) evaluated by the native Qwen2-Audio model
// (--evaluator PATH, --checkpoint LoRA or --no-lora) through the audio prompt evaluator.
import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  audioPromptEvaluator,
  answerLabel,
  type AudioClassifier,
  classifyAudio,
  decodeClips,
  type AudioPrediction,
} from '../data/audio-evaluator.js';
import { scoreByCondition, type ConditionScores } from '../data/condition-scores.js';
import type { AudioExample, AudioManifestDataset } from '../datasets/audio-manifest.js';
import { loadDataset } from '../datasets/registry.js';
import type { SplitName } from '../datasets/types.js';
import { OptNativeError } from '../errors.js';
import { NativeAudioModel } from '../native/audio-model.js';
import type { ExclusiveResidency } from '../run/exclusive-residency.js';
import type { PromptEvaluator } from '../optimizers/engine/evaluator.js';
import type { TextTask } from '../tasks/types.js';
import { datasetLoadOptions, type TaskOptionValues } from './task-options.js';

export interface AudioEvaluatorValues extends TaskOptionValues {
  evaluator: string;
  evalMode: 'generate' | 'score';
  checkpoint?: string;
  /** `--no-lora` sets this to false. */
  lora?: boolean;
  evaluatorDevice?: 'cpu' | 'cuda';
  evaluatorModelName?: string;
}

/** The original tool's start prompt for the speech / non-speech job. */
export const ORIGINAL_AUDIO_BASELINE_PROMPT =
  'Does this audio contain human speech?\nReply with ONLY one word: SPEECH or NON-SPEECH.';

/** Flags of the audio evaluator (the evaluated model itself is --evaluator). */
export function addAudioEvaluatorOptions(command: Command): Command {
  return (
    command
      .option('--checkpoint <dir>', 'audio: PEFT LoRA adapter folder applied to the Qwen2-Audio evaluator')
      .option('--no-lora', 'audio: evaluate the base Qwen2-Audio model (ignores --checkpoint)')
      .option('--evaluator-device <device>', 'audio: cpu or cuda', 'cpu')
      // The original tool's name for the evaluated model.
      .option('--evaluator-model-name <model>', "alias of --evaluator (the original tool's flag)")
  );
}

/** `--evaluator` for audio: a Qwen2-Audio folder, as `PATH` or `native:PATH`. */
export function audioModelPath(evaluator: string): string {
  const path = evaluator.startsWith('native:') ? evaluator.slice('native:'.length) : evaluator;
  if (path === '' || path === 'default') {
    throw new OptNativeError(
      'E_BAD_INPUT',
      'audio manifests need --evaluator PATH: a Qwen2-Audio HF folder (config.json, safetensors, tokenizer.json)',
    );
  }
  return path;
}

export async function loadManifest(values: AudioEvaluatorValues): Promise<AudioManifestDataset> {
  return (await loadDataset(
    `audio_manifest:${values.manifest as string}`,
    datasetLoadOptions(values),
  )) as AudioManifestDataset;
}

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

/** The audio model as a classifier that can be released. */
export type DisposableAudioClassifier = AudioClassifier & { dispose(): Promise<void> };

/** An audio classifier taking its turn in a low-memory residency: loaded now, and again whenever it is called. */
export async function residentAudioClassifier(
  residency: ExclusiveResidency,
  key: string,
  load: () => Promise<DisposableAudioClassifier>,
): Promise<DisposableAudioClassifier> {
  await residency.use(key, load, () => Promise.resolve());
  return {
    classify: (clips, prompt, options) => residency.use(key, load, (model) => model.classify(clips, prompt, options)),
    dispose: () => residency.evict(key),
  };
}

/** The loaded audio evaluator: the model plus the evaluator/classifier helpers over manifest clips. */
export class AudioTarget {
  private constructor(
    readonly dataset: AudioManifestDataset,
    readonly model: DisposableAudioClassifier,
    private readonly mode: 'generate' | 'score',
  ) {}

  /** With a `residency` (--low-memory) the audio model takes turns in memory with the optimizer LLM. */
  static async open(
    values: AudioEvaluatorValues,
    options: { residency?: ExclusiveResidency } = {},
  ): Promise<AudioTarget> {
    if (values.evaluatorModelName !== undefined) values = { ...values, evaluator: values.evaluatorModelName };
    if (values.task !== undefined) {
      throw new OptNativeError('E_BAD_INPUT', 'pass either --task (text) or --manifest (audio), not both');
    }
    const path = audioModelPath(values.evaluator);
    const dataset = await loadManifest(values);
    const lora = values.lora === false ? undefined : values.checkpoint;
    const load = () => NativeAudioModel.load(path, { lora, device: values.evaluatorDevice });
    const model = options.residency
      ? await residentAudioClassifier(options.residency, `audio:${path}:${lora ?? ''}`, load)
      : await load();
    return new AudioTarget(dataset, model, values.evalMode);
  }

  get task(): TextTask {
    const task = audioOproTask(this.dataset);
    // Scored labels need no answer words in the prompt; generated answers do (the original tool's rule).
    return this.mode === 'score' ? { ...task, requiredLabelWords: [] } : task;
  }

  clips(split: SplitName): readonly AudioExample[] {
    return this.dataset[split];
  }

  evaluator(split: SplitName): PromptEvaluator {
    return audioPromptEvaluator({
      clips: this.clips(split),
      labels: this.dataset.labels,
      conditionColumns: this.dataset.conditionColumns,
      classifier: this.model,
      mode: this.mode,
    });
  }

  /** Predictions and scores of one prompt on a split. */
  async predict(
    split: SplitName,
    prompt: string,
  ): Promise<{ predictions: AudioPrediction[]; scores: ConditionScores }> {
    const clips = this.clips(split);
    if (clips.length === 0) throw new OptNativeError('E_EMPTY_TABLE', `the ${split} split of the manifest is empty`);
    const predictions = await classifyAudio(await decodeClips(clips), prompt, {
      labels: this.dataset.labels,
      classifier: this.model,
      mode: this.mode,
    });
    const scores = scoreByCondition(
      clips,
      predictions.map((prediction) => prediction.label),
      this.dataset.conditionColumns,
    );
    return { predictions, scores };
  }

  dispose(): Promise<void> {
    return this.model.dispose();
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
  const correct = clips.filter((clip, index) => predictions[index]?.label === clip.target).length;
  return {
    manifest,
    split,
    n_samples: clips.length,
    ba_clip: scores.baClip,
    ba_conditions: scores.baConditions,
    accuracy: clips.length > 0 ? correct / clips.length : 0,
    unknown: predictions.filter((prediction) => prediction.label === null).length,
    ba_conditions_by_column: scores.byColumn,
    per_condition: scores.perValue,
  };
}
