import { OptNativeError } from '../errors.js';
import type { Logger } from '../run/logger.js';
import { AnthropicLanguageModel } from './anthropic.js';
import { parseModelString, type ModelSpec } from './model-string.js';
import { OpenAICompatibleLanguageModel } from './openai-compatible.js';
import { wrapLanguageModel } from './middleware.js';
import { resilienceMiddleware, sharedLimiter, type ResilienceOptions } from './resilience-middleware.js';
import type { LanguageModel } from './types.js';

/** Options for creating a model from a string; provider-specific ones are ignored by the others. */
export interface CreateLanguageModelOptions {
  apiKey?: string;
  /** Overrides the base URL of `openai:` / `anthropic:` models (e.g. a proxy). */
  baseURL?: string;
  timeoutMs?: number;
  /** Retries, shared limit and breaker around HTTP providers; `false` returns the bare provider. */
  resilience?: ResilienceOptions | false;
  /** Retries are logged here at warn level (with the reason and the delay). */
  logger?: Logger;
  /** Passed through to the native loader (device, threads, …). */
  native?: Record<string, unknown>;
}

/** Loads a native model (`native:…`); registered by the native addon's TypeScript side. */
export type NativeLoader = (
  spec: Extract<ModelSpec, { provider: 'native' }>,
  options: Record<string, unknown>,
) => Promise<LanguageModel>;

let nativeLoader: NativeLoader | undefined;

/** Registers how `native:` model strings are loaded (the native provider calls this once on import). */
export function registerNativeLoader(loader: NativeLoader | undefined): void {
  nativeLoader = loader;
}

/** Creates the LanguageModel a model string names. HTTP providers come wrapped in retries, limit and breaker. */
export async function createLanguageModel(
  modelString: string,
  options: CreateLanguageModelOptions = {},
): Promise<LanguageModel> {
  const spec = parseModelString(modelString);
  if (spec.provider === 'native') {
    if (!nativeLoader) {
      throw new OptNativeError(
        'E_NATIVE_UNAVAILABLE',
        `cannot load "${modelString}": no native model loader is registered (the native provider is not available)`,
      );
    }
    return nativeLoader(spec, options.native ?? {});
  }
  const provider = createHttpProvider(spec, options);
  if (options.resilience === false) return provider;
  const limiterKey = `${provider.provider}:${spec.provider === 'openai-compatible' ? spec.baseURL : 'default'}`;
  const logger = options.logger;
  const resilience = resilienceMiddleware({
    name: `${provider.provider}:${provider.modelId}`,
    timeoutMs: options.timeoutMs,
    onRetry: logger
      ? ({ attempt, delayMs, error }) =>
          logger.warn(
            { model: modelString, attempt, delayMs: Math.round(delayMs) },
            `retrying: ${error instanceof Error ? error.message : String(error)}`,
          )
      : undefined,
    ...options.resilience,
    limiter: options.resilience?.limiter ?? sharedLimiter(limiterKey),
  });
  return wrapLanguageModel(provider, resilience);
}

function createHttpProvider(
  spec: Exclude<ModelSpec, { provider: 'native' }>,
  options: CreateLanguageModelOptions,
): LanguageModel {
  switch (spec.provider) {
    case 'openai':
      return new OpenAICompatibleLanguageModel({
        model: spec.model,
        provider: 'openai',
        apiKey: options.apiKey,
        baseURL: options.baseURL,
        timeoutMs: options.timeoutMs,
      });
    case 'openai-compatible':
      return new OpenAICompatibleLanguageModel({
        model: spec.model,
        baseURL: spec.baseURL,
        apiKey: options.apiKey,
        timeoutMs: options.timeoutMs,
      });
    case 'anthropic':
      return new AnthropicLanguageModel({
        model: spec.model,
        apiKey: options.apiKey,
        baseURL: options.baseURL,
        timeoutMs: options.timeoutMs,
      });
  }
}
