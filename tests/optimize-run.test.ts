/** Orchestration of `optimize.run` with the scripted test double: strategies, cache, parsing, stops, failures. */
import { describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { lastFencedBlock, optimize, REASK_PROMPT } from '../ts/optimize/index.js';
import { Budget } from '../ts/run/budget.js';

const TASK = 'Find the number x that maximizes -(x - 3)^2.';
const QUESTION = 'What is the next x to try such that the score is higher?';

/** Step and slot of a request, from the seed the run derives (seed + step * 1000 + slot). */
function stepOf(request: GenerateRequest): { step: number; slot: number } {
  const seed = request.seed ?? 0;
  return { step: Math.floor(seed / 1000), slot: seed % 1000 };
}

/** A model that answers proposal (step, slot) with `table[step][slot]`, wrapped in a fenced block. */
function tableModel(table: Record<number, string[]>): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    respond: (request) => {
      const { step, slot } = stepOf(request);
      return `Let me try.\n\`\`\`\n${table[step]?.[slot] ?? '0'}\n\`\`\``;
    },
  });
}

function quadratic() {
  const calls: string[] = [];
  const f = (x: string): [number, string] => {
    calls.push(x);
    const value = Number(x);
    return [-((value - 3) ** 2), `x=${x} is ${Math.abs(value - 3)} away`];
  };
  return { f, calls };
}

describe('lastFencedBlock', () => {
  it('takes the last block, non-greedily, and honours longer fences', () => {
    expect(lastFencedBlock('a\n```\none\n```\nthen\n```python\ntwo\n```\nbye')).toBe('two');
    expect(lastFencedBlock('````md\nouter\n```\ninner\n```\n````')).toBe('outer\n```\ninner\n```');
    expect(lastFencedBlock('```\nunclosed')).toBeUndefined();
    expect(lastFencedBlock('no block at all')).toBeUndefined();
  });
});

describe('optimize.run (topk)', () => {
  it('scores x0, evaluates each step, keeps the best and counts usage', async () => {
    const model = tableModel({ 1: ['1', '5'], 2: ['2.5', '4'], 3: ['3', '2'] });
    const { f, calls } = quadratic();
    const result = await optimize.run(TASK, QUESTION, f, '0', { model, maxSteps: 3, proposalsPerStep: 2 });
    expect(result.bestX).toBe('3');
    expect(result.bestScore).toBe(-0);
    expect(calls).toEqual(['0', '1', '5', '2.5', '4', '3', '2']);
    expect(result.history.map((c) => [c.step, c.proposal, c.x, c.score])).toEqual([
      [0, 0, '0', -9],
      [1, 0, '1', -4],
      [1, 1, '5', -4],
      [2, 0, '2.5', -0.25],
      [2, 1, '4', -1],
      [3, 0, '3', -0],
      [3, 1, '2', -1],
    ]);
    expect(result).toMatchObject({ evaluations: 7, steps: 3, stopReason: 'completed' });
    expect(result.usage.calls).toBe(6);
    // "Let me try. ``` N ```": 6 whitespace tokens per reply, 6 replies
    expect(result.usage.completionTokens).toBe(36);
    expect(Object.isFrozen(result.history)).toBe(true);
  });

  it('shows the best k worst-first and the latest feedback, so the context stays bounded', async () => {
    const model = tableModel({ 1: ['1'], 2: ['2.9'], 3: ['10'], 4: ['2'] });
    const { f } = quadratic();
    await optimize.run(TASK, QUESTION, f, '0', { model, maxSteps: 4, proposalsPerStep: 1, topK: 2 });
    const prompt = model.calls[3]?.messages[1]?.content ?? '';
    const history = prompt.slice(prompt.indexOf('# Earlier'), prompt.indexOf('# Feedback'));
    expect(history.match(/score: [-\d.]+/g)).toEqual(['score: -4', 'score: -0.01']);
    expect(prompt).toContain('```\n10\n```\nscore: -49\nfeedback: x=10 is 7 away');
    expect(prompt).toContain(QUESTION);
  });

  it('never evaluates a repeated x again, within a step or across steps', async () => {
    const model = tableModel({ 1: ['1', '1'], 2: ['0', '1'] });
    const { f, calls } = quadratic();
    const result = await optimize.run(TASK, QUESTION, f, '0', { model, maxSteps: 2, proposalsPerStep: 2 });
    expect(calls).toEqual(['0', '1']);
    expect(result.history.map((c) => [c.x, c.score, c.repeated])).toEqual([
      ['0', -9, false],
      ['1', -4, false],
      ['1', -4, true],
      ['0', -9, true],
      ['1', -4, true],
    ]);
    expect(result.evaluations).toBe(2);
  });

  it('evaluates the proposals of one step concurrently', async () => {
    const model = tableModel({ 1: ['1', '2', '4'] });
    let inFlight = 0;
    let peak = 0;
    const f = async (x: string) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight -= 1;
      return { score: Number(x), feedback: '' };
    };
    await optimize.run(TASK, QUESTION, f, '0', { model, maxSteps: 1, proposalsPerStep: 3 });
    expect(peak).toBe(3);
  });

  it('re-asks once when a reply has no fenced block, then gives up on that proposal', async () => {
    const model = new ScriptedLanguageModel({
      respond: (request) => {
        const reasked = request.messages[request.messages.length - 1]?.content === REASK_PROMPT;
        const { slot } = stepOf(request);
        if (slot === 0) return reasked ? '```\n2\n```' : 'I think 2 is good.';
        return 'still no block';
      },
    });
    const { f, calls } = quadratic();
    const result = await optimize.run(TASK, QUESTION, f, '0', { model, maxSteps: 1, proposalsPerStep: 2 });
    expect(model.calls).toHaveLength(4);
    expect(model.calls[2]?.messages.slice(-2)).toEqual([
      { role: 'assistant', content: 'I think 2 is good.' },
      { role: 'user', content: REASK_PROMPT },
    ]);
    expect(calls).toEqual(['0', '2']);
    expect(result.history[2]).toMatchObject({
      x: '',
      score: null,
      error: 'no fenced block with a new x, even after one re-ask',
    });
  });

  it('minimizes and stops at stopScore', async () => {
    const model = tableModel({ 1: ['5'], 2: ['3.5'], 3: ['3'] });
    const f = (x: string): [number, string] => [Math.abs(Number(x) - 3), ''];
    const result = await optimize.run(TASK, QUESTION, f, '10', {
      model,
      maxSteps: 10,
      proposalsPerStep: 1,
      minimize: true,
      stopScore: 0.5,
    });
    expect(result).toMatchObject({ bestX: '3.5', bestScore: 0.5, steps: 2, stopReason: 'stop_score' });
    expect(model.calls).toHaveLength(2);
    expect(model.calls[0]?.messages[1]?.content).toContain('lower is better');
  });
});

