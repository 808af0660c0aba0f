// What `models info` shows: architecture, parameter count, quantization, context length — from the GGUF header or
// an HF folder's config.json + safetensors headers, without loading weights.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OptNativeError } from '../errors.js';
import { ggufFileTypeName, readGgufHeader, type GgufValue } from './gguf-header.js';

export interface ModelFileInfo {
  path: string;
  format: 'gguf' | 'safetensors';
  architecture: string;
  name?: string;
  parameterCount: number;
  /** GGUF file type (Q4_K_M, …) or the safetensors dtype (BF16, F32, …). */
  quantization: string;
  contextLength?: number;
  layerCount?: number;
  hiddenSize?: number;
  vocabSize?: number;
  sizeBytes: number;
}

function asNumber(value: GgufValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

function product(shape: number[]): number {
  return shape.reduce((total, dimension) => total * dimension, 1);
}

export async function ggufModelInfo(path: string): Promise<ModelFileInfo> {
  const { metadata, tensors } = await readGgufHeader(path);
  const architecture = String(metadata.get('general.architecture') ?? 'unknown');
  const fileType = asNumber(metadata.get('general.file_type'));
  const tokens = metadata.get('tokenizer.ggml.tokens');
  const name = metadata.get('general.name');
  return {
    path,
    format: 'gguf',
    architecture,
    name: typeof name === 'string' ? name : undefined,
    parameterCount: tensors.reduce((total, tensor) => total + product(tensor.shape), 0),
    quantization: fileType === undefined ? 'unknown' : ggufFileTypeName(fileType),
    contextLength: asNumber(metadata.get(`${architecture}.context_length`)),
    layerCount: asNumber(metadata.get(`${architecture}.block_count`)),
    hiddenSize: asNumber(metadata.get(`${architecture}.embedding_length`)),
    vocabSize: typeof tokens === 'object' ? tokens.arrayLength : undefined,
    sizeBytes: (await stat(path)).size,
  };
}

interface SafetensorsSummary {
  parameterCount: number;
  dtypes: Set<string>;
  sizeBytes: number;
}

/** Sums tensor shapes from a safetensors header (8-byte little-endian length, then JSON). */
async function summariseSafetensors(path: string): Promise<SafetensorsSummary> {
  const file = await open(path, 'r');
  try {
    const lengthBytes = Buffer.alloc(8);
    await file.read(lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    const sizeBytes = (await file.stat()).size;
    if (headerLength <= 0 || headerLength > sizeBytes - 8) {
      throw new OptNativeError('E_MODEL_FORMAT', `${path}: not a safetensors file`);
    }
    const headerBytes = Buffer.alloc(headerLength);
    await file.read(headerBytes, 0, headerLength, 8);
    const header = parseSafetensorsHeader(headerBytes, path);
    const summary: SafetensorsSummary = { parameterCount: 0, dtypes: new Set(), sizeBytes };
    const dataBytes = sizeBytes - 8 - headerLength;
    for (const [tensorName, tensor] of Object.entries(header)) {
      if (tensorName === '__metadata__') continue;
      checkSafetensorsEntry(tensorName, tensor, dataBytes, path);
      summary.parameterCount += product(tensor.shape);
      summary.dtypes.add(tensor.dtype);
    }
    return summary;
  } finally {
    await file.close();
  }
}

interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** safetensors dtype -> bytes per element. */
// prettier-ignore
const SAFETENSORS_DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

function parseSafetensorsHeader(bytes: Buffer, path: string): Record<string, SafetensorsEntry> {
  let header: unknown;
  try {
    header = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new OptNativeError('E_MODEL_FORMAT', `${path}: the safetensors header is not valid JSON`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new OptNativeError('E_MODEL_FORMAT', `${path}: the safetensors header is not a JSON object`);
  }
  return header as Record<string, SafetensorsEntry>;
}

/** A tensor entry names a known dtype, a shape and byte offsets that match the shape and lie inside the file. */
function checkSafetensorsEntry(name: string, entry: SafetensorsEntry, dataBytes: number, path: string): void {
  const bad = (why: string) => new OptNativeError('E_MODEL_FORMAT', `${path}: tensor '${name}' ${why}`);
  const elementBytes = SAFETENSORS_DTYPE_BYTES[entry?.dtype];
  if (elementBytes === undefined) throw bad(`has an unknown dtype ${JSON.stringify(entry?.dtype)}`);
  const { shape, data_offsets: offsets } = entry;
  if (!Array.isArray(shape) || !shape.every((dimension) => Number.isSafeInteger(dimension) && dimension >= 0)) {
    throw bad('has a bad shape');
  }
  const [begin, end] = Array.isArray(offsets) ? offsets : [];
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin! < 0 || end! < begin! || end! > dataBytes) {
    throw bad(`has data offsets outside the file's ${dataBytes} data bytes`);
  }
  if (end! - begin! !== product(shape) * elementBytes) throw bad('has data offsets that do not match its shape');
}

interface HfConfig {
  architectures?: string[];
  model_type?: string;
  torch_dtype?: string;
  max_position_embeddings?: number;
  num_hidden_layers?: number;
  hidden_size?: number;
  vocab_size?: number;
  _name_or_path?: string;
}

const CONFIG_SIZES = ['max_position_embeddings', 'num_hidden_layers', 'hidden_size', 'vocab_size'] as const;

/** The sizes shown must be positive integers where given: the native loader refuses anything else. */
function checkConfigSizes(config: HfConfig, folder: string): void {
  for (const field of CONFIG_SIZES) {
    const value: unknown = config[field];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0)) {
      throw new OptNativeError(
        'E_MODEL_FORMAT',
        `${folder}: config.json ${field} must be a positive integer, got ${JSON.stringify(value)}`,
      );
    }
  }
}

