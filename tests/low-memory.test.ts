// Low-memory mode (--low-memory): the ExclusiveResidency holds one model at a time, the resolver puts native models
// in it, and an OPRO run then alternates load/dispose between the optimizer LLM and the evaluator — never both held,
// nothing unloaded when both are one model string, and no load at all for calls the response cache or a resumed
// run's recorded steps answer.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { OptNativeError } from '../ts/errors.js';
import { registerNativeLoader } from '../ts/llm/registry.js';
import { LanguageModelResolver } from '../ts/llm/resolver.js';
import { residentLanguageModel } from '../ts/llm/resident-model.js';
import { withRunControls } from '../ts/llm/run-controls.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest, LanguageModel } from '../ts/llm/types.js';
import type { OptimizationRunDirectory } from '../ts/optimizers/contract.js';
import { OproOptimizer } from '../ts/optimizers/opro/index.js';
import { ResponseCache } from '../ts/run/cache.js';
import { ExclusiveResidency, type ResidencySwitch } from '../ts/run/exclusive-residency.js';
import { createTextTask } from '../ts/tasks/text-task.js';

/** A test double of loaded weights: counts how many are alive and logs every load and dispose. */
class Weights {
  static alive = 0;
  static peak = 0;
  static log: string[] = [];

  static reset(): void {
    Weights.alive = 0;
    Weights.peak = 0;
    Weights.log = [];
  }

  static async load(name: string): Promise<Weights> {
    await Promise.resolve();
    Weights.alive += 1;
    Weights.peak = Math.max(Weights.peak, Weights.alive);
    Weights.log.push(`load ${name}`);
    return new Weights(name);
  }

  private disposed = false;
  constructor(readonly name: string) {}

  async run(what: string, gate?: Promise<void>): Promise<string> {
    if (this.disposed) throw new Error(`${this.name} used after dispose`);
    Weights.log.push(`start ${this.name} ${what}`);
    await gate;
    Weights.log.push(`end ${this.name} ${what}`);
    return `${this.name}:${what}`;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    Weights.alive -= 1;
    Weights.log.push(`dispose ${this.name}`);
  }
}

afterEach(() => {
  Weights.reset();
  registerNativeLoader(undefined);
});

