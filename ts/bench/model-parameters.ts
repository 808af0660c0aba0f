import type { LanguageModelMiddleware } from '../llm/middleware.js';
import { requestOverridesMiddleware } from '../llm/request-overrides.js';
import type { GenerateRequest } from '../llm/types.js';
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

/** The manifest's sampling settings applied to every request of the evaluated model. */
export function modelParametersMiddleware(parameters: ModelParameters): LanguageModelMiddleware {
  return requestOverridesMiddleware(requestOverrides(parameters));
}
