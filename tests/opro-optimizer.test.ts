import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { OptNativeError } from '../ts/errors.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import type { OptimizationRunDirectory } from '../ts/optimizers/contract.js';
import { OproOptimizer } from '../ts/optimizers/opro/index.js';
import { createTextTask } from '../ts/tasks/text-task.js';

const walk = (id: string, returns: boolean): Example => ({
  id,
  input: `Walk ${id} (${returns ? 'returns' : 'leaves'}). Do you return?`,
  target: returns ? 'Yes' : 'No',
});

const splits: DatasetSplits = {
  name: 'bbh:fake_walk',
  defaultMetric: 'exact_match',
  train: [walk('t1', true), walk('t2', false), walk('t3', true)],
  validation: [walk('v1', true), walk('v2', false), walk('v3', true), walk('v4', false)],
  test: [walk('x1', true), walk('x2', false)],
};
const task = createTextTask(splits);

const lastUserMessage = (request: GenerateRequest) => request.messages[request.messages.length - 1]?.content ?? '';

/** Answers right only when told to think "carefully"; otherwise always "Yes" (balanced accuracy 0.5). */
function walker(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId: 'walker',
    respond: (request) => {
      const content = lastUserMessage(request);
      if (content.includes('carefully')) return content.includes('(returns)') ? 'Yes' : 'No';
      return 'Yes';
    },
  });
}

/** Replies with the scripted texts in order, then repeats the last. */
function writer(replies: string[]): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId: 'writer',
    respond: (_request, index) => replies[Math.min(index, replies.length - 1)] ?? '',
  });
}

const baselinePrompt = 'Answer with Yes or No only.'; // 27 chars
const carefulPrompt = 'Think carefully, then answer Yes or No.'; // 39 chars

function inputFor(model: ScriptedLanguageModel, optimizerModel: ScriptedLanguageModel) {
  return {
    task,
    trainset: splits.train,
    valset: splits.validation,
    model,
    optimizerModel,
    metric: task.metric,
    seed: 42,
  };
}

/** An in-memory stand-in for RunDirectory.runStep: enough to check that steps replay. */
function memoryRunDirectory(dir: string): OptimizationRunDirectory & { steps: Map<string, unknown> } {
  const steps = new Map<string, unknown>();
  return {
    dir,
    steps,
    appendEvent: () => undefined,
    async runStep<T>(key: string, fn: () => Promise<T>): Promise<T> {
      if (steps.has(key)) return steps.get(key) as T;
      const value = await fn();
      steps.set(key, JSON.parse(JSON.stringify(value)));
      return value;
    },
  };
}

