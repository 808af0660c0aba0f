import { describe, expect, it } from 'vitest';
import {
  ACCURACY_LOSS_INSTRUCTION,
  EFFICIENCY_LOSS_INSTRUCTION,
  GRADIENT_SYSTEM_PROMPT,
  LOSS_SYSTEM_PROMPT,
  UPDATE_SYSTEM_PROMPT,
  gradientMessages,
  lossMessages,
  parseImprovedPrompt,
  updateConstraints,
  updateMessages,
} from '../ts/optimizers/balanced/prompts.js';

describe('parseImprovedPrompt', () => {
  it('takes the text between the last pair of tags, trimmed', () => {
    expect(parseImprovedPrompt('<IMPROVED_VARIABLE>\n  New prompt.\n</IMPROVED_VARIABLE>')).toBe('New prompt.');
    expect(
      parseImprovedPrompt(
        'draft <IMPROVED_VARIABLE>a</IMPROVED_VARIABLE> final <IMPROVED_VARIABLE>b</IMPROVED_VARIABLE>',
      ),
    ).toBe('b');
  });

  it('returns null without both tags or with an empty prompt', () => {
    expect(parseImprovedPrompt('New prompt.')).toBeNull();
    expect(parseImprovedPrompt('<IMPROVED_VARIABLE>New prompt.')).toBeNull();
    expect(parseImprovedPrompt('New prompt.</IMPROVED_VARIABLE>')).toBeNull();
    expect(parseImprovedPrompt('<IMPROVED_VARIABLE>  \n </IMPROVED_VARIABLE>')).toBeNull();
  });
});

describe('updateConstraints (token budget)', () => {
  it('asks an efficiency update for 80% of the current mean, rounded', () => {
    expect(updateConstraints('efficiency', 101)[0]).toBe(
      'Token budget: answers produced under the new prompt should average at most 81 completion tokens (now 101), ' +
        'without losing correct answers.',
    );
    // Never a budget of 0 tokens.
    expect(updateConstraints('efficiency', 0.4)[0]).toContain('at most 1 completion tokens');
  });

  it('caps an accuracy update at the current mean', () => {
    expect(updateConstraints('accuracy', 57.6)[0]).toContain('should not average more than 58 completion tokens');
  });
});

describe('step messages', () => {
  it('loss: the named system prompt and the focus instruction, with the verdict and token count', () => {
    const input = {
      systemPrompt: 'Solve it.',
      question: 'What is 2 + 2?',
      response: 'The answer is 5.',
      expectedAnswer: '4',
      judgedCorrect: false,
      completionTokens: 4,
    };
    const accuracy = lossMessages({ ...input, focus: 'accuracy' });
    expect(accuracy[0]).toEqual({ role: 'system', content: LOSS_SYSTEM_PROMPT });
    expect(accuracy[1]?.content.startsWith(ACCURACY_LOSS_INSTRUCTION)).toBe(true);
    expect(accuracy[1]?.content).toContain('<RESPONSE completion_tokens="4">\nThe answer is 5.\n</RESPONSE>');
    expect(accuracy[1]?.content).toContain('judged this response INCORRECT');
    const efficiency = lossMessages({ ...input, focus: 'efficiency', judgedCorrect: true });
    expect(efficiency[1]?.content.startsWith(EFFICIENCY_LOSS_INSTRUCTION)).toBe(true);
    expect(efficiency[1]?.content).toContain('judged this response CORRECT');
  });

  it('gradient: numbered critiques and batch numbers, feedback only', () => {
    const messages = gradientMessages({
      focus: 'efficiency',
      systemPrompt: 'Solve it.',
      critiques: ['too long', 'fine'],
      batchAccuracy: 2 / 3,
      batchMeanCompletionTokens: 40.25,
    });
    expect(messages[0]?.content).toBe(GRADIENT_SYSTEM_PROMPT);
    expect(GRADIENT_SYSTEM_PROMPT).toContain('Do NOT write the new system prompt');
    expect(messages[1]?.content).toContain('On this batch: 66.7% correct, 40.3 completion tokens per answer');
    expect(messages[1]?.content).toContain('<CRITIQUE index="2">\nfine\n</CRITIQUE>');
  });

  it('update: feedback and the numbered constraints, the token budget first', () => {
    const messages = updateMessages({
      focus: 'efficiency',
      systemPrompt: 'Solve it.',
      feedback: 'cut the restatement',
      currentMeanCompletionTokens: 50,
    });
    expect(messages[0]?.content).toBe(UPDATE_SYSTEM_PROMPT);
    expect(messages[1]?.content).toContain('<FEEDBACK>\ncut the restatement\n</FEEDBACK>');
    expect(messages[1]?.content).toContain(
      '1. Token budget: answers produced under the new prompt should average at most 40',
    );
  });
});
