import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from '../ts/index.js';
import type { GenerateResult, LanguageModel, NativeLoader, RunEvent, StreamChunk } from '../ts/index.js';

describe('public API of providers, run infrastructure and serve', () => {
  it('exports the pieces from the package entry', () => {
    for (const name of [
      'createLanguageModel',
      'registerNativeLoader',
      'parseModelString',
      'OpenAICompatibleLanguageModel',
      'AnthropicLanguageModel',
      'wrapLanguageModel',
      'resilienceMiddleware',
      'cacheMiddleware',
      'budgetMiddleware',
      'withRunControls',
      'Budget',
      'BudgetExceeded',
      'ResponseCache',
      'AdaptiveLimiter',
      'CircuitBreaker',
      'retryWithBackoff',
      'RunDirectory',
      'createProgress',
      'createLogger',
      'startServer',
      'ScriptedLanguageModel',
    ]) {
      expect(api, name).toHaveProperty(name);
    }
    expect(api.LANGUAGE_MODEL_SPEC_VERSION).toBe('v1');
  });

  it('keeps the shapes other code is written against', () => {
    expectTypeOf(api.createLanguageModel).returns.resolves.toEqualTypeOf<LanguageModel>();
    expectTypeOf<ReturnType<LanguageModel['stream']>>().toMatchTypeOf<AsyncIterable<StreamChunk>>();
    expectTypeOf<ReturnType<LanguageModel['stream']>['result']>().toEqualTypeOf<Promise<GenerateResult>>();
    expectTypeOf<NativeLoader>().returns.resolves.toEqualTypeOf<LanguageModel>();
    expectTypeOf(api.RunDirectory.prototype.runStep<number>).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(api.RunDirectory.prototype.replay).returns.toEqualTypeOf<readonly RunEvent[]>();
    expectTypeOf(api.Budget.prototype.exhausted).returns.toEqualTypeOf<boolean>();
    expectTypeOf(api.startServer).returns.resolves.toHaveProperty('url').toEqualTypeOf<string>();
  });
});
