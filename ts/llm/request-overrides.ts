import type { LanguageModelMiddleware } from './middleware.js';
import type { GenerateRequest } from './types.js';

/** Sets the given request fields on every generation request, over what the caller asked for. */
export function requestOverridesMiddleware(overrides: Partial<GenerateRequest>): LanguageModelMiddleware {
  return {
    name: 'request-overrides',
    transformParams: (request) => ({ ...request, ...overrides }),
  };
}
