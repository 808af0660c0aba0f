import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { OproOptimizer } from '../ts/optimizers/opro/index.js';
import { buildVariationPrompt, parseCandidates, VARIATION_PROMPT_REQUEST } from '../ts/optimizers/opro/meta-prompt.js';
import { usableCandidates } from '../ts/optimizers/opro/outputs.js';
import {
  answerInsteadOfInstruction,
  buildCopyIndex,
  copiedPassage,
  imitatesInput,
  sanitizeCandidate,
} from '../ts/optimizers/opro/sanitize.js';
import { createTextTask } from '../ts/tasks/text-task.js';

const NAVIGATE_INPUTS = [
  'If you follow these instructions, do you return to the starting point? Take 7 steps. Turn around. Take 7 steps.',
  'If you follow these instructions, do you return to the starting point? Always face forward. Take 2 steps left.',
  'If you follow these instructions, do you return to the starting point? Turn left. Take 5 steps. Turn right.',
];

describe('the copy filter', () => {
  const index = buildCopyIndex(NAVIGATE_INPUTS);

  it('refuses a passage of one input (6 words shared with fewer than half of the inputs)', () => {
    expect(copiedPassage('Decide it: take 7 steps turn around take 7 steps.', index)).toBe(
      'take 7 steps turn around take',
    );
    expect(
      sanitizeCandidate('Decide it: Take 7 steps. Turn around. Take 7 steps.', {
        minChars: 10,
        maxChars: 300,
        requiredWords: [],
        copySources: index,
      }),
    ).toMatchObject({ ok: false, reason: 'copies a dataset input ("take 7 steps turn around take")' });
  });

  it("allows restating the task's own question, which every input shares", () => {
    expect(
      copiedPassage('Track each move: if you follow these instructions, do you return to the starting point?', index),
    ).toBeUndefined();
    expect(copiedPassage('Track every step and turn, then decide.', index)).toBeUndefined();
  });

  it('refuses a made-up question in the dataset format, allows a short restatement', () => {
    const made =
      'If you follow these instructions, do you return to the starting point? Walk 4 steps forward, then walk 5 steps backward.';
    expect(imitatesInput(made, index)).toBe(true);
    expect(
      sanitizeCandidate(`Next, ${made}`, { minChars: 10, maxChars: 300, requiredWords: [], copySources: index }),
    ).toMatchObject({ ok: false, reason: "is a new question in the dataset's format, not an instruction" });
    expect(imitatesInput('If you follow these instructions, do you return to the starting point? Decide.', index)).toBe(
      false,
    );
    expect(
      imitatesInput(
        'Track every move and turn carefully, then say: if you follow these instructions, do you return to the starting point?',
        index,
      ),
    ).toBe(false);
  });

  it('with a single input, any shared 6-gram is a copy', () => {
    const single = buildCopyIndex(['What is the code of alpha in the list?']);
    expect(copiedPassage('Say what is the code of alpha in it.', single)).toBe('what is the code of alpha');
  });
});

describe('answers and scaffolding instead of instructions', () => {
  const rules = { minChars: 1, maxChars: 300, requiredWords: [], labels: ['No', 'Yes', '(A)'] };

  it.each([
    ['No', 'is an answer ("No"), not an instruction'],
    [' "yes." ', 'is an answer ("Yes"), not an instruction'],
    ['(A)', 'is an answer ("(A)"), not an instruction'],
    ['Q: Take 3 steps.\nA: No', 'wrong format: echoes the meta-prompt scaffolding (a "Q:"/"input:"/"score:" line)'],
    ['Be careful.\nscore:\n0.9', 'wrong format: echoes the meta-prompt scaffolding (a "Q:"/"input:"/"score:" line)'],
    ['Prompt: Track every move.', 'wrong format: starts with a label like "PROMPT_1:"'],
    [
      'Say how to approach the problem and what to check before starting to answer.',
      'repeats the optimizer\'s request ("say how to approach the problem")',
    ],
  ])('rejects %j: %s', (raw, reason) => {
    expect(sanitizeCandidate(raw, rules)).toMatchObject({ ok: false, reason });
  });

  it('keeps an instruction that merely names the labels', () => {
    expect(answerInsteadOfInstruction('Answer No or Yes.', ['No', 'Yes'])).toBeUndefined();
    expect(sanitizeCandidate('Count the steps; answer No or Yes.', rules)).toEqual({
      ok: true,
      prompt: 'Count the steps; answer No or Yes.',
    });
  });
});

