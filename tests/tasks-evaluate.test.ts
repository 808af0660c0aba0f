import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import { OptNativeError } from '../ts/errors.js';
import { loadScriptedModelFile, scriptedChoiceLogprobs } from '../ts/llm/scripted-file.js';
import { ProviderError } from '../ts/llm/provider-error.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { evaluateTextPrompt } from '../ts/tasks/evaluate.js';
import {
  MULTIPLE_CHOICE_FINAL_LINE_FORMAT,
  MULTIPLE_CHOICE_FORMAT,
  NUMERIC_FORMAT,
  answerFormatFor,
  formatDemoAnswer,
  formatTaskMessages,
} from '../ts/tasks/answer-format.js';
import { createTextTask, loadTextTask } from '../ts/tasks/text-task.js';

const example = (id: string, input: string, target: string): Example => ({ id, input, target });
const splitsOf = (name: string, metric: DatasetSplits['defaultMetric'], examples: Example[]): DatasetSplits => ({
  name,
  defaultMetric: metric,
  train: [],
  validation: examples,
  test: [],
});

describe('text tasks', () => {
  it('navigate is word-label classification scored by balanced accuracy; the task supplies the answer words', async () => {
    const task = await loadTextTask('bbh:navigate');
    expect(task).toMatchObject({
      scoreKind: 'balanced_accuracy',
      kind: 'classification',
      labels: ['No', 'Yes'],
      answerFormat: 'Answer with one of: No, Yes.',
      requiredLabelWords: [],
    });
    expect(task.extractAnswer('Let me think. No, I end elsewhere.')).toBe('No');
  });

  it('multiple-choice tasks use accuracy over letters; free-form tasks use normalized exact match', async () => {
    const choice = await loadTextTask('bbh:logical_deduction_three_objects');
    expect(choice).toMatchObject({
      scoreKind: 'accuracy',
      kind: 'multiple_choice',
      labels: ['(A)', '(B)', '(C)'],
      answerFormat: 'Answer with the letter of the correct option, for example (A).',
      requiredLabelWords: [],
    });
    expect(choice.extractAnswer('Reasoning (A) is wrong... so the answer is (C).')).toBe('(C)');
    const sorting = await loadTextTask('bbh:word_sorting');
    expect(sorting.labels).toBeUndefined();
    expect(sorting.metric('the answer is apple Banana.', example('w', '', 'apple banana')).score).toBe(1);
  });

  it('gsm8k is numeric: the last number of the reply against the #### target', async () => {
    const task = await loadTextTask('gsm8k', { testMode: true });
    expect(task.scoreKind).toBe('accuracy');
    expect(task.extractAnswer('So she makes $1,080 a week.')).toBe('1080');
    expect(task.metric('1080', example('g', '', '1080'))).toEqual({ score: 1 });
    expect(task.metric(null, example('g', '', '7'))).toEqual({ score: 0, feedback: 'expected 7, got no number' });
  });

  it('places the instruction before the question (OPRO Q_begin) and the answer format after it', () => {
    const layout = { answerFormat: 'Answer with one of: No, Yes.', position: 'before' as const };
    expect(formatTaskMessages(' Be brief. ', example('a', 'Is 2 even?', 'Yes'), layout)).toEqual([
      { role: 'user', content: 'Be brief.\n\nQ: Is 2 even?\nAnswer with one of: No, Yes.\nA:' },
    ]);
    expect(formatTaskMessages('', example('a', 'Is 2 even?', 'Yes'), layout)).toEqual([
      { role: 'user', content: 'Q: Is 2 even?\nAnswer with one of: No, Yes.\nA:' },
    ]);
  });

  it('places the instruction after the question (Q_end) or in the system message', () => {
    const question = example('a', 'Is 2 even?', 'Yes');
    const after = { answerFormat: 'Answer with one of: No, Yes.', position: 'after' as const };
    expect(formatTaskMessages('Be brief.', question, after)).toEqual([
      { role: 'user', content: 'Q: Is 2 even?\n\nBe brief.\nAnswer with one of: No, Yes.\nA:' },
    ]);
    const system = { ...after, position: 'system' as const };
    expect(formatTaskMessages('Be brief.', question, system)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Q: Is 2 even?\nAnswer with one of: No, Yes.\nA:' },
    ]);
    // No instruction: no empty system message.
    expect(formatTaskMessages(' ', question, system)).toHaveLength(1);
  });

  it('with the format at the start, it opens the user turn and no "A:" ends it, in every instruction position', () => {
    const question = example('a', 'Is 2 even?', 'Yes');
    const start = {
      answerFormat: 'Answer with one of: No, Yes.',
      position: 'before' as const,
      formatPosition: 'start' as const,
    };
    expect(formatTaskMessages(' Think first. ', question, start)).toEqual([
      { role: 'user', content: 'Think first.\nAnswer with one of: No, Yes.\n\nQ: Is 2 even?' },
    ]);
    expect(formatTaskMessages('', question, start)).toEqual([
      { role: 'user', content: 'Answer with one of: No, Yes.\n\nQ: Is 2 even?' },
    ]);
    expect(formatTaskMessages('Think first.', question, { ...start, position: 'after' })).toEqual([
      { role: 'user', content: 'Answer with one of: No, Yes.\n\nQ: Is 2 even?\n\nThink first.' },
    ]);
    expect(formatTaskMessages('Think first.', question, { ...start, position: 'system' })).toEqual([
      { role: 'system', content: 'Think first.' },
      { role: 'user', content: 'Answer with one of: No, Yes.\n\nQ: Is 2 even?' },
    ]);
    expect(formatTaskMessages(' ', question, { ...start, position: 'system' })).toHaveLength(1);
  });

  it('a loaded task takes the format position from its options (default: the end)', async () => {
    const gsm8k = await loadTextTask('gsm8k', { testMode: true, answerFormatPosition: 'start' });
    expect(gsm8k.answerFormatPosition).toBe('start');
    expect(gsm8k.formatMessages('Work it out step by step.', example('x', 'INPUT', '3')).at(-1)?.content).toBe(
      'Work it out step by step.\nEnd your reply with the line "The answer is N." where N is a number.\n\nQ: INPUT',
    );
    expect((await loadTextTask('gsm8k', { testMode: true })).answerFormatPosition).toBe('end');
  });

  it('with the format at the start, closed label sets ask for a final answer line the extraction reads', async () => {
    const navigate = await loadTextTask('bbh:navigate', { testMode: true, answerFormatPosition: 'start' });
    expect(navigate.answerFormat).toBe('End your reply with the line "The answer is X." where X is one of: No, Yes.');
    expect(navigate.extractAnswer('Step 1: 3 left. Step 2: back. Yes, we return.\nThe answer is No.')).toBe('No');
    const snarks = await loadTextTask('bbh:snarks', { testMode: true, answerFormatPosition: 'start' });
    expect(snarks.answerFormat).toBe(MULTIPLE_CHOICE_FINAL_LINE_FORMAT);
    expect(snarks.extractAnswer('(A) is literal, (B) is ironic.\nThe answer is (B).')).toBe('(B)');
    // At the end (the default) the direct wordings stay.
    expect((await loadTextTask('bbh:navigate', { testMode: true })).answerFormat).toBe('Answer with one of: No, Yes.');
    expect(answerFormatFor('multiple_choice', ['(A)'], 'end')).toBe(MULTIPLE_CHOICE_FORMAT);
    expect(answerFormatFor('numeric', undefined, 'start')).toBe(NUMERIC_FORMAT);
  });

  it('a demonstration answers in the format its task is scored in, with the worked solution where there is one', async () => {
    const worked = { id: 'd', input: 'Q?', target: '72', rationale: 'She sold 48/2 = 24 in May.\n48+24 = 72.' };
    expect(formatDemoAnswer('numeric', 'start', worked)).toBe(
      'She sold 48/2 = 24 in May.\n48+24 = 72.\nThe answer is 72.',
    );
    expect(formatDemoAnswer('numeric', 'end', worked)).toBe(
      'She sold 48/2 = 24 in May.\n48+24 = 72.\nThe answer is 72.',
    );
    expect(formatDemoAnswer('free_form', 'end', example('w', 'sort', 'a b'))).toBe('The answer is a b.');
    // Closed label sets: the bare answer where the format asks for it at once, the final line where it comes first.
    expect(formatDemoAnswer('classification', 'end', example('n', 'go?', 'Yes'))).toBe('Yes');
    expect(formatDemoAnswer('multiple_choice', 'end', example('s', 'pick', '(B)'))).toBe('(B)');
    expect(formatDemoAnswer('multiple_choice', 'start', example('s', 'pick', '(B)'))).toBe('The answer is (B).');
    // What the loaded tasks use, and what their extraction reads back.
    const gsm8k = await loadTextTask('gsm8k', { testMode: true, answerFormatPosition: 'start' });
    const demo = gsm8k.splits.train[0]!;
    const shown = gsm8k.demoAnswer?.(demo) ?? '';
    expect(shown).toBe(`${demo.rationale}\nThe answer is ${demo.target}.`);
    expect(gsm8k.metric(gsm8k.extractAnswer(shown), demo).score).toBe(1);
    const navigate = await loadTextTask('bbh:navigate', { testMode: true, answerFormatPosition: 'start' });
    const yes = navigate.splits.train.find((row) => row.target === 'Yes')!;
    expect(navigate.demoAnswer?.(yes)).toBe('The answer is Yes.');
    expect(navigate.extractAnswer(navigate.demoAnswer?.(yes) ?? '')).toBe('Yes');
  });

  it('each task kind gets its own answer format in what the model receives', async () => {
    const contentOf = (task: { formatMessages: (i: string, e: Example) => { content: string }[] }) =>
      task.formatMessages('Solve it.', example('x', 'INPUT', '?')).at(-1)?.content;
    const gsm8k = await loadTextTask('gsm8k', { testMode: true });
    expect(gsm8k.kind).toBe('numeric');
    expect(contentOf(gsm8k)).toBe(
      'Solve it.\n\nQ: INPUT\nEnd your reply with the line "The answer is N." where N is a number.\nA:',
    );
    const sorting = await loadTextTask('bbh:word_sorting', { testMode: true, instructionPosition: 'after' });
    expect(sorting.kind).toBe('free_form');
    expect(contentOf(sorting)).toBe(
      'Q: INPUT\n\nSolve it.\nEnd your reply with the line "The answer is X." where X is your answer.\nA:',
    );
    const snarks = await loadTextTask('bbh:snarks', { testMode: true, instructionPosition: 'system' });
    expect(snarks.formatMessages('Solve it.', example('x', 'INPUT', '(A)'))).toEqual([
      { role: 'system', content: 'Solve it.' },
      { role: 'user', content: 'Q: INPUT\nAnswer with the letter of the correct option, for example (A).\nA:' },
    ]);
  });
});

