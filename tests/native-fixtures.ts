// The tiny Qwen2 fixture of crates/inference (scripts/make_qwen2_fixture.py, reference: HF transformers
// Qwen2ForCausalLM in float32) and a reader for its reference.safetensors.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TINY_MODEL_DIR = fileURLToPath(new URL('../crates/inference/tests/fixtures/tiny-qwen2', import.meta.url));
export const TINY_GGUF = fileURLToPath(
  new URL('../crates/inference/tests/fixtures/tiny-qwen2.f32.gguf', import.meta.url),
);
/** Constants of scripts/make_qwen2_fixture.py. */
export const FIXTURE_PROMPT = 'The capital of France is';
export const FIXTURE_BATCH_PROMPTS = ['Hi there', 'A longer prompt!'];
export const FIXTURE_CHOICES = [' Paris', ' London', ' Rome!'];

interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Tensors of reference.safetensors as flat number arrays (I32 and F32 only, which is all it holds). */
export function readReferenceTensors(path = `${TINY_MODEL_DIR}/reference.safetensors`): Map<string, number[]> {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, TensorEntry>;
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, number[]>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [start, end] = entry.data_offsets;
    const slice = bytes.subarray(dataStart + start, dataStart + end);
    const copy = new Uint8Array(slice).buffer;
    const values = entry.dtype === 'I32' ? new Int32Array(copy) : new Float32Array(copy);
    tensors.set(name, Array.from(values));
  }
  return tensors;
}
