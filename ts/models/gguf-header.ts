// A small GGUF header reader (metadata key/values and tensor shapes), enough for `models info` without the addon.
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
import { open } from 'node:fs/promises';
import { OptNativeError } from '../errors.js';

export type GgufScalar = number | bigint | boolean | string;
/** Arrays are summarised by their length: tokenizer vocabularies hold 150k entries nobody wants in memory twice. */
export type GgufValue = GgufScalar | { arrayLength: number; itemType: number };

export interface GgufTensorInfo {
  name: string;
  shape: number[];
  ggmlType: number;
  /** Offset of the tensor's bytes from the start of the data section. */
  offset: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** File offset of the data section (the header's end, aligned). */
  dataStart: number;
}

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
const FIRST_READ_BYTES = 16 * 1024 * 1024;

class OutOfBytes extends Error {}

class Cursor {
  private offset = 0;
  private readonly view: DataView;

  get position(): number {
    return this.offset;
  }

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private take(length: number): number {
    if (this.offset + length > this.bytes.length) throw new OutOfBytes();
    const start = this.offset;
    this.offset += length;
    return start;
  }

  u8 = () => this.view.getUint8(this.take(1));
  i8 = () => this.view.getInt8(this.take(1));
  u16 = () => this.view.getUint16(this.take(2), true);
  i16 = () => this.view.getInt16(this.take(2), true);
  u32 = () => this.view.getUint32(this.take(4), true);
  i32 = () => this.view.getInt32(this.take(4), true);
  f32 = () => this.view.getFloat32(this.take(4), true);
  f64 = () => this.view.getFloat64(this.take(8), true);
  i64 = () => this.view.getBigInt64(this.take(8), true);
  u64 = () => this.view.getBigUint64(this.take(8), true);
  /** u64 lengths and counts, refused beyond 2^53 (only a corrupt file has those). */
  count(): number {
    const value = this.u64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new OptNativeError('E_MODEL_FORMAT', 'GGUF count overflows');
    return Number(value);
  }
  string(): string {
    const length = this.count();
    const start = this.take(length);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, length).toString('utf8');
  }
}

const SCALAR_READERS: Record<number, (cursor: Cursor) => GgufScalar> = {
  0: (c) => c.u8(),
  1: (c) => c.i8(),
  2: (c) => c.u16(),
  3: (c) => c.i16(),
  4: (c) => c.u32(),
  5: (c) => c.i32(),
  6: (c) => c.f32(),
  7: (c) => c.u8() !== 0,
  8: (c) => c.string(),
  10: (c) => c.u64(),
  11: (c) => c.i64(),
  12: (c) => c.f64(),
};
const ARRAY_TYPE = 9;

function readValue(cursor: Cursor, valueType: number): GgufValue {
  if (valueType === ARRAY_TYPE) {
    const itemType = cursor.u32();
    const arrayLength = cursor.count();
    for (let index = 0; index < arrayLength; index += 1) readValue(cursor, itemType);
    return { arrayLength, itemType };
  }
  const reader = SCALAR_READERS[valueType];
  if (!reader) throw new OptNativeError('E_MODEL_FORMAT', `unknown GGUF value type ${valueType}`);
  return reader(cursor);
}

function parseHeader(bytes: Uint8Array): GgufHeader {
  const cursor = new Cursor(bytes);
  if (cursor.u32() !== GGUF_MAGIC) throw new OptNativeError('E_MODEL_FORMAT', 'not a GGUF file (bad magic)');
  const version = cursor.u32();
  if (version !== 2 && version !== 3) {
    throw new OptNativeError('E_MODEL_FORMAT', `GGUF version ${version} is not supported (need 2 or 3)`);
  }
  const tensorCount = cursor.count();
  const metadataCount = cursor.count();
  const metadata = new Map<string, GgufValue>();
  for (let index = 0; index < metadataCount; index += 1) {
    const key = cursor.string();
    metadata.set(key, readValue(cursor, cursor.u32()));
  }
  const tensors: GgufTensorInfo[] = [];
  for (let index = 0; index < tensorCount; index += 1) {
    const name = cursor.string();
    const dimensionCount = cursor.u32();
    if (dimensionCount > MAX_DIMENSIONS) {
      throw new OptNativeError('E_MODEL_FORMAT', `GGUF tensor '${name}' has ${dimensionCount} dimensions`);
    }
    const shape = Array.from({ length: dimensionCount }, () => cursor.count());
    const ggmlType = cursor.u32();
    const offset = cursor.count();
    tensors.push({ name, shape, ggmlType, offset });
  }
  const alignment = alignmentOf(metadata);
  const dataStart = Math.ceil(cursor.position / alignment) * alignment;
  return { version, metadata, tensors, dataStart };
}