describe('evaluateTextPrompt', () => {
  const task = createTextTask(
    splitsOf('bbh:toy', 'exact_match', [
      example('a', 'alpha', 'Yes'),
      example('b', 'beta', 'Yes'),
      example('c', 'gamma', 'Yes'),
      example('d', 'delta', 'No'),
    ]),
  );

  it('scores generated answers: accuracy and balanced accuracy (hand-computed)', async () => {
    const model = new ScriptedLanguageModel({
      respond: (request) => (request.messages[0]!.content.includes('gamma') ? 'No.' : 'Yes'),
    });
    const report = await evaluateTextPrompt({
      task,
      examples: task.splits.validation,
      model,
      instruction: 'Go.',
      batchSize: 3,
    });
    // a, b right; c wrong (said No); d wrong (said Yes): accuracy 2/4; BA = (2/3 + 0/1) / 2 = 1/3
    expect(report.accuracy).toBe(0.5);
    expect(report.balancedAccuracy).toBeCloseTo(1 / 3, 12);
    expect(report.score).toBeCloseTo(1 / 3, 12);
    expect(report.predictions.map((prediction) => [prediction.id, prediction.answer, prediction.correct])).toEqual([
      ['a', 'Yes', true],
      ['b', 'Yes', true],
      ['c', 'No', false],
      ['d', 'Yes', false],
    ]);
    expect(report.usage.calls).toBe(4);
    expect(model.calls[0]).toMatchObject({ temperature: 0, maxTokens: task.maxAnswerTokens });
  });

  it('counts a failing example as wrong, but fails the evaluation when most examples fail', async () => {
    const flaky = new ScriptedLanguageModel({
      respond: (request) => {
        if (request.messages[0]!.content.includes('beta')) throw new Error('timeout');
        return 'Yes';
      },
    });
    const report = await evaluateTextPrompt({ task, examples: task.splits.validation, model: flaky, instruction: '' });
    expect(report.failures).toBe(1);
    expect(report.predictions[1]).toMatchObject({ id: 'b', correct: false, error: 'timeout' });
    const broken = new ScriptedLanguageModel({
      respond: (request) => {
        if (!request.messages[0]!.content.includes('alpha')) throw new Error('down');
        return 'Yes';
      },
    });
    await expect(
      evaluateTextPrompt({ task, examples: task.splits.validation, model: broken, instruction: '' }),
    ).rejects.toMatchObject({ code: 'E_PROVIDER', message: expect.stringContaining('3 of 4') });
  });

  it('stops at once on budget and abort errors', async () => {
    const model = new ScriptedLanguageModel({
      respond: () => {
        throw new OptNativeError('E_BUDGET', 'budget exhausted');
      },
    });
    await expect(
      evaluateTextPrompt({ task, examples: task.splits.validation, model, instruction: '' }),
    ).rejects.toMatchObject({ code: 'E_BUDGET' });
  });

  it('fails the evaluation on a provider outage instead of scoring the missing answer as wrong', async () => {
    const failingOn = (error: Error) =>
      new ScriptedLanguageModel({
        respond: (request) => {
          if (request.messages[0]!.content.includes('beta')) throw error;
          return 'Yes';
        },
      });
    const evaluate = (error: Error) =>
      evaluateTextPrompt({ task, examples: task.splits.validation, model: failingOn(error), instruction: '' });
    // Out of retries (HTTP 500, a refused connection) or an open breaker: another try may well answer.
    await expect(evaluate(new ProviderError('server', 'HTTP 500'))).rejects.toMatchObject({ message: 'HTTP 500' });
    await expect(evaluate(new ProviderError('connection', 'refused'))).rejects.toMatchObject({ message: 'refused' });
    await expect(evaluate(new OptNativeError('E_CIRCUIT_OPEN', 'open'))).rejects.toMatchObject({
      code: 'E_CIRCUIT_OPEN',
    });
    // A request the provider refuses for what it is (HTTP 400) stays one wrong example.
    const report = await evaluate(new ProviderError('client', 'HTTP 400: too long'));
    expect([report.failures, report.predictions[1]?.error]).toEqual([1, 'HTTP 400: too long']);
  });

  it('score mode picks the most likely label; it needs a scorer and a label set', async () => {
    const scorer = new ScriptedLanguageModel({
      respond: () => '',
      scoreChoices: (request) => (request.messages[0]!.content.includes('delta') ? [-0.1, -3] : [-3, -0.1]),
    });
    const report = await evaluateTextPrompt({
      task,
      examples: task.splits.validation,
      model: scorer,
      instruction: '',
      mode: 'score',
    });
    // Choices are the sorted labels [No, Yes]: delta → No, the rest → Yes: all right.
    expect(report.accuracy).toBe(1);
    const plain = new ScriptedLanguageModel({ respond: () => 'Yes' });
    await expect(
      evaluateTextPrompt({ task, examples: task.splits.validation, model: plain, instruction: '', mode: 'score' }),
    ).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
  });
});