describe('ExclusiveResidency', () => {
  it('loads nothing before use, then disposes the resident resource before loading another', async () => {
    const switches: ResidencySwitch[] = [];
    const residency = new ExclusiveResidency((change) => switches.push(change));
    const use = (name: string) =>
      residency.use(
        name,
        () => Weights.load(name),
        (weights) => weights.run('x'),
      );
    expect(residency.residentKey).toBeUndefined();
    expect(await use('a')).toBe('a:x');
    await use('a');
    await use('b');
    await use('a');
    expect(Weights.log.filter((line) => !line.startsWith('start') && !line.startsWith('end'))).toEqual([
      'load a',
      'dispose a',
      'load b',
      'dispose b',
      'load a',
    ]);
    expect(Weights.peak).toBe(1);
    expect(switches.map(({ unloaded, loaded }) => [unloaded, loaded])).toEqual([
      [undefined, 'a'],
      ['a', 'b'],
      ['b', 'a'],
    ]);
    await residency.evictAll();
    expect(Weights.alive).toBe(0);
    expect(residency.residentKey).toBeUndefined();
  });

  it('lets calls on the resident resource run together and makes another wait until they finish', async () => {
    const residency = new ExclusiveResidency();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const first = residency.use(
      'a',
      () => Weights.load('a'),
      (weights) => weights.run('1', gate),
    );
    const second = residency.use(
      'a',
      () => Weights.load('a'),
      (weights) => weights.run('2', gate),
    );
    const other = residency.use(
      'b',
      () => Weights.load('b'),
      (weights) => weights.run('3'),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Both calls on `a` are in flight (in either order); `b` has not been loaded.
    expect([Weights.log[0], ...Weights.log.slice(1).sort()]).toEqual(['load a', 'start a 1', 'start a 2']);
    open();
    await Promise.all([first, second, other]);
    expect([...Weights.log.slice(3, 5)].sort()).toEqual(['end a 1', 'end a 2']);
    expect(Weights.log.slice(5)).toEqual(['dispose a', 'load b', 'start b 3', 'end b 3']);
    expect(Weights.peak).toBe(1);
  });

  it('leaves nothing resident after a failed load, and loads again on the next call', async () => {
    const residency = new ExclusiveResidency();
    await residency.use(
      'a',
      () => Weights.load('a'),
      (weights) => weights.run('x'),
    );
    const broken = () => Promise.reject(new OptNativeError('E_MODEL_LOAD', 'weights missing'));
    await expect(residency.use('b', broken, async () => 'never')).rejects.toMatchObject({ code: 'E_MODEL_LOAD' });
    expect(residency.residentKey).toBeUndefined();
    expect(Weights.alive).toBe(0);
    expect(
      await residency.use(
        'b',
        () => Weights.load('b'),
        (weights) => weights.run('y'),
      ),
    ).toBe('b:y');
  });
});

const walk = (id: string, returns: boolean): Example => ({
  id,
  input: `Walk ${id} (${returns ? 'returns' : 'leaves'}). Do you return?`,
  target: returns ? 'Yes' : 'No',
});
const splits: DatasetSplits = {
  name: 'bbh:fake_walk',
  defaultMetric: 'exact_match',
  train: [walk('t1', true), walk('t2', false)],
  validation: [walk('v1', true), walk('v2', false), walk('v3', true), walk('v4', false)],
  test: [walk('x1', true)],
};
const task = createTextTask(splits);
const carefulPrompt = 'Think carefully, then answer Yes or No.';
const lastUserMessage = (request: GenerateRequest) => request.messages[request.messages.length - 1]?.content ?? '';

/** Stateless doubles (a reloaded model must answer as before): the evaluator and the optimizer of the OPRO run. */
function scriptedModel(name: string): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId: name,
    respond: (request) => {
      if (name === 'writer') return `<INS>${carefulPrompt}</INS>`;
      const content = lastUserMessage(request);
      if (content.includes('carefully')) return content.includes('(returns)') ? 'Yes' : 'No';
      return 'Yes';
    },
    scoreChoices: (request) => request.choices.map(() => -1),
  });
}

/** `native:<name>` loads a scripted double whose dispose is logged, like a native model's weights. */
function registerLoggingNativeLoader(): void {
  registerNativeLoader(async (spec) => {
    const name = 'name' in spec ? spec.name : spec.path;
    const weights = await Weights.load(name);
    const model = scriptedModel(name);
    return Object.assign(model, { dispose: () => weights.dispose() });
  });
}

function memoryRunDirectory(dir: string): OptimizationRunDirectory {
  const steps = new Map<string, unknown>();
  return {
    dir,
    appendEvent: () => undefined,
    async runStep<T>(key: string, fn: () => Promise<T>): Promise<T> {
      if (steps.has(key)) return steps.get(key) as T;
      const value = await fn();
      steps.set(key, JSON.parse(JSON.stringify(value)));
      return value;
    },
  };
}

async function oproRun(options: {
  evaluator: string;
  optimizer: string;
  cache: ResponseCache;
  runDir?: OptimizationRunDirectory;
}): Promise<string> {
  const resolver = new LanguageModelResolver({ residency: new ExclusiveResidency() });
  try {
    const optimizerModel = withRunControls(await resolver.resolve(options.optimizer), { cache: options.cache });
    const model = withRunControls(await resolver.resolve(options.evaluator), { cache: options.cache });
    const outputDir = mkdtempSync(join(tmpdir(), 'low-memory-opro-'));
    const optimizer = new OproOptimizer(
      { numIterations: 2, candidatesPerIter: 1, baselinePrompt: 'Answer with Yes or No only.' },
      { outputDir },
    );
    const result = await optimizer.optimize({
      task,
      trainset: splits.train,
      valset: splits.validation,
      model,
      optimizerModel,
      metric: task.metric,
      seed: 42,
      runDir: options.runDir,
    });
    return result.bestPrompt;
  } finally {
    await resolver.disposeAll();
  }
}

