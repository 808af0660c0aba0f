/**
 * MIPROv2: the auto presets and trial numbering against DSPy's formulas (hand-computed), demo bootstrapping that
 * keeps only traces scoring the threshold, TPE finding the instruction that works, and a resumed run that replays
 * every step without calling a model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import {
  adjustedTrialCount,
  miproConfigSchema,
  miproRunSettings,
  runMipro,
  trialSchedule,
  trialsForCandidates,
  type MiproAdapter,
  type MiproResult,
} from '../ts/optimizers/mipro/index.js';
import { replyField } from '../ts/optimizers/mipro/prompts.js';
import { createOptimizer } from '../ts/optimizers/registry.js';
import { RunDirectory } from '../ts/run/run-directory.js';
import { BASELINE, toyInput, toyTaskModel } from './optimizer-toy.js';

const dir = mkdtempSync(join(tmpdir(), 'mipro-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('MIPROv2 settings and schedule', () => {
  it('derives trials from candidates as DSPy does: max(2·M·log2 N, 1.5·N)', () => {
    expect(trialsForCandidates(1, false, 6)).toBe(10); // max(4 · 2.585, 9) = 10.34
    expect(trialsForCandidates(1, true, 6)).toBe(9); // max(2 · 2.585, 9)
    expect(trialsForCandidates(1, false, 12)).toBe(18); // max(14.34, 18)
    expect(trialsForCandidates(1, false, 18)).toBe(27); // max(16.68, 27)
  });

  it('applies the auto presets: half the candidates are instructions, minibatches only above 50 examples', () => {
    const light = miproRunSettings(miproConfigSchema.parse({}), 20);
    expect(light).toEqual({
      numTrials: 10,
      numInstructCandidates: 3,
      numFewshotCandidates: 6,
      valSize: 20,
      minibatch: false,
      zeroShot: false,
    });
    const medium = miproRunSettings(miproConfigSchema.parse({ auto: 'medium' }), 400);
    expect([medium.valSize, medium.minibatch, medium.numInstructCandidates, medium.numTrials]).toEqual([
      300,
      true,
      6,
      18,
    ]);
    const zeroShot = miproRunSettings(miproConfigSchema.parse({ maxBootstrappedDemos: 0, maxLabeledDemos: 0 }), 10);
    expect([zeroShot.numInstructCandidates, zeroShot.numTrials, zeroShot.zeroShot]).toEqual([6, 9, true]);
  });

  it('refuses auto together with explicit candidates, and no auto without them', () => {
    const code = (config: object) => {
      try {
        miproRunSettings(miproConfigSchema.parse(config), 10);
        return 'accepted';
      } catch (error) {
        return error instanceof OptNativeError ? error.code : String(error);
      }
    };
    expect(code({ auto: 'light', numTrials: 3 })).toBe('E_BAD_INPUT');
    expect(code({ auto: null, numTrials: 3 })).toBe('E_BAD_INPUT');
    expect(code({ auto: null, numTrials: 3, numCandidates: 2 })).toBe('accepted');
  });

  it('numbers trials as DSPy on Optuna: each full evaluation takes a trial number', () => {
    // 10 trials, full evaluation every 5: 10 + 2 + 1 = 13 trials in all (default, 10 minibatch, 2 full).
    expect(adjustedTrialCount(10, 5, true)).toBe(13);
    const ten = trialSchedule(10, 5, true);
    expect(ten.map((trial) => trial.trialNumber)).toEqual([2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);
    expect(ten.filter((trial) => trial.fullEvalAfter).map((trial) => trial.trialNumber)).toEqual([6, 12]);
    // 8 trials every 3: 8 + 2 + 1 + 1 (an extra one at the end) = 12.
    expect(adjustedTrialCount(8, 3, true)).toBe(12);
    const eight = trialSchedule(8, 3, true);
    expect(eight.map((trial) => trial.trialNumber)).toEqual([2, 3, 4, 6, 7, 8, 10, 11]);
    expect(eight.filter((trial) => trial.fullEvalAfter).map((trial) => trial.trialNumber)).toEqual([4, 8, 11]);
    expect(trialSchedule(4, 3, false).some((trial) => trial.fullEvalAfter)).toBe(false);
  });
});

/**
 * A toy program: questions q1…q6 with answers a1…a6. The task model answers everything right under an instruction
 * naming GOOD, nothing under BAD, and otherwise the odd questions right and the even ones "close" (scored 0.5).
 */