describe('scripted:<json> model scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'model-script-'));

  it('replies by the first rule whose strings all occur, else the default; rules may fail', async () => {
    const path = join(dir, 'script.json');
    writeFileSync(
      path,
      JSON.stringify({
        rules: [
          { contains: ['red', 'blue'], reply: 'both' },
          { contains: 'red', reply: 'red only' },
          { contains: 'boom', error: 'scripted failure' },
        ],
        default: 'neither',
      }),
    );
    const model = loadScriptedModelFile(path);
    const ask = async (content: string) => (await model.generate({ messages: [{ role: 'user', content }] })).text;
    expect(await ask('red and blue')).toBe('both');
    expect(await ask('red')).toBe('red only');
    expect(await ask('green')).toBe('neither');
    await expect(ask('boom')).rejects.toMatchObject({ code: 'E_PROVIDER', message: 'scripted failure' });
  });

  it('scores choices by the reply the script gives: the first choice it names wins', async () => {
    const path = join(dir, 'scoring.json');
    writeFileSync(
      path,
      JSON.stringify({ rules: [{ contains: 'walk', reply: 'No, wait: the answer is Yes.' }], default: 'no idea' }),
    );
    const model = loadScriptedModelFile(path);
    const score = (content: string, choices: string[]) =>
      model.scoreChoices!({ messages: [{ role: 'user', content }], choices });
    const walk = await score('a walk', ['Yes', 'No']);
    expect(walk.best).toBe('No');
    expect(walk.scores.map((entry) => entry.logprob)).toEqual([-5, 0]);
    // Whole words only ("no idea" names No, not "Nope"); nothing named: all equal, the first wins.
    expect((await score('other', ['Nope', 'No'])).best).toBe('No');
    expect((await score('other', ['True', 'False'])).scores.map((entry) => entry.logprob)).toEqual([-5, -5]);
    expect(scriptedChoiceLogprobs('(B) it is', ['(A)', '(B)'])).toEqual([-5, 0]);
  });

  it('refuses malformed scripts with E_BAD_INPUT', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ rules: [{ contains: 'x', replyy: 'typo' }] }));
    expect(() => loadScriptedModelFile(path)).toThrow(expect.objectContaining({ code: 'E_BAD_INPUT' }));
  });
});