/** transformers' `model.safetensors` / `model-00001-of-00002.safetensors`; other safetensors files are not weights. */
function weightFileNames(files: string[]): string[] {
  const modelFiles = files.filter((file) => /^model(?:-\d+-of-\d+)?\.safetensors$/.test(file));
  return modelFiles.length > 0 ? modelFiles : files.filter((file) => file.endsWith('.safetensors'));
}

export async function huggingFaceFolderInfo(folder: string): Promise<ModelFileInfo> {
  let config: HfConfig;
  try {
    config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as HfConfig;
  } catch (cause) {
    throw new OptNativeError('E_MODEL_FORMAT', `${folder}: no readable config.json`, { cause });
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new OptNativeError('E_MODEL_FORMAT', `${folder}: config.json is not a JSON object`);
  }
  checkConfigSizes(config, folder);
  const weightFiles = weightFileNames(await readdir(folder));
  if (weightFiles.length === 0) {
    throw new OptNativeError('E_MODEL_NOT_FOUND', `${folder}: no .safetensors weights next to config.json`);
  }
  const summaries = await Promise.all(weightFiles.map((file) => summariseSafetensors(join(folder, file))));
  const dtypes = new Set(summaries.flatMap((summary) => [...summary.dtypes]));
  return {
    path: folder,
    format: 'safetensors',
    architecture: config.architectures?.[0] ?? config.model_type ?? 'unknown',
    name: config._name_or_path || undefined,
    parameterCount: summaries.reduce((total, summary) => total + summary.parameterCount, 0),
    quantization: dtypes.size > 0 ? [...dtypes].join('+') : (config.torch_dtype ?? 'unknown'),
    contextLength: config.max_position_embeddings,
    layerCount: config.num_hidden_layers,
    hiddenSize: config.hidden_size,
    vocabSize: config.vocab_size,
    sizeBytes: summaries.reduce((total, summary) => total + summary.sizeBytes, 0),
  };
}

/** Info for a GGUF file or an HF model folder. */
export async function modelFileInfo(path: string): Promise<ModelFileInfo> {
  const stats = await stat(path).catch(() => undefined);
  if (!stats) throw new OptNativeError('E_MODEL_NOT_FOUND', `${path} does not exist`);
  return stats.isDirectory() ? huggingFaceFolderInfo(path) : ggufModelInfo(path);
}
