// scoreChoicesBatch through the scripted double and every wrapper, and score mode through the response cache.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { budgetMiddleware } from '../ts/llm/budget-middleware.js';
import { cacheMiddleware } from '../ts/llm/cache-middleware.js';
import { wrapLanguageModel } from '../ts/llm/middleware.js';
import { groupByChoices } from '../ts/llm/native-provider.js';
import { resilienceMiddleware } from '../ts/llm/resilience-middleware.js';
import { withRunControls } from '../ts/llm/run-controls.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { LanguageModel, ScoreChoicesRequest, ScoreChoicesResult } from '../ts/llm/types.js';
import { Budget } from '../ts/run/budget.js';
import { ResponseCache } from '../ts/run/cache.js';
import { evaluateTextPrompt } from '../ts/tasks/evaluate.js';
import { createTextTask } from '../ts/tasks/text-task.js';

const tempCache = () => new ResponseCache(join(mkdtempSync(join(tmpdir(), 'opt-native-score-')), 'cache.sqlite'));
const ask = (content: string, choices = ['Yes', 'No']): ScoreChoicesRequest => ({
  messages: [{ role: 'user', content }],
  choices,
});
/** log p = -(length of the question) for the first choice, -1 for every other: easy to hand-check. */
const scorer = (request: ScoreChoicesRequest) =>
  request.choices.map((_, index) => (index === 0 ? -(request.messages[0]?.content.length ?? 0) : -1));
const scripted = () => new ScriptedLanguageModel({ respond: () => '', scoreChoices: scorer });

describe('ScriptedLanguageModel.scoreChoicesBatch', () => {
  it('answers each request as scoreChoices would, in order, and records the calls', async () => {
    const model = scripted();
    const requests = [ask('a'), ask('abc', ['x', 'y', 'z'])];
    const batch = await model.scoreChoicesBatch!(requests);
    expect(model.scoreBatchCalls).toBe(1);
    expect(model.scoreCalls).toEqual(requests);
    expect(batch.map((result) => result.best)).toEqual(['Yes', 'y']);
    // softmax of [-1, -1]: one half each; of [-3, -1, -1]: e^-3 / (e^-3 + 2 e^-1) for the first.
    expect(batch[0]!.scores[0]!.probability).toBeCloseTo(0.5, 12);
    expect(batch[1]!.scores[0]!.probability).toBeCloseTo(Math.exp(-3) / (Math.exp(-3) + 2 * Math.exp(-1)), 12);
    expect(batch).toEqual([await model.scoreChoices!(requests[0]!), await model.scoreChoices!(requests[1]!)]);
  });

  it('is absent without a scorer and refuses an aborted request', async () => {
    expect(new ScriptedLanguageModel({ respond: () => '' }).scoreChoicesBatch).toBeUndefined();
    const controller = new AbortController();
    controller.abort();
    await expect(scripted().scoreChoicesBatch!([{ ...ask('q'), signal: controller.signal }])).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
  });
});