describe('OproOptimizer on the scripted model', () => {
  it('finds the better prompt, rejects duplicates and stops early', async () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'opro-run-'));
    const optimizer = new OproOptimizer(
      { numIterations: 10, candidatesPerIter: 1, earlyStopping: 2, baselinePrompt },
      { outputDir },
    );
    const model = walker();
    const result = await optimizer.optimize(
      inputFor(
        model,
        writer([
          `Here is one: <INS>${carefulPrompt}</INS>`,
          '<INS>Answer Yes or No.</INS>',
          `<INS>${carefulPrompt.toUpperCase()}</INS>`,
        ]),
      ),
    );
    expect(result.stopReason).toBe('early_stopping');
    expect(result.bestPrompt).toBe(carefulPrompt);
    // balanced accuracy 1.0 − 0.05·39/100 = 0.9805
    expect(result.score).toBeCloseTo(0.9805, 12);
    expect(result.records.map((record) => [record.iteration, record.status, record.rejection_reason])).toEqual([
      [0, 'evaluated', null],
      [1, 'evaluated', null],
      [2, 'evaluated', null],
      [3, 'rejected', 'duplicate of a prompt already tried'],
    ]);
    // Baseline: always "Yes" → recall 1 on Yes, 0 on No → BA 0.5; reward 0.5 − 0.05·0.27 = 0.4865
    expect(result.records[0]).toMatchObject({ prompt: baselinePrompt, ba_clip: 0.5, ba_conditions: null });
    expect(result.records[0]?.reward).toBeCloseTo(0.4865, 12);
    expect(result.memory.map((entry) => entry.prompt)).toEqual([carefulPrompt, 'Answer Yes or No.', baselinePrompt]);
    // 3 evaluations × 4 validation examples, plus 3 optimizer calls.
    expect(model.calls).toHaveLength(12);
    expect(result.usage.calls).toBe(15);
    expect(
      result.iterationStats.map((stats) => [stats.iteration, stats.calls, stats.evaluated, stats.rejected]),
    ).toEqual([
      [0, 4, 1, 0],
      [1, 5, 1, 0],
      [2, 5, 1, 0],
      [3, 1, 0, 1],
    ]);
    expect(Object.isFrozen(result)).toBe(true);
    expect(JSON.parse(JSON.stringify(result)).bestPrompt).toBe(carefulPrompt);
  });

  it('writes the original tool files with their schema', async () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'opro-files-'));
    await new OproOptimizer({ numIterations: 2, candidatesPerIter: 2, baselinePrompt }, { outputDir }).optimize(
      inputFor(walker(), writer([`<INS>${carefulPrompt}</INS><INS><|im_start|>Yes or No</INS>`, '<INS>No</INS>'])),
    );
    const read = (name: string) => readFileSync(join(outputDir, name), 'utf8');
    expect(read('best_prompt.txt')).toBe(carefulPrompt);
    const bestMetrics = JSON.parse(read('best_metrics.json'));
    expect(Object.keys(bestMetrics).sort()).toEqual(
      ['ba_clip', 'ba_conditions', 'iteration', 'metrics', 'prompt', 'prompt_length', 'reward', 'timestamp'].sort(),
    );
    expect(bestMetrics.metrics).toMatchObject({ score_kind: 'balanced_accuracy', accuracy: 1, n_samples: 4 });
    const summary = JSON.parse(read('best_prompt_summary.json'));
    expect(summary).toMatchObject({ best_prompt: carefulPrompt, ba_clip: 1, prompt_length: 39, iteration: 1 });
    const lines = read('opro_prompts.jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // Refusals are recorded while screening, before the survivors are evaluated.
    expect(lines.map((line) => line.status)).toEqual([
      'evaluated',
      'rejected',
      'rejected',
      'evaluated',
      'rejected',
      'rejected',
    ]);
    expect(lines[1].rejection_reason).toBe('contains forbidden token <|im_start|>');
    expect(lines[2].rejection_reason).toBe('too short (2 chars, minimum 10)');
    expect(JSON.parse(read('opro_memory.json'))).toHaveLength(2);
    const history = JSON.parse(read('opro_history.json'));
    expect(history.iterations).toEqual([0, 1]);
    expect(history.best_reward_per_iteration[1]).toBeCloseTo(0.9805, 12);
    expect(history.iteration_stats).toHaveLength(3);
    expect(history.iteration_stats[0]).toMatchObject({ iteration: 0, calls: 4, evaluated: 1 });
    expect(history.stop_reason).toBe('completed');
  });

  it('opens the circuit on repeated evaluation failures and keeps the best so far', async () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'opro-breaker-'));
    const flaky = new ScriptedLanguageModel({
      respond: (_request, index) => {
        if (index < 4) return 'Yes';
        throw new OptNativeError('E_PROVIDER', 'backend down');
      },
    });
    const replies = ['<INS>Answer Yes or No, first.</INS>', '<INS>Answer Yes or No, second.</INS>'];
    replies.push('<INS>Answer Yes or No, third.</INS>', '<INS>Answer Yes or No, fourth.</INS>');
    const result = await new OproOptimizer(
      { numIterations: 10, candidatesPerIter: 1, maxConsecutiveFailures: 2, earlyStopping: 10, baselinePrompt },
      { outputDir },
    ).optimize(inputFor(flaky, writer(replies)));
    expect(result.stopReason).toBe('circuit_open');
    expect(result.bestPrompt).toBe(baselinePrompt);
    expect(result.records.map((record) => record.status)).toEqual([
      'evaluated',
      'evaluation_failed',
      'evaluation_failed',
    ]);
    expect(result.records[1]?.rejection_reason).toMatch(/evaluation failed: \[E_PROVIDER\] .*backend down/);
    expect(readFileSync(join(outputDir, 'best_prompt.txt'), 'utf8')).toBe(baselinePrompt);
  });

  it('fails with E_CIRCUIT_OPEN when nothing could be evaluated, still writing the candidate log', async () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'opro-dead-'));
    const dead = new ScriptedLanguageModel({
      respond: () => {
        throw new Error('no backend');
      },
    });
    await expect(
      new OproOptimizer({ numIterations: 3, candidatesPerIter: 1, maxConsecutiveFailures: 2 }, { outputDir }).optimize(
        inputFor(dead, writer(['<INS>Answer Yes or No, first.</INS>'])),
      ),
    ).rejects.toMatchObject({ code: 'E_CIRCUIT_OPEN' });
    expect(existsSync(join(outputDir, 'opro_prompts.jsonl'))).toBe(true);
    expect(existsSync(join(outputDir, 'best_prompt.txt'))).toBe(false);
  });

  it('stops cleanly when the budget is spent', async () => {
    let calls = 0;
    const budget = {
      check() {
        if (calls >= 9) throw new OptNativeError('E_BUDGET', 'budget exhausted: 9 of 9 calls used');
      },
      record() {
        calls += 1;
        return 0;
      },
    };
    const result = await new OproOptimizer({
      numIterations: 10,
      candidatesPerIter: 1,
      earlyStopping: 10,
      baselinePrompt,
    }).optimize({
      ...inputFor(walker(), writer([`<INS>${carefulPrompt}</INS>`, '<INS>Answer Yes or No.</INS>'])),
      budget,
    });
    // Baseline (4 calls) + generation (1) + evaluation (4) = 9, then the next generation is refused.
    expect(result.stopReason).toBe('budget');
    expect(result.bestPrompt).toBe(carefulPrompt);
    expect(result.usage.calls).toBe(9);
  });

  it('replays recorded steps: a resumed run makes no model calls and reaches the same result', async () => {
    const runDir = memoryRunDirectory(mkdtempSync(join(tmpdir(), 'opro-replay-')));
    const config = { numIterations: 3, candidatesPerIter: 1, earlyStopping: 5, baselinePrompt };
    const replies = [`<INS>${carefulPrompt}</INS>`, '<INS>Answer Yes or No.</INS>', '<INS>Say Yes or No now.</INS>'];
    const first = await new OproOptimizer(config).optimize({ ...inputFor(walker(), writer(replies)), runDir });
    const refusing = new ScriptedLanguageModel({
      respond: () => {
        throw new Error('must not be called on replay');
      },
    });
    const second = await new OproOptimizer(config).optimize({ ...inputFor(refusing, refusing), runDir });
    expect(refusing.calls).toHaveLength(0);
    expect(second.records).toEqual(first.records);
    expect(second.usage).toEqual(first.usage);
    expect(second.wallTime).toBe(first.wallTime);
  });

  it('reports progress: steps, one iteration event per finished iteration, a stop event on budget', async () => {
    const events: string[] = [];
    let calls = 0;
    const budget = {
      check() {
        if (calls >= 14) throw new OptNativeError('E_BUDGET', 'budget exhausted');
      },
      record() {
        calls += 1;
        return 0;
      },
    };
    await new OproOptimizer({ numIterations: 5, candidatesPerIter: 1, earlyStopping: 10, baselinePrompt }).optimize({
      ...inputFor(walker(), writer([`<INS>${carefulPrompt}</INS>`, '<INS>Answer Yes or No.</INS>'])),
      budget,
      onProgress: (progress) => events.push(`${progress.kind}:${progress.iteration}`),
    });
    // 4 (baseline) + 5 (iteration 1) + 5 (iteration 2) = 14 calls; iteration 3's generation is refused.
    expect(events).toEqual(['step:0', 'step:1', 'iteration:1', 'step:2', 'iteration:2', 'stop:3']);
  });

  it('uses the seed for exemplars and sampling seeds of the optimizer model', async () => {
    const seen: GenerateRequest[][] = [[], []];
    for (const [run, seed] of [
      [0, 1],
      [1, 2],
    ] as const) {
      const optimizerModel = new ScriptedLanguageModel({
        respond: (request) => {
          seen[run]!.push(request);
          return '<INS>Answer Yes or No.</INS>';
        },
      });
      await new OproOptimizer({ numIterations: 1, candidatesPerIter: 2, exemplarsPerStep: 1, baselinePrompt }).optimize(
        {
          ...inputFor(walker(), optimizerModel),
          seed,
        },
      );
    }
    expect(seen[0]!.map((request) => request.seed)).not.toEqual(seen[1]!.map((request) => request.seed));
    expect(seen[0]![0]).toMatchObject({ temperature: 0.7, maxTokens: 2000, sampleIndex: 0 });
    expect(seen[0]![1]).toMatchObject({ sampleIndex: 1 });
  });
});