describe('optimize.run (chat)', () => {
  it("grows one conversation with each step's best reply and its result", async () => {
    const model = tableModel({ 1: ['1', '2'], 2: ['4', '3'] });
    const { f } = quadratic();
    const result = await optimize.run(TASK, QUESTION, f, '0', {
      model,
      strategy: 'chat',
      maxSteps: 2,
      proposalsPerStep: 2,
    });
    expect(result.bestX).toBe('3');
    const second = model.calls[2]?.messages ?? [];
    expect(second.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(second[1]?.content).toContain('```\n0\n```');
    expect(second[1]?.content).toContain('score: -9');
    // slot 1 ("2", score -1) beat slot 0 ("1", score -4): the conversation follows it
    expect(second[2]?.content).toBe('Let me try.\n```\n2\n```');
    expect(second[3]?.content).toContain('score: -1\nfeedback: x=2 is 1 away');
  });
});

describe('optimize.run failures', () => {
  it('a throwing, NaN or malformed objective becomes feedback for the model; the run goes on', async () => {
    const model = tableModel({ 1: ['crash', 'nan'], 2: ['object', '3'], 3: ['1'] });
    const f = (x: string) => {
      if (x === 'crash') throw new Error('division by zero');
      if (x === 'nan') return [Number.NaN, 'oops'] as [number, string];
      if (x === 'object') return { score: '7' } as unknown as { score: number };
      return [-((Number(x) - 3) ** 2), ''] as [number, string];
    };
    const result = await optimize.run(TASK, QUESTION, f, '0', { model, maxSteps: 3, proposalsPerStep: 2 });
    expect(result.bestX).toBe('3');
    expect(result.history.slice(1, 4).map((c) => c.error)).toEqual([
      '[E_EVALUATOR] the objective threw: division by zero',
      '[E_EVALUATOR] the objective returned the score NaN, not a finite number',
      '[E_EVALUATOR] the objective returned the score "7", not a finite number',
    ]);
    const prompt = model.calls[2]?.messages[1]?.content ?? '';
    expect(prompt).toContain('the evaluation failed: [E_EVALUATOR] the objective returned the score NaN');
  });

  it('stops cleanly on the budget and on abort, with the best so far', async () => {
    const model = tableModel({ 1: ['1'], 2: ['2'], 3: ['3'] });
    const { f } = quadratic();
    const byBudget = await optimize.run(TASK, QUESTION, f, '0', {
      model,
      maxSteps: 3,
      proposalsPerStep: 1,
      budget: new Budget({ maxCalls: 2 }),
    });
    expect(byBudget).toMatchObject({ stopReason: 'budget', bestX: '2', steps: 2 });
    const controller = new AbortController();
    controller.abort();
    const aborted = await optimize.run(TASK, QUESTION, f, '0', { model, signal: controller.signal });
    expect(aborted).toMatchObject({ stopReason: 'aborted', bestX: '0', bestScore: -9 });
  });

  it('refuses bad input with E_BAD_INPUT', async () => {
    const model = tableModel({});
    const { f } = quadratic();
    await expect(optimize.run('', QUESTION, f, '0', { model })).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
    await expect(optimize.run(TASK, QUESTION, f, '0', { model, proposalsPerStep: 0 })).rejects.toMatchObject({
      code: 'E_BAD_INPUT',
    });
    await expect(optimize.run(TASK, QUESTION, f, '0', { model, strategy: 'beam' as 'topk' })).rejects.toMatchObject({
      code: 'E_BAD_INPUT',
    });
  });
});

describe('package entry', () => {
  it('exports optimize, the sandbox helpers and the scorers', async () => {
    const api = await import('../ts/index.js');
    expect(api.optimize.run).toBe(optimize.run);
    for (const name of ['runPython', 'runNode', 'listenOnServiceSocket'] as const)
      expect(typeof api.sandbox[name]).toBe('function');
    expect(typeof api.llmScorer).toBe('function');
    expect(typeof api.sandboxEvaluator).toBe('function');
  });
});
