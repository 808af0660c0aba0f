import type { ExclusiveResidency } from '../run/exclusive-residency.js';
import { canonicalModelString, parseModelString } from './model-string.js';
import { createLanguageModel } from './registry.js';
import { residentLanguageModel } from './resident-model.js';
import { loadScriptedModelFile } from './scripted-file.js';
import type { LanguageModel } from './types.js';

const SCRIPTED_PREFIX = 'scripted:';

export interface LanguageModelResolverOptions {
  /**
   * Low-memory mode: native models take turns in this residency, so only one is in memory at a time (the others are
   * disposed and loaded again when next called). HTTP and scripted models hold no weights and stay as they are.
   */
  readonly residency?: ExclusiveResidency;
}

/** Per model string: what the loader of a native model gets (device, 4-bit loading). */
export interface ResolveOptions {
  readonly native?: Record<string, unknown>;
}

/** Throws E_BAD_INPUT for a model string `resolve` could not take, without loading anything (checks before a run). */
export function checkModelString(modelString: string): void {
  if (!modelString.startsWith(SCRIPTED_PREFIX)) parseModelString(canonicalModelString(modelString));
}

/**
 * Resolves a model option of the CLI or a benchmark task. Model strings go to the provider registry; the hidden `scripted:<path>` form
 * (not in --help) loads a JSON script, for end-to-end tests of commands without a real model. Equal strings (with
 * equal options) share one instance, so `--evaluator X --optimizer-llm X` loads a native model once.
 */
export class LanguageModelResolver {
  private readonly loaded = new Map<string, Promise<LanguageModel>>();

  constructor(private readonly options: LanguageModelResolverOptions = {}) {}

  resolve(given: string, options: ResolveOptions = {}): Promise<LanguageModel> {
    // `default` and `native:default` are one model, loaded once.
    const modelString = canonicalModelString(given);
    const key = options.native === undefined ? modelString : `${modelString} ${JSON.stringify(options.native)}`;
    let model = this.loaded.get(key);
    if (!model) {
      model = this.load(modelString, key, options);
      this.loaded.set(key, model);
    }
    return model;
  }

  async disposeAll(): Promise<void> {
    for (const model of this.loaded.values()) await (await model.catch(() => undefined))?.dispose?.();
    await this.options.residency?.evictAll();
  }

  private load(modelString: string, key: string, options: ResolveOptions): Promise<LanguageModel> {
    if (modelString.startsWith(SCRIPTED_PREFIX)) {
      return Promise.resolve(loadScriptedModelFile(modelString.slice(SCRIPTED_PREFIX.length)));
    }
    const create = () => createLanguageModel(modelString, { native: options.native });
    const residency = this.options.residency;
    if (residency && parseModelString(modelString).provider === 'native') {
      return residentLanguageModel(residency, key, create);
    }
    return create();
  }
}
