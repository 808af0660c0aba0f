// The adapter option of native model strings: `native:<model>?adapter=DIR` loads <model> with the PEFT LoRA adapter
// in DIR. The model id names the adapter's weights by their SHA-256, so response caches keyed by model id never mix
// the base model's answers with the adapted one's, nor two trainings saved to the same folder.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { OptNativeError } from '../errors.js';

/** A native model spec split into the model and its options. */
export interface NativeModelRef {
  /** `default`, a path or `Org/Name`, without the options. */
  readonly model: string;
  /** PEFT adapter folder (adapter_config.json + adapter_model.safetensors). */
  readonly adapter?: string;
  /** Expected SHA-256 of adapter_model.safetensors (as a model id carries it); checked at load. */
  readonly sha256?: string;
}

const USAGE = 'expected native:<model>?adapter=DIR (the option value may be percent-encoded)';

function decoded(value: string, spec: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new OptNativeError('E_BAD_INPUT', `bad percent-encoding in "${spec}": ${USAGE}`);
  }
}

/** Splits `<model>?adapter=DIR[&sha256=HEX]`; a spec without `?` is the model alone. Unknown options are refused. */
export function splitNativeSpec(spec: string): NativeModelRef {
  const query = spec.indexOf('?');
  if (query < 0) return { model: spec };
  const model = spec.slice(0, query).trim();
  const options = new Map<string, string>();
  for (const pair of spec.slice(query + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : decoded(pair.slice(eq + 1), spec);
    if (key !== 'adapter' && key !== 'sha256') {
      throw new OptNativeError('E_BAD_INPUT', `unknown option "${key}" in "${spec}": ${USAGE}`);
    }
    if (value.trim() === '' || options.has(key)) {
      throw new OptNativeError('E_BAD_INPUT', `"${key}" must be given once, with a value, in "${spec}": ${USAGE}`);
    }
    options.set(key, value.trim());
  }
  const adapter = options.get('adapter');
  const sha256 = options.get('sha256');
  if (model === '' || adapter === undefined) {
    throw new OptNativeError('E_BAD_INPUT', `"${spec}" names no model or no adapter: ${USAGE}`);
  }
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
    throw new OptNativeError('E_BAD_INPUT', `sha256 in "${spec}" is not 64 lowercase hex digits`);
  }
  return { model, adapter, ...(sha256 === undefined ? {} : { sha256 }) };
}

/** SHA-256 (hex) of DIR/adapter_model.safetensors, read as a stream. */
export async function adapterSha256(dir: string): Promise<string> {
  const path = join(dir, 'adapter_model.safetensors');
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new OptNativeError('E_MODEL_NOT_FOUND', `cannot read the adapter weights ${path}: ${reason}`);
  }
  return hash.digest('hex');
}

/** The model id of an adapted model: the spec as given plus the adapter's hash. */
export function adaptedModelId(model: string, adapter: string, sha256: string): string {
  return `native:${model}?adapter=${adapter}&sha256=${sha256}`;
}

/** Refuses an adapter whose weights are not the ones a model id named. */
export function checkAdapterHash(ref: NativeModelRef, actual: string): void {
  if (ref.sha256 !== undefined && ref.sha256 !== actual) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `the adapter ${ref.adapter ?? ''} has sha256 ${actual}, not the ${ref.sha256} the model string names`,
    );
  }
}
