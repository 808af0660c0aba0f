import { OptNativeError } from '../errors.js';
import { splitNativeSpec, type NativeModelRef } from './native-adapter.js';

/** What a model string names. */
export type ModelSpec =
  | ({ provider: 'native'; path: string } & NativeOptions)
  | ({ provider: 'native'; name: string } & NativeOptions)
  | { provider: 'openai'; model: string }
  | { provider: 'openai-compatible'; baseURL: string; model: string }
  | { provider: 'anthropic'; model: string };

/** `native:<model>?adapter=DIR`: a PEFT LoRA adapter, and the SHA-256 of its weights when a model id is given back. */
type NativeOptions = Omit<NativeModelRef, 'model'>;

const USAGE =
  'expected native:/path/model.gguf, native:default (or default), native:<model>?adapter=DIR, openai:MODEL, ' +
  'openai-compatible:http://HOST:PORT/v1#MODEL or anthropic:MODEL';

/** What `default` names in every --model and --evaluator flag: the default local model (`native:default`). */
export const DEFAULT_MODEL_NAME = 'default';

/** The model string with its provider: `default` alone is `native:default`; any other string as it is. */
export function canonicalModelString(modelString: string): string {
  return modelString.trim() === DEFAULT_MODEL_NAME ? `native:${DEFAULT_MODEL_NAME}` : modelString;
}

/** A local model as `generate` and the audio flags take it: `native:X` and `X` name the same model. */
export function localModelSpec(value: string): string {
  const trimmed = value.trim();
  return trimmed.startsWith('native:') ? trimmed.slice('native:'.length).trim() : trimmed;
}

function looksLikePath(value: string): boolean {
  return value.includes('/') || value.includes('\\') || /\.(gguf|safetensors|bin)$/i.test(value);
}

/**
 * Parses `native:/path/model.gguf`, `native:default`, `native:<model>?adapter=DIR`, `openai:gpt-4o-mini`,
 * `openai-compatible:http://127.0.0.1:8000/v1#qwen2.5-7b`, `anthropic:claude-…`, and `default` alone (the default
 * local model, as `generate --model default`). Throws E_BAD_INPUT otherwise.
 */
export function parseModelString(modelString: string): ModelSpec {
  if (modelString.trim() === DEFAULT_MODEL_NAME) return { provider: 'native', name: DEFAULT_MODEL_NAME };
  const colon = modelString.indexOf(':');
  const prefix = colon > 0 ? modelString.slice(0, colon) : '';
  const rest = colon > 0 ? modelString.slice(colon + 1).trim() : '';
  if (rest === '') throw new OptNativeError('E_BAD_INPUT', `bad model string "${modelString}": ${USAGE}`);
  switch (prefix) {
    case 'native':
      return nativeSpec(rest);
    case 'openai':
      return { provider: 'openai', model: rest };
    case 'anthropic':
      return { provider: 'anthropic', model: rest };
    case 'openai-compatible':
      return parseOpenAICompatible(modelString, rest);
    default:
      throw new OptNativeError('E_BAD_INPUT', `unknown provider "${prefix}" in "${modelString}": ${USAGE}`);
  }
}

function nativeSpec(rest: string): ModelSpec {
  const { model, ...options } = splitNativeSpec(rest);
  return looksLikePath(model)
    ? { provider: 'native', path: model, ...options }
    : { provider: 'native', name: model, ...options };
}

function parseOpenAICompatible(modelString: string, rest: string): ModelSpec {
  const hash = rest.lastIndexOf('#');
  const baseURL = hash >= 0 ? rest.slice(0, hash) : rest;
  const model = hash >= 0 ? rest.slice(hash + 1) : '';
  if (model === '') {
    throw new OptNativeError('E_BAD_INPUT', `"${modelString}" names no model after '#': ${USAGE}`);
  }
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    throw new OptNativeError('E_BAD_INPUT', `"${baseURL}" in "${modelString}" is not a URL: ${USAGE}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OptNativeError('E_BAD_INPUT', `"${baseURL}" must be an http(s) URL`);
  }
  return { provider: 'openai-compatible', baseURL, model };
}
