import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import {
  ManifestError,
  expandManifest,
  jsonPath,
  loadManifestFile,
  manifestFromFlags,
  manifestSchema,
} from '../ts/bench/manifest.js';
import { canonicalOptimizerName, evaluationTaskOf, optimizerConfigOf } from '../ts/bench/optimizers.js';
import { createTextTask } from '../ts/tasks/text-task.js';

const EXAMPLES = 'examples/manifests';

function issuesOf(manifest: unknown): { path: string; message: string }[] {
  try {
    expandManifest(manifest);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return [...(error as ManifestError).issues];
  }
  throw new Error('the manifest was accepted');
}

describe('manifest schema', () => {
  it('is a valid draft-07 schema that ajv compiles in strict mode', () => {
    const ajv = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true });
    expect(() => ajv.compile(manifestSchema())).not.toThrow();
  });

  it('turns JSON pointers into JSON paths', () => {
    expect(jsonPath('/tasks/1/dataset')).toBe('$.tasks[1].dataset');
    expect(jsonPath('', 'seed')).toBe('$.seed');
    expect(jsonPath('/tasks/0/model_parameters', 'top p')).toBe('$.tasks[0].model_parameters["top p"]');
  });
});

describe('example manifests', () => {
  it('expand explicit tasks in order with their datasets, params, metrics and prompt', () => {
    const { tasks } = loadManifestFile(`${EXAMPLES}/tasks.example.json`);
    expect(tasks.map((task) => task.taskId)).toEqual([
      't000-navigate_train-few_shot-native_default',
      't001-gsm8k-evolutionary-native_default',
      't002-bbh_boolean_expressions-hierarchical_reflective-native_default',
    ]);
    const [fewShot, evolutionary, reflective] = tasks;
    expect(fewShot).toMatchObject({
      dataset: { loader: 'bbh:navigate', split: 'train', count: 5 },
      optimizer: 'few_shot',
      model: 'native:default',
      optimizerModel: 'native:default',
      modelParameters: { temperature: 0 },
      metrics: ['exact_match'],
      testMode: true,
      seed: 42,
    });
    expect(fewShot?.prompt?.[0]?.content).toBe('Answer Yes or No: does the walk end where it started?');
    // The original tool's alias and object metrics.
    expect(evolutionary?.optimizer).toBe('evolutionary');
    expect(evolutionary?.metrics).toEqual(['numeric_match']);
    expect(reflective?.datasets?.validation).toEqual({
      loader: 'bbh:boolean_expressions',
      split: 'validation',
      count: 3,
    });
  });

  it('expand generators as datasets × models × optimizers', () => {
    const { tasks } = loadManifestFile(`${EXAMPLES}/generator.example.json`);
    expect(tasks.map((task) => [task.datasetName, task.optimizer])).toEqual([
      ['bbh:navigate', 'meta_prompt'],
      ['bbh:navigate', 'evolutionary'],
      ['gsm8k', 'meta_prompt'],
      ['gsm8k', 'evolutionary'],
    ]);
    expect(tasks.every((task) => task.seed === 123 && task.testMode && task.modelParameters.temperature === 0)).toBe(
      true,
    );
    expect(tasks[0]?.optimizerPromptParams).toEqual({ max_trials: 1, candidates_per_round: 2 });
  });

  it('the smoke manifest covers two BBH tasks with all six optimizers', () => {
    const { tasks } = loadManifestFile(`${EXAMPLES}/smoke.json`);
    expect(tasks).toHaveLength(12);
    expect(new Set(tasks.map((task) => task.optimizer)).size).toBe(6);
    expect(new Set(tasks.map((task) => task.datasetName))).toEqual(
      new Set(['bbh:navigate', 'bbh:boolean_expressions']),
    );
  });
});

