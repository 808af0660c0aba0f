// The audio flags of `opro` and `evaluate`: an audio manifest (--manifest) heard by the native Qwen2-Audio model
// (--evaluator PATH, --lora DIR or --no-lora), opened as an AudioTarget (ts/audio/target.ts).
import type { Command } from 'commander';
import { AudioTarget } from '../audio/target.js';
import { OptNativeError } from '../errors.js';
import { DEFAULT_MODEL_NAME, localModelSpec } from '../llm/model-string.js';
import type { ExclusiveResidency } from '../run/exclusive-residency.js';
import { addFlagAlias } from './flag-aliases.js';
import { datasetLoadOptions, type TaskOptionValues } from './task-options.js';

export interface AudioEvaluatorValues extends TaskOptionValues {
  evaluator: string;
  evalMode: 'generate' | 'score';
  /** The adapter folder; `--no-lora` sets it to false (the base model, whatever --checkpoint says). */
  lora?: string | false;
  evaluatorDevice?: 'cpu' | 'cuda';
}

/**
 * Flags of the audio evaluator (the evaluated model itself is --evaluator). `--lora` is named as in `classify-audio`;
 * the original tool's `--checkpoint` and `--evaluator-model-name` are aliases.
 */
export function addAudioEvaluatorOptions(command: Command): Command {
  command
    .option('--lora <dir>', 'audio: PEFT LoRA adapter folder applied to the Qwen2-Audio evaluator, merged at load')
    .option('--no-lora', 'audio: evaluate the base Qwen2-Audio model (ignores --lora and --checkpoint)')
    .option('--evaluator-device <device>', 'audio: cpu or cuda', 'cpu');
  addFlagAlias(command, '--checkpoint <dir>', '--lora', "the original tool's name");
  return addFlagAlias(command, '--evaluator-model-name <model>', '--evaluator', "the original tool's name");
}

/** `--evaluator` for audio: a Qwen2-Audio folder, as `PATH` or `native:PATH`. */
export function audioModelPath(evaluator: string): string {
  const path = localModelSpec(evaluator);
  // `default` is the default text model everywhere; it cannot hear audio.
  if (path === '' || path === DEFAULT_MODEL_NAME) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      'audio manifests need --evaluator PATH: a Qwen2-Audio HF folder (config.json, safetensors, tokenizer.json); ' +
        'default is the text model',
    );
  }
  return path;
}

/** The manifest and its audio model, from the flags; with a `residency` (--low-memory) the model takes turns. */
export function openAudioTarget(
  values: AudioEvaluatorValues,
  options: { residency?: ExclusiveResidency } = {},
): Promise<AudioTarget> {
  if (values.task !== undefined) {
    throw new OptNativeError('E_BAD_INPUT', 'pass either --task (text) or --manifest (audio), not both');
  }
  return AudioTarget.open({
    manifest: values.manifest as string,
    loadOptions: datasetLoadOptions(values),
    modelPath: audioModelPath(values.evaluator),
    lora: values.lora === false ? undefined : values.lora,
    device: values.evaluatorDevice,
    mode: values.evalMode,
    residency: options.residency,
  });
}