describe('wrappers pass scoreChoicesBatch through', () => {
  it('offer it exactly when the wrapped model does', () => {
    const plain = new ScriptedLanguageModel({ respond: () => '' });
    const budget = new Budget({});
    for (const wrap of [
      (m: ScriptedLanguageModel) => wrapLanguageModel(m, budgetMiddleware(budget)),
      (m: ScriptedLanguageModel) => wrapLanguageModel(m, resilienceMiddleware()),
      (m: ScriptedLanguageModel) => wrapLanguageModel(m, cacheMiddleware(tempCache())),
    ]) {
      expect(wrap(plain).scoreChoicesBatch).toBeUndefined();
      expect(wrap(scripted()).scoreChoicesBatch).toBeTypeOf('function');
    }
  });

  it('the budget counts a batch as one call per request and refuses a batch that does not fit', async () => {
    const budget = new Budget({ maxCalls: 3 });
    const model = wrapLanguageModel(scripted(), budgetMiddleware(budget));
    await model.scoreChoicesBatch!([ask('a'), ask('bb')]);
    expect(budget.spent()).toMatchObject({ calls: 2, promptTokens: 2 });
    await expect(model.scoreChoicesBatch!([ask('c'), ask('d')])).rejects.toMatchObject({ code: 'E_BUDGET' });
    expect(budget.spent().calls).toBe(2);
    await model.scoreChoicesBatch!([ask('e')]);
    expect(budget.spent().calls).toBe(3);
  });

  it('the resilient wrapper aborts an in-flight batch when a caller aborts', async () => {
    const seen: (AbortSignal | undefined)[] = [];
    const hanging = {
      ...scripted(),
      scoreChoicesBatch: (requests: ScoreChoicesRequest[]) =>
        new Promise<ScoreChoicesResult[]>((_, reject) => {
          seen.push(...requests.map((request) => request.signal));
          requests[0]?.signal?.addEventListener('abort', () => reject(new Error('stopped')));
        }),
    } as unknown as LanguageModel;
    const model = wrapLanguageModel(hanging, resilienceMiddleware());
    const controller = new AbortController();
    const pending = model.scoreChoicesBatch!([ask('a'), { ...ask('b'), signal: controller.signal }]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(seen).toHaveLength(2);
    expect(seen.every((signal) => signal?.aborted)).toBe(true);
  });
});

describe('score mode through the response cache', () => {
  it('serves stored scores without a call; the key holds model id, messages and choices', async () => {
    const cache = tempCache();
    const inner = scripted();
    const model = wrapLanguageModel(inner, cacheMiddleware(cache));
    const first = await model.scoreChoices!(ask('q'));
    expect(first.cached).toBeUndefined();
    expect(await model.scoreChoices!(ask('q'))).toEqual({ ...first, cached: true });
    expect(inner.scoreCalls).toHaveLength(1);
    await model.scoreChoices!(ask('q', ['No', 'Yes']));
    await model.scoreChoices!(ask('other'));
    await wrapLanguageModel(new ScriptedLanguageModel({ ...scriptedOptions, modelId: 'm2' }), cacheMiddleware(cache))
      .scoreChoices!(ask('q'));
    expect(inner.scoreCalls).toHaveLength(3);
    expect(cache.stats).toMatchObject({ hits: 1, writes: 4 });
  });

  it('a batch sends only its misses to the model, in one call, and keeps the order', async () => {
    const inner = scripted();
    const hits: number[] = [];
    const model = wrapLanguageModel(
      inner,
      cacheMiddleware(tempCache(), (hit) => hits.push(hit.usage.promptTokens)),
    );
    await model.scoreChoices!(ask('b'));
    const batch = await model.scoreChoicesBatch!([ask('a'), ask('b'), ask('ccc')]);
    expect(inner.scoreCalls.map((request) => request.messages[0]?.content)).toEqual(['b', 'a', 'ccc']);
    expect(inner.scoreBatchCalls).toBe(1);
    expect(batch.map((result) => [result.scores[0]?.logprob, result.cached])).toEqual([
      [-1, undefined],
      [-1, true],
      [-3, undefined],
    ]);
    expect(hits).toEqual([1]);
    await model.scoreChoicesBatch!([ask('a'), ask('ccc')]);
    expect(inner.scoreBatchCalls).toBe(1);
  });

  it('a second identical score-mode evaluation makes no model call', async () => {
    const examples: Example[] = ['alpha', 'beta', 'gamma'].map((input, index) => ({
      id: String(index),
      input,
      target: index === 2 ? 'No' : 'Yes',
    }));
    const splits: DatasetSplits = {
      name: 'bbh:toy',
      defaultMetric: 'exact_match',
      train: [],
      validation: examples,
      test: [],
    };
    const inner = scripted();
    const budget = new Budget({});
    const model = withRunControls(inner, { cache: tempCache(), budget });
    const run = () =>
      evaluateTextPrompt({ task: createTextTask(splits), examples, model, instruction: 'Say.', mode: 'score' });
    const first = await run();
    const paid = inner.scoreCalls.length;
    expect(paid).toBe(3);
    const second = await run();
    expect(inner.scoreCalls).toHaveLength(paid);
    expect(second.predictions).toEqual(first.predictions);
    expect(budget.spent()).toMatchObject({ calls: 3, cacheHits: 3 });
  });
});

const scriptedOptions = { respond: () => '', scoreChoices: scorer };

describe('groupByChoices (native provider)', () => {
  it('groups requests with the same choice list, groups in order of first appearance', () => {
    expect(groupByChoices([])).toEqual([]);
    expect(
      groupByChoices([ask('a'), ask('b', ['(A)', '(B)']), ask('c'), ask('d', ['No', 'Yes']), ask('e', ['(A)', '(B)'])]),
    ).toEqual([[0, 2], [1, 4], [3]]);
  });
});

describe("the optimizers' usage meter", () => {
  it('passes scoreChoicesBatch through as one call and counts each scored prompt, cache hits apart', async () => {
    const { UsageMeter } = await import('../ts/optimizers/engine/meter.js');
    const inner = scripted();
    const meter = new UsageMeter();
    const wrapped = meter.wrap(inner);
    const results = await wrapped.scoreChoicesBatch!([ask('a'), ask('bb')]);
    // 'a': -1 vs -1, the first wins the tie; 'bb': -2 vs -1.
    expect(results.map((result) => result.best)).toEqual(['Yes', 'No']);
    expect(inner.scoreBatchCalls).toBe(1);
    expect(meter.snapshot()).toMatchObject({ calls: 2, cacheHits: 0 });
    const fromCache: LanguageModel = Object.assign(scripted(), {
      scoreChoicesBatch: async () => results.map((result) => ({ ...result, cached: true })),
    });
    const cached = meter.wrap(fromCache);
    await cached.scoreChoicesBatch!([ask('a'), ask('bb')]);
    expect(meter.snapshot()).toMatchObject({ calls: 2, cacheHits: 2 });
  });
});
