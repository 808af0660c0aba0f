import { createLanguageModel } from './registry.js';
import { loadScriptedModelFile } from './scripted-file.js';
import type { LanguageModel } from './types.js';

const SCRIPTED_PREFIX = 'scripted:';

/**
 * Resolves a model option of the CLI or a benchmark task. Model strings go to the provider registry; the hidden `scripted:<path>` form
 * (not in --help) loads a JSON script, for end-to-end tests of commands without a real model. Equal strings share one
 * instance, so `--evaluator X --optimizer-llm X` loads a native model once.
 */
export class LanguageModelResolver {
  private readonly loaded = new Map<string, Promise<LanguageModel>>();

  resolve(modelString: string): Promise<LanguageModel> {
    let model = this.loaded.get(modelString);
    if (!model) {
      model = modelString.startsWith(SCRIPTED_PREFIX)
        ? Promise.resolve(loadScriptedModelFile(modelString.slice(SCRIPTED_PREFIX.length)))
        : createLanguageModel(modelString);
      this.loaded.set(modelString, model);
    }
    return model;
  }

  async disposeAll(): Promise<void> {
    for (const model of this.loaded.values()) await (await model.catch(() => undefined))?.dispose?.();
  }
}