interface ToyExample {
  readonly id: string;
  readonly question: string;
  readonly answer: string;
}

const toyExamples = (ids: number[]): ToyExample[] =>
  ids.map((index) => ({ id: `e${index}`, question: `q${index}`, answer: `a${index}` }));

const toyAdapter: MiproAdapter<ToyExample> = {
  basicInstruction: 'Answer.',
  programSummary: 'answer = Predict("question -> answer")',
  maxTokens: 8,
  exampleId: (example) => example.id,
  messages: (program, example) => [
    { role: 'system', content: program.instruction },
    ...program.demos.flatMap((demo) => [
      { role: 'user' as const, content: demo.input },
      { role: 'assistant' as const, content: demo.output },
    ]),
    { role: 'user', content: example.question },
  ],
  score: async (example, reply) => ({ score: reply === example.answer ? 1 : reply === 'close' ? 0.5 : 0 }),
  labeledDemo: (example) => ({ input: example.question, output: example.answer, augmented: false }),
  tracedDemo: (example, reply) => ({ input: example.question, output: reply, augmented: true }),
  describeExample: (example) => `${example.question} -> ${example.answer}`,
  render: (program) => JSON.stringify(program),
};

function taskModel(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId: 'toy-task',
    respond: (request: GenerateRequest) => {
      const system = request.messages[0]?.content ?? '';
      const index = Number((request.messages.at(-1)?.content ?? 'q0').slice(1));
      if (system.includes('GOOD')) return `a${index}`;
      if (system.includes('BAD')) return 'wrong';
      return index % 2 === 1 ? `a${index}` : 'close';
    },
  });
}

/** Proposes BAD first and GOOD second; every other meta-prompt gets a short field reply. */
function promptModel(): ScriptedLanguageModel {
  let proposals = 0;
  return new ScriptedLanguageModel({
    modelId: 'toy-writer',
    respond: (request) => {
      const content = request.messages[0]?.content ?? '';
      if (content.includes('[[ ## proposed_instruction ## ]]')) {
        proposals += 1;
        return `[[ ## proposed_instruction ## ]]\nAnswer. ${proposals === 1 ? 'BAD' : 'GOOD'}`;
      }
      return '[[ ## observations ## ]]\nShort questions with short answers.';
    },
  });
}

const searchConfig = miproConfigSchema.parse({
  auto: null,
  numCandidates: 3,
  numTrials: 8,
  maxBootstrappedDemos: 1,
  maxLabeledDemos: 1,
  minibatchSize: 2,
  minibatchFullEvalSteps: 3,
  startupTrials: 4,
});

async function toyRun(runDir?: RunDirectory, models = { model: taskModel(), optimizerModel: promptModel() }) {
  return runMipro(searchConfig, {
    adapter: toyAdapter,
    // q2 comes first: the teacher's 0.5 answer to it must not become a demo.
    trainset: toyExamples([2, 1, 3, 4]),
    valset: toyExamples([5, 6, 7, 8]),
    ...models,
    seed: 3,
    runDir,
  });
}

describe('proposer replies', () => {
  it('reads the field after its marker as small models write it, and an echoed marker as nothing', () => {
    // Replies of Qwen2.5-Coder-1.5B in the real run (docs/teacher-student.md).
    expect(replyField('[[ ## summary ## ]]', 'summary')).toBe('');
    expect(replyField('[[## proposed_instruction## ]].', 'proposed_instruction')).toBe('');
    expect(replyField('[[## observations ##]]\n\n- Grid puzzles.', 'observations')).toBe('- Grid puzzles.');
    expect(
      replyField('[[ ## proposed_instruction ## ]]\nInstruction: "Walk to the goal."', 'proposed_instruction'),
    ).toBe('Walk to the goal.');
    expect(replyField('No marker at all.', 'summary')).toBe('No marker at all.');
  });

  it('reads a field written before its closing marker, but not a lead-in', () => {
    // Qwen2.5-Coder-1.5B in the session-7 run (docs/teacher-student.md): the instruction first, the marker last.
    const written =
      'Task Description: Your mission is to navigate through a Minigrid gridworld to find a specific green goal. ' +
      '[[ ## proposed_instruction ## ]]';
    expect(replyField(written, 'proposed_instruction')).toBe(
      'Your mission is to navigate through a Minigrid gridworld to find a specific green goal.',
    );
    const leadIn =
      'Sure! Based on the provided dataset, an appropriate new instruction for the Language Model to prompt could ' +
      'be:\n[[ ## proposed_instruction ## ]]';
    expect(replyField(leadIn, 'proposed_instruction')).toBe('');
    expect(replyField('[[ ## observations ## ]] grids [[ ## summary ## ]]', 'summary')).toBe('grids');
  });
});

