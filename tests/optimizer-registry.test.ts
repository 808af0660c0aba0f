/**
 * The optimizer registry: every name builds the optimizer of that name, `max_trials` and the manifest prompt land on
 * keys that the optimizer's config really has, defaults come from the schemas, and bad configs are refused with
 * E_BAD_INPUT naming the parameter.
 */
import { describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import {
  OPTIMIZERS,
  OPTIMIZER_NAMES,
  canonicalOptimizerName,
  createOptimizer,
  optimizerDefaults,
} from '../ts/optimizers/registry.js';
import { EvolutionaryOptimizer } from '../ts/optimizers/evolutionary/optimizer.js';
import { FewShotOptimizer } from '../ts/optimizers/few-shot/optimizer.js';
import { HierarchicalReflectiveOptimizer } from '../ts/optimizers/hierarchical-reflective/optimizer.js';
import { MetaPromptOptimizer } from '../ts/optimizers/meta-prompt/optimizer.js';
import { MiproOptimizer } from '../ts/optimizers/mipro/optimizer.js';
import { OproOptimizer } from '../ts/optimizers/opro/optimizer.js';

describe('optimizer registry', () => {
  it('lists the seven optimizers, each built under its own name', () => {
    expect(OPTIMIZER_NAMES).toEqual([
      'opro',
      'balanced',
      'meta_prompt',
      'few_shot',
      'evolutionary',
      'hierarchical_reflective',
      'mipro',
    ]);
    for (const name of OPTIMIZER_NAMES) expect(createOptimizer(name, {}).name).toBe(name);
    expect(canonicalOptimizerName('evolutionary_optimizer')).toBe('evolutionary');
    expect(() => canonicalOptimizerName('gepa')).toThrow(/unknown optimizer "gepa"; expected one of opro, balanced/);
  });

  it('maps max_trials and the initial prompt onto keys of each config', () => {
    for (const name of OPTIMIZER_NAMES) {
      const { maxTrialsKey, initialPromptKey } = OPTIMIZERS[name];
      const config = createOptimizer(name, { [maxTrialsKey]: 2 }, { initialPrompt: 'Answer Yes or No.' })
        .config as Record<string, unknown>;
      expect(config[maxTrialsKey], name).toBe(2);
      expect(config[initialPromptKey], name).toBe('Answer Yes or No.');
    }
    // A prompt in the config wins over the manifest's.
    const opro = createOptimizer('opro', { baselinePrompt: 'Mine.' }, { initialPrompt: 'Theirs.' });
    expect((opro.config as Record<string, unknown>).baselinePrompt).toBe('Mine.');
  });

  it('gives each optimizer its schema defaults', () => {
    expect(optimizerDefaults('meta_prompt')).toMatchObject({
      rounds: 3,
      evalMode: 'generate',
      optimizerTemperature: 0.9,
      optimizerMaxTokens: 1024,
    });
    expect(optimizerDefaults('few_shot')).toMatchObject({ trials: 10, optimizerMaxTokens: 512 });
    expect(optimizerDefaults('evolutionary')).toMatchObject({ optimizerTemperature: 1 });
    expect(optimizerDefaults('hierarchical_reflective')).toMatchObject({ optimizerTemperature: 0.7 });
    expect(optimizerDefaults('opro')).toMatchObject({ numIterations: 30, candidatesPerIter: 3 });
    expect(optimizerDefaults('balanced')).toMatchObject({
      initialPrompt: "Let's think step by step.",
      weights: { accuracy: 0.5, efficiency: 0.5 },
    });
  });

  it('refuses bad configs with E_BAD_INPUT naming the parameter', () => {
    const refusal = (name: (typeof OPTIMIZER_NAMES)[number], config: Record<string, unknown>) => {
      try {
        createOptimizer(name, config);
      } catch (error) {
        return error instanceof OptNativeError ? `${error.code}: ${error.message}` : String(error);
      }
      return 'accepted';
    };
    expect(refusal('balanced', { evalMode: 'score' })).toBe('E_BAD_INPUT: unknown parameter(s) evalMode');
    expect(refusal('balanced', { batchSize: 0 })).toMatch(/^E_BAD_INPUT: batchSize: /);
    expect(refusal('opro', { candidatesPerIter: 0 })).toMatch(/^E_BAD_INPUT: candidatesPerIter: /);
    expect(refusal('few_shot', { trialz: 3 })).toBe('E_BAD_INPUT: unknown parameter(s) trialz');
    expect(refusal('meta_prompt', { rounds: 2 })).toBe('accepted');
  });

  it('refuses bad configs with E_BAD_INPUT from the constructors too (the library API), never a raw ZodError', () => {
    const builds: [string, () => unknown][] = [
      ['candidatesPerIter', () => new OproOptimizer({ candidatesPerIter: 0 })],
      ['rounds', () => new MetaPromptOptimizer({ rounds: -1 })],
      ['trials', () => new FewShotOptimizer({ trials: -1 })],
      ['populationSize', () => new EvolutionaryOptimizer({ populationSize: 0 })],
      ['unknown parameter(s) roundz', () => new HierarchicalReflectiveOptimizer({ roundz: 1 } as never)],
      ['unknown parameter(s) trialz', () => new MiproOptimizer({ trialz: 1 } as never)],
    ];
    for (const [parameter, build] of builds) {
      expect(build, parameter).toThrow(
        expect.objectContaining({ code: 'E_BAD_INPUT', message: expect.stringContaining(parameter) }),
      );
    }
  });
});