describe('reading candidates as small models write them', () => {
  it('ends an unclosed block at a second opening marker', () => {
    expect(parseCandidates('<INS> Track each turn. <INS>')).toEqual(['Track each turn.']);
    expect(parseCandidates('New: <INS>Count the steps.<INS> extra')).toEqual(['Count the steps.']);
  });
});

describe('usable share of candidates', () => {
  it('counts what passed screening among the optimizer candidates of iterations 1..', () => {
    const record = (iteration: number, status: 'evaluated' | 'rejected' | 'evaluation_failed') => ({
      prompt: 'p',
      reward: null,
      ba_clip: null,
      ba_conditions: null,
      prompt_length: 1,
      iteration,
      timestamp: null,
      metrics: {},
      status,
      rejection_reason: null,
    });
    const records = [
      record(0, 'evaluated'),
      record(1, 'evaluated'),
      record(1, 'rejected'),
      record(2, 'evaluation_failed'),
    ];
    expect(usableCandidates(records)).toEqual({ proposed: 3, usable: 2, share: 2 / 3 });
    expect(usableCandidates([record(0, 'evaluated')])).toEqual({ proposed: 0, usable: 0, share: null });
  });
});

describe('variation proposals (small optimizer models)', () => {
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
    test: [],
  };
  const task = createTextTask(splits);

  it('shows one instruction and no exemplars', () => {
    const text = buildVariationPrompt({ taskDescription: 'Walks.', instruction: 'Answer it.', maxChars: 80 });
    expect(text).toBe(
      `The task the instruction is for: Walks.\n\nHere is an instruction that an AI assistant follows when it solves a task.\n\n<INS>Answer it.</INS>\n\n${VARIATION_PROMPT_REQUEST} Keep it under 80 characters.`,
    );
  });

  it('asks for a variation of the best prompt in slot 0 and writes the usable share to opro_history.json', async () => {
    const requests: string[] = [];
    const optimizerModel = new ScriptedLanguageModel({
      respond: (request, index) => {
        requests.push(request.messages[0]!.content);
        return index === 0 ? '<INS>Think carefully about each step.</INS>' : 'No';
      },
    });
    const model = new ScriptedLanguageModel({
      respond: (request) => {
        const content = request.messages.at(-1)!.content;
        if (content.includes('carefully')) return content.includes('(returns)') ? 'Yes' : 'No';
        return 'Yes';
      },
    });
    const outputDir = mkdtempSync(join(tmpdir(), 'opro-variation-'));
    const result = await new OproOptimizer(
      { numIterations: 1, candidatesPerIter: 2, proposalStyle: 'variation', baselinePrompt: 'Answer it now.' },
      { outputDir },
    ).optimize({
      task,
      trainset: splits.train,
      valset: splits.validation,
      model,
      optimizerModel,
      metric: task.metric,
      seed: 3,
    });
    expect(requests[0]).toContain('<INS>Answer it now.</INS>');
    expect(requests[0]).not.toContain('Walk t1');
    expect(result.bestPrompt).toBe('Think carefully about each step.');
    const history = JSON.parse(readFileSync(join(outputDir, 'opro_history.json'), 'utf8')) as {
      usable_candidates: unknown;
    };
    // Slot 0 wrote an instruction; slot 1 answered "No".
    expect(history.usable_candidates).toEqual({ proposed: 2, usable: 1, share: 0.5 });
  });
});
