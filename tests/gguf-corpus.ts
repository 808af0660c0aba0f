/**
 * Seeded corruptions of a GGUF file for fuzzing the readers. Every mutation makes the file invalid by the GGUF spec
 * (a field out of its domain, or bytes a tensor needs missing), so a reader that accepts one has a bug. The layout
 * walker finds where each field sits, so mutations hit the field they mean to (not a random byte of a name).
 */

/** Where the fields of one GGUF v2/v3 file live. */
export interface GgufLayout {
  tensorCountAt: number;
  kvCountAt: number;
  kvs: { keyLengthAt: number; typeAt: number }[];
  tensors: { nameLengthAt: number; dimensionsAt: number[]; typeAt: number; offsetAt: number; bytes: number }[];
  dataStart: number;
  /** End of the last tensor's bytes. */
  dataEnd: number;
}

const SCALAR_BYTES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;
/** Bytes per element of the dense types the fixtures use (f32, f16). */
const DENSE_BYTES: Record<number, number> = { 0: 4, 1: 2 };

export function ggufLayout(bytes: Buffer): GgufLayout {
  let at = 8;
  const u32 = () => ((at += 4), bytes.readUInt32LE(at - 4));
  const u64 = () => ((at += 8), Number(bytes.readBigUInt64LE(at - 8)));
  // `at += u64()` would read `at` before u64() moves it: skip in two steps.
  const skip = (length: number) => (at += length);
  const skipValue = (type: number): void => {
    if (type === STRING) skip(u64());
    else if (type === ARRAY) {
      const itemType = u32();
      const length = u64();
      for (let index = 0; index < length; index += 1) skipValue(itemType);
    } else skip(SCALAR_BYTES[type]!);
  };
  const tensorCountAt = at;
  const tensorCount = u64();
  const kvCountAt = at;
  const kvCount = u64();
  const kvs: GgufLayout['kvs'] = [];
  for (let index = 0; index < kvCount; index += 1) {
    const keyLengthAt = at;
    skip(u64());
    const typeAt = at;
    skipValue(u32());
    kvs.push({ keyLengthAt, typeAt });
  }
  const tensors: GgufLayout['tensors'] = [];
  const offsets: number[] = [];
  for (let index = 0; index < tensorCount; index += 1) {
    const nameLengthAt = at;
    skip(u64());
    const dimensionCount = u32();
    const dimensionsAt: number[] = [];
    let elements = 1;
    for (let d = 0; d < dimensionCount; d += 1) {
      dimensionsAt.push(at);
      elements *= u64();
    }
    const typeAt = at;
    const type = u32();
    const offsetAt = at;
    offsets.push(u64());
    const elementBytes = DENSE_BYTES[type];
    if (elementBytes === undefined) throw new Error(`fixture tensor type ${type} is not dense`);
    tensors.push({ nameLengthAt, dimensionsAt, typeAt, offsetAt, bytes: elements * elementBytes });
  }
  const dataStart = Math.ceil(at / 32) * 32;
  const dataEnd = Math.max(...tensors.map((tensor, index) => dataStart + offsets[index]! + tensor.bytes));
  return { tensorCountAt, kvCountAt, kvs, tensors, dataStart, dataEnd };
}

/** mulberry32: a small seeded PRNG, so the corpus is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (random: Random, low: number, high: number) => low + Math.floor(random() * (high - low));
/** A u64 in [low, 2^64) as a bigint, spread over magnitudes (2^k for a random k, plus a random low part). */
function bigBetween(random: Random, low: bigint): bigint {
  const shift = BigInt(between(random, 0, 64));
  const value = (1n << shift) + BigInt(Math.floor(random() * 2 ** 32));
  return value < low ? low + value : value & ((1n << 64n) - 1n);
}

const setU32 = (bytes: Buffer, at: number, value: number) => bytes.writeUInt32LE(value >>> 0, at);
const setU64 = (bytes: Buffer, at: number, value: bigint) => bytes.writeBigUInt64LE(value, at);

/** ggml type ids no ggml version defines (4 and 5 were removed; 31-33 and 36-38 are gaps). */
const UNDEFINED_GGML_TYPES = [4, 5, 31, 32, 33, 36, 37, 38];

export type MutationKind =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'tensor-dtype'
  | 'tensor-offset-past-end'
  | 'huge-dimension'
  | 'zero-dimension'
  | 'tensor-count'
  | 'string-length'
  | 'value-type';

export const MUTATION_KINDS: readonly MutationKind[] = [
  'truncated',
  'bad-magic',
  'bad-version',
  'tensor-dtype',
  'tensor-offset-past-end',
  'huge-dimension',
  'zero-dimension',
  'tensor-count',
  'string-length',
  'value-type',
];

/** A corrupted copy of `good` (whose layout is `layout`). */
export function mutate(good: Buffer, layout: GgufLayout, kind: MutationKind, random: Random): Buffer {
  const bytes = Buffer.from(good);
  const tensor = pick(random, layout.tensors);
  switch (kind) {
    case 'truncated':
      return bytes.subarray(0, between(random, 0, layout.dataEnd));
    case 'bad-magic': {
      const at = between(random, 0, 4);
      bytes.writeUInt8(bytes.readUInt8(at) ^ between(random, 1, 256), at);
      return bytes;
    }
    case 'bad-version':
      setU32(bytes, 4, random() < 0.2 ? 0 : between(random, 4, 2 ** 32));
      return bytes;
    case 'tensor-dtype':
      setU32(bytes, tensor.typeAt, random() < 0.5 ? pick(random, UNDEFINED_GGML_TYPES) : between(random, 40, 2 ** 32));
      return bytes;
    case 'tensor-offset-past-end': {
      // The smallest offset that puts this tensor's last byte past the end of the file, or anything above it.
      const first = BigInt(good.length - layout.dataStart - tensor.bytes + 1);
      setU64(bytes, tensor.offsetAt, first + (bigBetween(random, 0n) % (1n << 62n)));
      return bytes;
    }
    case 'huge-dimension':
      setU64(bytes, pick(random, tensor.dimensionsAt), bigBetween(random, 1n << 24n));
      return bytes;
    case 'zero-dimension':
      setU64(bytes, pick(random, tensor.dimensionsAt), 0n);
      return bytes;
    case 'tensor-count': {
      const at = random() < 0.5 ? layout.tensorCountAt : layout.kvCountAt;
      setU64(bytes, at, bytes.readBigUInt64LE(at) + (bigBetween(random, 1n) % (1n << 63n)));
      return bytes;
    }
    case 'string-length': {
      const at = random() < 0.5 ? pick(random, layout.kvs).keyLengthAt : tensor.nameLengthAt;
      setU64(bytes, at, BigInt(good.length) + (bigBetween(random, 0n) % (1n << 62n)));
      return bytes;
    }
    case 'value-type':
      setU32(bytes, pick(random, layout.kvs).typeAt, between(random, 13, 2 ** 32));
      return bytes;
  }
}