const MAX_DIMENSIONS = 4;
const DEFAULT_ALIGNMENT = 32;

/** `general.alignment` (a power of two), else 32. */
function alignmentOf(metadata: Map<string, GgufValue>): number {
  const value = metadata.get('general.alignment');
  if (value === undefined) return DEFAULT_ALIGNMENT;
  const alignment = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : NaN;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new OptNativeError('E_MODEL_FORMAT', `GGUF general.alignment ${String(value)} is not a power of two`);
  }
  return alignment;
}

/** ggml type id -> [elements per block, bytes per block] (ggml.c's type traits). */
// prettier-ignore
const GGML_BLOCKS: Record<number, [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36],
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292],
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 20: [32, 18], 21: [256, 110], 22: [256, 82],
  23: [256, 136], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], 28: [1, 8], 29: [256, 56], 30: [1, 2],
  34: [256, 54], 35: [256, 66], 39: [32, 17],
};

/** Bytes of one tensor; E_MODEL_FORMAT for an unknown type or a shape that does not fill whole blocks. */
function tensorBytes(tensor: GgufTensorInfo): number {
  const block = GGML_BLOCKS[tensor.ggmlType];
  if (!block)
    throw new OptNativeError('E_MODEL_FORMAT', `GGUF tensor '${tensor.name}': unknown type ${tensor.ggmlType}`);
  const [perBlock, blockBytes] = block;
  const elements = tensor.shape.reduce((total, dimension) => total * dimension, 1);
  if (tensor.shape.some((dimension) => dimension < 1) || (tensor.shape[0] ?? 1) % perBlock !== 0) {
    throw new OptNativeError('E_MODEL_FORMAT', `GGUF tensor '${tensor.name}': bad shape [${tensor.shape.join(', ')}]`);
  }
  return (elements / perBlock) * blockBytes;
}

/** Every tensor's bytes lie inside the file, and no name appears twice. */
function checkTensors(header: GgufHeader, fileSize: number, path: string): void {
  const names = new Set<string>();
  for (const tensor of header.tensors) {
    if (names.has(tensor.name)) {
      throw new OptNativeError('E_MODEL_FORMAT', `${path}: GGUF tensor '${tensor.name}' appears twice`);
    }
    names.add(tensor.name);
    const end = header.dataStart + tensor.offset + tensorBytes(tensor);
    if (!(end <= fileSize)) {
      throw new OptNativeError(
        'E_MODEL_FORMAT',
        `${path}: GGUF tensor '${tensor.name}' extends past the end of the file (${fileSize} bytes)`,
      );
    }
  }
}

/** Reads the metadata and tensor table of a GGUF file; E_MODEL_FORMAT when it is not one (or is truncated). */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    for (let readBytes = Math.min(FIRST_READ_BYTES, size); ; readBytes = Math.min(readBytes * 4, size)) {
      const buffer = new Uint8Array(readBytes);
      await file.read(buffer, 0, readBytes, 0);
      let header: GgufHeader;
      try {
        header = parseHeader(buffer);
      } catch (error) {
        if (!(error instanceof OutOfBytes)) throw error;
        if (readBytes >= size) throw new OptNativeError('E_MODEL_FORMAT', `${path}: GGUF header is truncated`);
        continue;
      }
      checkTensors(header, size, path);
      return header;
    }
  } finally {
    await file.close();
  }
}

/** llama.cpp's `general.file_type` (LLAMA_FTYPE_MOSTLY_*) names. */
// prettier-ignore
const FILE_TYPE_NAMES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K',
  19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL',
  26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16',
};

export function ggufFileTypeName(fileType: number): string {
  return FILE_TYPE_NAMES[fileType] ?? `file_type ${fileType}`;
}

/**
 * Weight bytes one decoded token reads from a GGUF as llama.cpp runs it: every tensor as the file stores it, except
 * the embedding table when a separate output head exists (a lookup reads one row; a tied head reads it all).
 */
export async function ggufDecodeReadBytes(path: string): Promise<number> {
  const { tensors } = await readGgufHeader(path);
  const untied = tensors.some((tensor) => tensor.name === 'output.weight');
  return tensors
    .filter((tensor) => !(untied && tensor.name === 'token_embd.weight'))
    .reduce((total, tensor) => total + tensorBytes(tensor), 0);
}
