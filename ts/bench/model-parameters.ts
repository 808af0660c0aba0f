import type { GenerateRequest, LanguageModel } from '../llm/types.js';
import type { ModelParameters } from './types.js';

/** A manifest's `model_parameters` as request fields; they override what the optimizer asks for. */
export function requestOverrides(parameters: ModelParameters): Partial<GenerateRequest> {
  const overrides: Partial<GenerateRequest> = {};
  if (parameters.temperature !== undefined) overrides.temperature = parameters.temperature;
  if (parameters.max_tokens !== undefined) overrides.maxTokens = parameters.max_tokens;
  if (parameters.top_p !== undefined) overrides.topP = parameters.top_p;
  if (parameters.top_k !== undefined) overrides.topK = parameters.top_k;
  if (parameters.seed !== undefined) overrides.seed = parameters.seed;
  return overrides;
}

/** The evaluated model with the manifest's sampling settings applied to every request. */
export function withModelParameters(model: LanguageModel, parameters: ModelParameters): LanguageModel {
  const overrides = requestOverrides(parameters);
  if (Object.keys(overrides).length === 0) return model;
  const apply = (request: GenerateRequest): GenerateRequest => ({ ...request, ...overrides });
  const wrapped: LanguageModel = {
    specificationVersion: model.specificationVersion,
    provider: model.provider,
    modelId: model.modelId,
    generate: (request) => model.generate(apply(request)),
    stream: (request) => model.stream(apply(request)),
    generateBatch: (requests) => model.generateBatch(requests.map(apply)),
    dispose: model.dispose?.bind(model),
  };
  if (model.scoreChoices) wrapped.scoreChoices = model.scoreChoices.bind(model);
  return wrapped;
}
