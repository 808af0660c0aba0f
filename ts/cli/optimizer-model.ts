// How the optimizer LLM is held: the original OPRO Classic tool's --optimizer-device and --optimizer-load-in-4bit,
// and --low-memory (the optimizer LLM and the evaluator never in memory at once, as on the original's 8 GB GPU).
import { Option, type Command } from 'commander';
import { OptNativeError } from '../errors.js';
import { canonicalModelString, parseModelString } from '../llm/model-string.js';
import type { ResolveOptions } from '../llm/resolver.js';
import { findMirroredModel } from '../models/default-model.js';
import { nativeBinding } from '../native/binding.js';
import { ExclusiveResidency } from '../run/exclusive-residency.js';

export const OPTIMIZER_DEVICES = ['cpu', 'cuda'] as const;
export type OptimizerDevice = (typeof OPTIMIZER_DEVICES)[number];

export interface OptimizerModelValues {
  optimizerModel: string;
  optimizerDevice: OptimizerDevice;
  optimizerLoadIn4bit?: boolean;
  lowMemory?: boolean;
}

export function addOptimizerModelOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--optimizer-device <device>', 'device of a native optimizer LLM (cuda needs a CUDA build)')
        .choices([...OPTIMIZER_DEVICES])
        .default('cpu'),
    )
    .option(
      '--optimizer-load-in-4bit',
      'hold a native optimizer LLM 4-bit: dense weights are quantized at load (Q4_0); GGUF models are 4-bit already',
    )
    .option(
      '--low-memory',
      'never hold the optimizer LLM and the evaluator in memory at once: each switch unloads one and loads the other',
    );
}

const isNative = (modelString: string) =>
  !modelString.startsWith('scripted:') && parseModelString(modelString).provider === 'native';

/** What --optimizer-load-in-4bit does to a native model: nothing to a GGUF (quantized already), else Q4_0 at load. */
function fourBitLoading(modelString: string): { quantizeAtLoad: boolean; note: string } {
  const spec = modelString.slice('native:'.length).trim();
  if (findMirroredModel(spec)) {
    return { quantizeAtLoad: false, note: `${modelString} is a Q4_K_M GGUF: 4-bit already, loaded as it is` };
  }
  if (spec.toLowerCase().endsWith('.gguf')) {
    return { quantizeAtLoad: false, note: `${modelString} is a GGUF file: quantized already, loaded as it is` };
  }
  return { quantizeAtLoad: true, note: `${modelString}: dense weights, projections quantized to Q4_0 at load` };
}

function checkDevice(values: OptimizerModelValues): void {
  if (values.optimizerDevice !== 'cuda') return;
  if (!isNative(values.optimizerModel)) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `--optimizer-device cuda applies to native optimizer models (native:…); "${values.optimizerModel}" runs at its provider`,
    );
  }
  if (!nativeBinding().cudaAvailable()) {
    throw new OptNativeError(
      'E_NATIVE_UNAVAILABLE',
      '--optimizer-device cuda: this opt-native addon was built without CUDA; rebuild it with ' +
        'OPT_NATIVE_FEATURES=cuda (needs cargo and the CUDA toolkit), or use --optimizer-device cpu',
    );
  }
}

/**
 * Checks the optimizer-model flags (before anything is written) and says what the native loader of the optimizer
 * LLM gets; `note` is a line for the user about 4-bit loading.
 */
export function optimizerLoadOptions(given: OptimizerModelValues): { resolve: ResolveOptions; note?: string } {
  const values = { ...given, optimizerModel: canonicalModelString(given.optimizerModel) };
  checkDevice(values);
  if (values.optimizerLoadIn4bit && !isNative(values.optimizerModel)) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `--optimizer-load-in-4bit applies to native optimizer models (native:…); "${values.optimizerModel}" runs at its provider`,
    );
  }
  if (!isNative(values.optimizerModel)) return { resolve: {} };
  const fourBit = values.optimizerLoadIn4bit ? fourBitLoading(values.optimizerModel) : undefined;
  // Only what changes the load goes to the loader: a GGUF with the flag stays the evaluator's instance when shared.
  const native = {
    ...(values.optimizerDevice === 'cuda' ? { device: 'cuda' } : {}),
    ...(fourBit?.quantizeAtLoad ? { loadIn4bit: true } : {}),
  };
  return {
    resolve: Object.keys(native).length === 0 ? {} : { native },
    note: fourBit && `--optimizer-load-in-4bit: ${fourBit.note}`,
  };
}

/** The residency of --low-memory: the native models of the run take turns in it; each switch is a stderr line. */
export function lowMemoryResidency(values: OptimizerModelValues & { quiet?: boolean }): ExclusiveResidency | undefined {
  if (!values.lowMemory) return undefined;
  return new ExclusiveResidency((change) => {
    if (values.quiet) return;
    const unloaded = change.unloaded === undefined ? '' : `unloaded ${change.unloaded}, `;
    process.stderr.write(`low-memory: ${unloaded}loaded ${change.loaded} (${(change.loadMs / 1000).toFixed(1)} s)\n`);
  });
}
