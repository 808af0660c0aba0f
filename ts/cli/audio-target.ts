// The audio flags of `opro` and `evaluate`: an audio manifest (--manifest) heard by the native Qwen2-Audio model
// (--evaluator PATH, --checkpoint LoRA or --no-lora), opened as an AudioTarget (ts/audio/target.ts).
import type { Command } from 'commander';
import { AudioTarget } from '../audio/target.js';
import { OptNativeError } from '../errors.js';
import type { ExclusiveResidency } from '../run/exclusive-residency.js';
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
    modelPath: audioModelPath(values.evaluatorModelName ?? values.evaluator),
    lora: values.lora === false ? undefined : values.checkpoint,
    device: values.evaluatorDevice,
    mode: values.evalMode,
    residency: options.residency,
  });
}
