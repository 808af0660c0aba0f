import { describe, expect, it } from 'vitest';
import { DEFAULT_REWARD_WEIGHTS, resolveOproConfig } from '../ts/optimizers/opro/config.js';
import { insertIntoMemory, type EvaluatedCandidate } from '../ts/optimizers/opro/memory.js';
import { META_PROMPT_REQUEST, buildMetaPrompt, parseCandidates } from '../ts/optimizers/opro/meta-prompt.js';
import { computeReward } from '../ts/optimizers/opro/reward.js';
import { dedupeKey, sanitizeCandidate } from '../ts/optimizers/opro/sanitize.js';

describe('OPRO reward', () => {
  it('is w_clip·BA_clip + w_cond·BA_cond − w_len·len/100 (hand-computed)', () => {
    // 1.0·0.8 + 0.25·0.6 − 0.05·(120/100) = 0.8 + 0.15 − 0.06 = 0.89
    expect(computeReward({ primary: 0.8, conditions: 0.6, promptLength: 120 }, DEFAULT_REWARD_WEIGHTS)).toBeCloseTo(
      0.89,
      12,
    );
    // Text tasks have no condition term: 1.0·0.75 − 0.05·0.37 = 0.7315
    expect(computeReward({ primary: 0.75, conditions: null, promptLength: 37 }, DEFAULT_REWARD_WEIGHTS)).toBeCloseTo(
      0.7315,
      12,
    );
    // Custom weights: 2·0.5 + 1·0.5 − 0.1·2 = 1.3
    expect(
      computeReward(
        { primary: 0.5, conditions: 0.5, promptLength: 200 },
        { wBaClip: 2, wBaCond: 1, wLengthPenalty: 0.1 },
      ),
    ).toBeCloseTo(1.3, 12);
  });

  it('fills config defaults and refuses unknown or bad fields', () => {
    const config = resolveOproConfig({ topK: 4, reward: { wLengthPenalty: 0 } });
    expect(config).toMatchObject({ numIterations: 30, candidatesPerIter: 3, topK: 4, earlyStopping: 5 });
    expect(config.reward).toEqual({ wBaClip: 1, wBaCond: 0.25, wLengthPenalty: 0 });
    expect(() => resolveOproConfig({ topk: 4 })).toThrow();
    expect(() => resolveOproConfig({ candidatesPerIter: 0 })).toThrow();
  });
});

describe('candidate sanitization', () => {
  const rules = { minChars: 10, maxChars: 60, requiredWords: ['Yes', 'No'] };

  it('accepts a clean prompt, collapsing whitespace and stripping quotes', () => {
    expect(sanitizeCandidate('  "Think  carefully,\n then answer Yes or No."  ', rules)).toEqual({
      ok: true,
      prompt: 'Think carefully, then answer Yes or No.',
    });
  });

  it.each([
    ['<|audio_bos|><|AUDIO|><|audio_eos|> Answer Yes or No.', 'contains forbidden token <|audio_bos|>'],
    ['<|im_start|>system Answer Yes or No.', 'contains forbidden token <|im_start|>'],
    ['Answer Yes or No. <|eot_id|>', 'contains forbidden token <|eot_id|>'],
    ['<INS>Answer Yes or No.', 'wrong format: contains <INS> markers'],
    ['Answer {input} with Yes or No.', 'wrong format: contains a template placeholder like {input}'],
    ['PROMPT_1: Answer Yes or No please.', 'wrong format: starts with a label like "PROMPT_1:"'],
    ['Yes or No', 'too short (9 chars, minimum 10)'],
    [`Answer Yes or No. ${'x'.repeat(60)}`, 'too long (78 chars, maximum 60)'],
    ['Answer with true or false.', 'missing label word(s): Yes, No'],
    ['Answer yes, or else nothing.', 'missing label word(s): No'],
  ])('rejects %j: %s', (raw, reason) => {
    expect(sanitizeCandidate(raw, rules)).toMatchObject({ ok: false, reason });
  });

  it('matches label words as whole words in any case', () => {
    expect(sanitizeCandidate('Reply YES or NO only.', rules).ok).toBe(true);
    expect(sanitizeCandidate('Reply Yesterday or Nobody.', rules)).toMatchObject({ ok: false });
    expect(sanitizeCandidate('Reply briefly, please.', { ...rules, requiredWords: [] }).ok).toBe(true);
  });

  it('dedupes on case and spacing', () => {
    expect(dedupeKey('Answer  Yes or NO.')).toBe(dedupeKey('answer yes or no.'));
  });
});

