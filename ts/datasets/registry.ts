import { OptNativeError } from '../errors.js';
import { loadAudioManifest, loadSpeechConditions } from './audio-manifest.js';
import { loadBbh } from './bbh.js';
import { loadGsm8k } from './gsm8k.js';
import { loadJsonl } from './jsonl.js';
import type { DatasetLoadOptions, DatasetLoader, DatasetSplits } from './types.js';

const loaders = new Map<string, DatasetLoader>([
  ['gsm8k', loadGsm8k],
  ['bbh', loadBbh],
  ['jsonl', loadJsonl],
  ['speech_conditions', loadSpeechConditions],
  ['audio_manifest', loadAudioManifest],
]);

/**
 * Adds a dataset family under a prefix (`speech_conditions` for the audio manifests, for example). Refuses to
 * replace an existing prefix so that two modules cannot silently fight over a name.
 */
export function registerDatasetLoader(prefix: string, loader: DatasetLoader): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(prefix)) throw new OptNativeError('E_BAD_INPUT', `bad dataset prefix "${prefix}"`);
  if (loaders.has(prefix)) throw new OptNativeError('E_BAD_INPUT', `dataset prefix "${prefix}" is already registered`);
  loaders.set(prefix, loader);
}

export function registeredDatasetPrefixes(): string[] {
  return [...loaders.keys()].sort();
}

/** Splits `bbh:navigate` into prefix and argument; `jsonl:/a:b.jsonl` keeps the colons of the path. */
export function parseDatasetSpec(spec: string): { prefix: string; argument: string } {
  const colon = spec.indexOf(':');
  return colon < 0 ? { prefix: spec, argument: '' } : { prefix: spec.slice(0, colon), argument: spec.slice(colon + 1) };
}

/** Loads `gsm8k`, `bbh:<task>`, `jsonl:PATH` or any registered family into train / validation / test. */
export async function loadDataset(spec: string, options: DatasetLoadOptions = {}): Promise<DatasetSplits> {
  const { prefix, argument } = parseDatasetSpec(spec);
  const loader = loaders.get(prefix);
  if (!loader) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `unknown dataset "${spec}"; expected one of: ${registeredDatasetPrefixes()
        .map((name) => (name === 'gsm8k' ? name : `${name}:…`))
        .join(', ')}`,
    );
  }
  return loader(argument, options);
}
