import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readGgufHeader } from '../ts/models/gguf-header.js';
import { modelFileInfo } from '../ts/models/model-info.js';

/** Little-endian GGUF v3 writer for the fields the reader needs (spec: ggml docs/gguf.md). */
class GgufWriter {
  private chunks: Buffer[] = [];
  u32(value: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.chunks.push(b);
    return this;
  }
  u64(value: number) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.chunks.push(b);
    return this;
  }
  string(value: string) {
    this.u64(Buffer.byteLength(value));
    this.chunks.push(Buffer.from(value));
    return this;
  }
  kvString(key: string, value: string) {
    return this.string(key).u32(8).string(value);
  }
  kvU32(key: string, value: number) {
    return this.string(key).u32(4).u32(value);
  }
  kvStringArray(key: string, values: string[]) {
    this.string(key).u32(9).u32(8).u64(values.length);
    for (const value of values) this.string(value);
    return this;
  }
  tensor(name: string, shape: number[], ggmlType: number, offset: number) {
    this.string(name).u32(shape.length);
    for (const dimension of shape) this.u64(dimension);
    return this.u32(ggmlType).u64(offset);
  }
  bytes() {
    return Buffer.concat(this.chunks);
  }
  /** The header, padding to the 32-byte alignment, then `dataBytes` of (zero) tensor data. */
  withTensorData(dataBytes: number) {
    const header = this.bytes();
    return Buffer.concat([header, Buffer.alloc(((32 - (header.length % 32)) % 32) + dataBytes)]);
  }
}

function tinyGguf(): Buffer {
  return new GgufWriter()
    .u32(0x46554747)
    .u32(3)
    .u64(2) // tensors
    .u64(7) // metadata entries
    .kvString('general.architecture', 'qwen2')
    .kvString('general.name', 'Tiny Test')
    .kvU32('general.file_type', 15)
    .kvU32('qwen2.context_length', 4096)
    .kvU32('qwen2.block_count', 2)
    .kvU32('qwen2.embedding_length', 8)
    .kvStringArray('tokenizer.ggml.tokens', ['a', 'b', 'c'])
    .tensor('token_embd.weight', [8, 3], 0, 0) // f32: 96 bytes
    .tensor('blk.0.attn_q.weight', [256, 2], 12, 96) // Q4_K: 2 blocks of 144 bytes
    .withTensorData(96 + 2 * 144);
}

describe('GGUF header reader', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'opt-native-gguf-'));
  });

  it('reads metadata and sums tensor shapes into a parameter count', async () => {
    const path = join(folder, 'tiny.gguf');
    const bytes = tinyGguf();
    await writeFile(path, bytes);
    expect(await modelFileInfo(path)).toEqual({
      path,
      format: 'gguf',
      architecture: 'qwen2',
      name: 'Tiny Test',
      parameterCount: 8 * 3 + 256 * 2,
      quantization: 'Q4_K_M',
      contextLength: 4096,
      layerCount: 2,
      hiddenSize: 8,
      vocabSize: 3,
      sizeBytes: bytes.length,
    });
    const header = await readGgufHeader(path);
    expect(header.tensors.map((tensor) => tensor.name)).toEqual(['token_embd.weight', 'blk.0.attn_q.weight']);
    expect(header.tensors[1]!.ggmlType).toBe(12);
  });

  it('says E_MODEL_FORMAT for a bad magic and for a truncated header', async () => {
    await writeFile(join(folder, 'bad.gguf'), Buffer.from('PK\x03\x04 not a gguf'));
    await expect(modelFileInfo(join(folder, 'bad.gguf'))).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
    await writeFile(join(folder, 'short.gguf'), tinyGguf().subarray(0, 60));
    await expect(modelFileInfo(join(folder, 'short.gguf'))).rejects.toMatchObject({
      code: 'E_MODEL_FORMAT',
      message: expect.stringContaining('truncated'),
    });
  });

  it('says E_MODEL_NOT_FOUND for a missing path', async () => {
    await expect(modelFileInfo(join(folder, 'missing.gguf'))).rejects.toMatchObject({ code: 'E_MODEL_NOT_FOUND' });
  });

  const realModel = '/work/tools/gguf/model.gguf';
  it.skipIf(!existsSync(realModel))('describes the default model (Qwen2.5-Coder-0.5B Q4_K_M)', async () => {
    expect(await modelFileInfo(realModel)).toMatchObject({
      architecture: 'qwen2',
      name: 'Qwen2.5 Coder 0.5B Instruct AWQ',
      quantization: 'Q4_K_M',
      contextLength: 32768,
      layerCount: 24,
      hiddenSize: 896,
      vocabSize: 151936,
      sizeBytes: 491_400_064,
    });
  });
});

describe('HF folder info', () => {
  const fixture = 'crates/inference/tests/fixtures/tiny-qwen2';
  it.skipIf(!existsSync(fixture))(
    'reads config.json and model.safetensors (not reference.safetensors) of the tiny fixture',
    async () => {
      const info = await modelFileInfo(fixture);
      // tied tiny Qwen2 (scripts/make_qwen2_fixture.py): vocab 260, hidden 64, 2 layers, intermediate 96, 4/2 heads.
      const embed = 260 * 64;
      const attention = 64 * 64 + 64 + 2 * (64 * 32 + 32) + 64 * 64;
      const mlp = 3 * 64 * 96;
      const perLayer = attention + mlp + 2 * 64;
      expect(info).toMatchObject({ format: 'safetensors', architecture: 'qwen2', quantization: 'F32' });
      expect(info.parameterCount).toBe(embed + 2 * perLayer + 64);
      expect(info).toMatchObject({ contextLength: 128, layerCount: 2, hiddenSize: 64, vocabSize: 260 });
    },
  );
});