describe('meta-prompt', () => {
  const text = buildMetaPrompt({
    taskDescription: 'Decide whether the walk returns to the start.',
    scoredInstructions: [
      { prompt: 'BEST prompt', reward: 0.9 },
      { prompt: 'WORST prompt', reward: 0.1 },
      { prompt: 'MIDDLE prompt', reward: 0.5 },
    ],
    exemplars: [
      { id: 'a', input: 'Take 1 step. Take 1 step back.', target: 'Yes' },
      { id: 'b', input: 'Take 3 steps.', target: 'No' },
    ],
    requiredWords: ['Yes', 'No'],
    maxChars: 300,
  });

  it('lists past prompts with scores in ascending order, best last, before the exemplars', () => {
    const worst = text.indexOf('text:\nWORST prompt\nscore:\n0.100');
    const middle = text.indexOf('text:\nMIDDLE prompt\nscore:\n0.500');
    const best = text.indexOf('text:\nBEST prompt\nscore:\n0.900');
    expect(worst).toBeGreaterThan(text.indexOf('Decide whether the walk returns'));
    expect(middle).toBeGreaterThan(worst);
    expect(best).toBeGreaterThan(middle);
    const firstExemplar = text.indexOf('input:\nQ: <INS>\nTake 1 step. Take 1 step back.\nA:\noutput:\nYes');
    expect(firstExemplar).toBeGreaterThan(best);
    expect(text.indexOf('input:\nQ: <INS>\nTake 3 steps.\nA:\noutput:\nNo')).toBeGreaterThan(firstExemplar);
  });

  it('ends with the request to write one new instruction between <INS> markers, naming the label words', () => {
    expect(text.lastIndexOf(META_PROMPT_REQUEST)).toBeGreaterThan(text.lastIndexOf('output:'));
    expect(text).toContain('The instruction should begin with <INS> and end with </INS>.');
    expect(text.endsWith('Keep it under 300 characters. It must tell the model to answer with one of: Yes, No.')).toBe(
      true,
    );
  });

  it('parses every <INS> block, an unclosed one, or the whole reply', () => {
    expect(parseCandidates('Sure!\n<INS>First one.</INS>\nand <ins> Second one. </ins>')).toEqual([
      'First one.',
      'Second one.',
    ]);
    expect(parseCandidates('Here: <INS>Unclosed instruction')).toEqual(['Unclosed instruction']);
    expect(parseCandidates('  Just an instruction.  ')).toEqual(['Just an instruction.']);
    expect(parseCandidates('<INS></INS>   ')).toEqual([]);
  });
});

describe('top-k memory', () => {
  const candidate = (prompt: string, reward: number, iteration = 1): EvaluatedCandidate => ({
    prompt,
    reward,
    ba_clip: reward,
    ba_conditions: null,
    prompt_length: prompt.length,
    iteration,
    timestamp: 0,
    metrics: {},
  });

  it('keeps the k best, best first, earlier first on ties', () => {
    let memory: EvaluatedCandidate[] = [];
    for (const [prompt, reward] of [
      ['a', 0.5],
      ['b', 0.9],
      ['c', 0.1],
      ['d', 0.9],
      ['e', 0.7],
    ] as const) {
      memory = insertIntoMemory(memory, candidate(prompt, reward), 3);
    }
    expect(memory.map((entry) => entry.prompt)).toEqual(['b', 'd', 'e']);
  });
});