describe('manifest validation', () => {
  it('lists every error with its JSON path, schema and semantic alike', () => {
    const issues = issuesOf({
      seed: 'one',
      tasks: [
        { dataset: 'nope:x', optimizer: 'opro', model: 'bad' },
        { dataset: { loader: 'bbh:navigate', count: 0 }, optimizer: 'magic', model: 'native:default', extra: 1 },
        { dataset: 'bbh:navigate', optimizer: 'few_shot', model: 'native:default', optimizer_params: { trialz: 3 } },
        { optimizer: 'opro', model: 'native:default', model_parameters: { temperature: 3 } },
      ],
    });
    expect(issues).toEqual([
      { path: '$.seed', message: 'must be integer' },
      { path: '$.tasks[1].extra', message: 'is not a known property' },
      { path: '$.tasks[1].dataset.count', message: 'must be >= 1' },
      {
        path: '$.tasks[1].optimizer',
        message:
          'must be one of "opro", "balanced", "meta_prompt", "few_shot", "evolutionary", "evolutionary_optimizer", "hierarchical_reflective"',
      },
      { path: '$.tasks[3].dataset', message: 'is required' },
      { path: '$.tasks[3].model_parameters.temperature', message: 'must be <= 2' },
      {
        path: '$.tasks[0].dataset',
        message: expect.stringContaining('unknown dataset "nope:x"; known families:'),
      },
      { path: '$.tasks[0].model', message: expect.stringContaining('bad model string "bad"') },
      { path: '$.tasks[2].optimizer_params', message: 'few_shot parameters: unknown parameter(s) trialz' },
    ]);
  });

  it('points generator errors at the offending list entry', () => {
    const issues = issuesOf({
      generators: [
        {
          datasets: [{ dataset: 'bbh:navigate' }],
          models: ['native:default', 'nowhere:x'],
          optimizers: [{ name: 'evolutionary', optimizer_params: { population_size: 1 } }],
        },
      ],
    });
    expect(issues.map((issue) => issue.path)).toEqual(['$.generators[0].optimizers[0]', '$.generators[0].models[1]']);
    expect(issues[0]?.message).toContain('populationSize');
  });

  it("checks eval_mode against each optimizer's parameters", () => {
    const issues = issuesOf({
      generators: [
        {
          datasets: [{ dataset: 'bbh:navigate' }],
          models: ['native:default'],
          optimizers: [
            { name: 'meta_prompt', optimizer_params: { eval_mode: 'scored' } },
            { name: 'balanced', optimizer_params: { eval_mode: 'score' } },
            { name: 'opro', optimizer_params: { eval_mode: 'score' } },
            { name: 'hierarchical_reflective', optimizer_prompt_params: { eval_mode: 'score' } },
          ],
        },
      ],
    });
    expect(issues).toEqual([
      {
        path: '$.generators[0].optimizers[0]',
        message: expect.stringMatching(/^meta_prompt parameters: evalMode: .*"generate"\|"score"/),
      },
      // Balanced scores answer length too, so it always generates.
      { path: '$.generators[0].optimizers[1]', message: 'balanced parameters: unknown parameter(s) evalMode' },
    ]);
  });

  it('needs tasks or generators, and refuses a manifest that is not an object', () => {
    expect(issuesOf({ seed: 1 })).toEqual([{ path: '$', message: 'needs "tasks" or "generators"' }]);
    expect(issuesOf([1])).toEqual([{ path: '$', message: 'must be object' }]);
  });
});

describe('optimizer parameters', () => {
  it("maps the original tool's max_trials to each optimizer's iteration count and splits off n_samples", () => {
    expect(optimizerConfigOf('few_shot', { max_trials: 3 }, { n_samples: 5, max_demos: 2 })).toEqual({
      config: { trials: 3, maxDemos: 2 },
      runner: { nSamples: 5 },
    });
    expect(optimizerConfigOf('evolutionary', {}, { max_trials: 2, num_generations: 4 }).config).toEqual({
      generations: 4,
    });
    expect(optimizerConfigOf('opro', { max_trials: 7 }, {}).config).toEqual({ numIterations: 7 });
    expect(canonicalOptimizerName('evolutionary_optimizer')).toBe('evolutionary');
  });

  it('splits off the score-mode calibration for the runner and refuses an unknown one', () => {
    expect(optimizerConfigOf('opro', { eval_mode: 'score', calibration: 'batch' }, {})).toEqual({
      config: { evalMode: 'score' },
      runner: { calibration: 'batch' },
    });
    expect(() => optimizerConfigOf('opro', { calibration: 'platt' }, {})).toThrow(
      expect.objectContaining({ code: 'E_BAD_INPUT', message: expect.stringContaining('none, contextual, batch') }),
    );
  });

  it('scores a final prompt in the format it was optimized in (balanced: system prompt, its own max tokens)', () => {
    const example = { id: 'e', input: 'Is it?', target: 'Yes' };
    const task = createTextTask({
      name: 'yn',
      defaultMetric: 'exact_match',
      train: [example],
      validation: [],
      test: [],
    });
    const balanced = evaluationTaskOf('balanced', { maxTokens: 32 }, task);
    expect(balanced.formatMessages('Answer Yes or No.', example)).toEqual([
      { role: 'system', content: 'Answer Yes or No.' },
      { role: 'user', content: 'Is it?' },
    ]);
    expect(balanced.maxAnswerTokens).toBe(32);
    expect(evaluationTaskOf('balanced', {}, task).maxAnswerTokens).toBe(task.maxAnswerTokens);
    // The others evaluate candidates through the task itself, which adds its answer format (one target: free form).
    expect(evaluationTaskOf('meta_prompt', { maxTokens: 32 }, task)).toBe(task);
    expect(task.formatMessages('Answer Yes or No.', example)).toEqual([
      {
        role: 'user',
        content:
          'Answer Yes or No.\n\nQ: Is it?\nEnd your reply with the line "The answer is X." where X is your answer.\nA:',
      },
    ]);
  });

  it('builds the one-generator manifest of the command-line flags', () => {
    const tasks = expandManifest(
      manifestFromFlags({
        datasets: ['bbh:navigate', 'gsm8k'],
        optimizers: ['opro', 'few_shot'],
        models: [],
        testMode: true,
      }),
    );
    expect(tasks.map((task) => task.taskId)).toEqual([
      't000-bbh_navigate-opro-native_default',
      't001-bbh_navigate-few_shot-native_default',
      't002-gsm8k-opro-native_default',
      't003-gsm8k-few_shot-native_default',
    ]);
  });
});