describe('MIPROv2 search', () => {
  it('bootstraps only traces that score 1.0, proposes grounded instructions, and finds the good one', async () => {
    const models = { model: taskModel(), optimizerModel: promptModel() };
    const result: MiproResult = await toyRun(undefined, models);
    // Set 0 zero-shot, set 1 one labelled demo, set 2 the first trace scoring 1.0 (q1; q2's 0.5 was refused).
    expect(result.demoSets[0]).toEqual([]);
    expect(result.demoSets[1]).toHaveLength(1);
    expect(result.demoSets[1]?.[0]?.augmented).toBe(false);
    expect(result.demoSets[2]).toEqual([{ input: 'q1', output: 'a1', augmented: true }]);
    expect(result.instructions.map((proposal) => proposal.instruction)).toEqual([
      'Answer.',
      'Answer. BAD',
      'Answer. GOOD',
    ]);
    // Default (full) + 8 minibatch trials + 3 full evaluations, numbered as DSPy numbers them.
    expect(result.trials.map((trial) => `${trial.trialNumber}${trial.fullEval ? 'F' : ''}`)).toEqual([
      '1F',
      '2',
      '3',
      '4',
      '5F',
      '6',
      '7',
      '8',
      '9F',
      '10',
      '11',
      '12F',
    ]);
    // The default program: q5, q7 right, q6, q8 "close": (1 + 0.5 + 1 + 0.5) / 4.
    expect(result.defaultScore).toBe(0.75);
    expect(result.program.instruction).toBe('Answer. GOOD');
    expect(result.score).toBe(1);
    // Random startup proposes GOOD three times; once TPE takes over (5 observations ≥ 4) it tries BAD once at trial
    // 7, scores 0, and proposes GOOD from then on.
    const searched = result.trials.filter((trial) => !trial.fullEval).map((trial) => trial.params.instruction);
    expect(searched).toEqual([2, 2, 2, 2, 1, 2, 2, 2]);
    // Each full evaluation takes the best-averaging configuration not yet fully evaluated (first seen wins ties).
    const full = result.trials.filter((trial) => trial.fullEval).map((trial) => trial.params);
    expect(full).toEqual([
      { instruction: 0, demos: 0 },
      { instruction: 2, demos: 0 },
      { instruction: 2, demos: 1 },
      { instruction: 2, demos: 2 },
    ]);
  });

  it('replays a finished run from its run directory without a single model call', async () => {
    const path = join(dir, 'resume');
    const first = RunDirectory.openOrCreate(path);
    const original = await toyRun(first).finally(() => first.close());
    const models = { model: taskModel(), optimizerModel: promptModel() };
    const again = RunDirectory.openOrCreate(path);
    const replayed = await toyRun(again, models).finally(() => again.close());
    expect([models.model.calls.length, models.optimizerModel.calls.length]).toEqual([0, 0]);
    expect({ ...replayed, wallTime: 0 }).toEqual({ ...original, wallTime: 0 });
  });

  it('runs on text tasks through the registry', async () => {
    const optimizer = createOptimizer('mipro', {
      auto: null,
      numCandidates: 2,
      numTrials: 2,
      maxLabeledDemos: 2,
      maxBootstrappedDemos: 1,
      minibatch: false,
      initialPrompt: BASELINE,
    });
    const result = await optimizer.optimize(toyInput(toyTaskModel(), promptModel(), 5));
    // Two labelled demos name two of the four words: the toy model then answers those two.
    expect(result.history[0]?.prompt).toBe(BASELINE);
    expect(result.score).toBeGreaterThanOrEqual(result.history[0]?.score ?? 1);
  });
});