describe('the resolver in low-memory mode, under an OPRO run', () => {
  const loadsAndDisposes = () => Weights.log.filter((line) => /^(load|dispose) /.test(line));

  it('swaps the optimizer LLM and the evaluator at each switch, never holding both', async () => {
    registerLoggingNativeLoader();
    const cache = new ResponseCache(join(mkdtempSync(join(tmpdir(), 'low-memory-cache-')), 'cache.sqlite'));
    const best = await oproRun({ evaluator: 'native:walker', optimizer: 'native:writer', cache });
    expect(best).toBe(carefulPrompt);
    expect(Weights.peak).toBe(1);
    // Resolving loads each once (learning what it can do); then: baseline (walker), propose (writer), evaluate
    // (walker), propose (writer: a duplicate, nothing to evaluate); disposeAll releases the last one.
    expect(loadsAndDisposes()).toEqual([
      'load writer',
      'dispose writer',
      'load walker',
      'dispose walker',
      'load writer',
      'dispose writer',
      'load walker',
      'dispose walker',
      'load writer',
      'dispose writer',
    ]);
    expect(Weights.alive).toBe(0);

    // The same run again over the same response cache: every call is a hit, so only resolving loads anything.
    Weights.reset();
    expect(await oproRun({ evaluator: 'native:walker', optimizer: 'native:writer', cache })).toBe(carefulPrompt);
    expect(loadsAndDisposes()).toEqual(['load writer', 'dispose writer', 'load walker', 'dispose walker']);
    cache.close();
  });

  it('loads nothing more for a resumed run whose steps are recorded', async () => {
    registerLoggingNativeLoader();
    const runDir = memoryRunDirectory(mkdtempSync(join(tmpdir(), 'low-memory-resume-')));
    const cacheDir = mkdtempSync(join(tmpdir(), 'low-memory-cache-'));
    const first = new ResponseCache(join(cacheDir, 'first.sqlite'));
    await oproRun({ evaluator: 'native:walker', optimizer: 'native:writer', cache: first, runDir });
    first.close();
    Weights.reset();
    // A fresh cache: only the recorded steps can answer.
    const second = new ResponseCache(join(cacheDir, 'second.sqlite'));
    expect(await oproRun({ evaluator: 'native:walker', optimizer: 'native:writer', cache: second, runDir })).toBe(
      carefulPrompt,
    );
    expect(loadsAndDisposes()).toEqual(['load writer', 'dispose writer', 'load walker', 'dispose walker']);
    second.close();
  });

  it('unloads nothing when the optimizer and the evaluator are one model string', async () => {
    registerLoggingNativeLoader();
    const cache = new ResponseCache(join(mkdtempSync(join(tmpdir(), 'low-memory-cache-')), 'cache.sqlite'));
    await oproRun({ evaluator: 'native:walker', optimizer: 'native:walker', cache });
    expect(loadsAndDisposes()).toEqual(['load walker', 'dispose walker']);
    cache.close();
  });

  it('keeps the scorer, the model id and the provider of the model it stands for', async () => {
    const residency = new ExclusiveResidency();
    const load = async (): Promise<LanguageModel> => scriptedModel('walker');
    const model = await residentLanguageModel(residency, 'walker', load);
    expect([model.provider, model.modelId, typeof model.scoreChoices, typeof model.scoreChoicesBatch]).toEqual([
      'scripted',
      'walker',
      'function',
      'function',
    ]);
    const scored = await model.scoreChoices!({ messages: [{ role: 'user', content: 'q' }], choices: ['Yes', 'No'] });
    expect(scored.scores.map((score) => score.probability)).toEqual([0.5, 0.5]);
    const streamed: string[] = [];
    const stream = model.stream({ messages: [{ role: 'user', content: 'walk carefully (returns)' }] });
    for await (const chunk of stream) streamed.push(chunk.delta);
    expect([streamed.join(''), (await stream.result).text]).toEqual(['Yes', 'Yes']);
    const plain = await residentLanguageModel(
      residency,
      'plain',
      async () => new ScriptedLanguageModel({ respond: () => 'ok' }),
    );
    expect(plain.scoreChoices).toBeUndefined();
    expect(residency.residentKey).toBe('plain');
  });
});
