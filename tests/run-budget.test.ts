import { describe, expect, it } from 'vitest';
import { Budget, BudgetExceeded } from '../ts/run/budget.js';
import { costOfCall, DEFAULT_PRICES } from '../ts/run/prices.js';
import { FakeClock } from './fixtures/fake-clock.js';

const usage = (promptTokens: number, completionTokens: number) => ({ promptTokens, completionTokens });

describe('prices', () => {
  it('prices a call per million tokens, local models at 0', () => {
    // gpt-4o-mini: 0.15 $/M in, 0.60 $/M out → 1000·0.15/1e6 + 500·0.6/1e6 = 0.00015 + 0.0003
    expect(costOfCall(DEFAULT_PRICES, 'gpt-4o-mini', usage(1000, 500))).toBeCloseTo(0.00045, 12);
    expect(costOfCall(DEFAULT_PRICES, 'qwen2.5-0.5b-local', usage(1000, 500))).toBe(0);
  });
});

describe('Budget', () => {
  it('counts calls, tokens and dollars; cache hits are free hits', () => {
    const budget = new Budget({ prices: { m: { inputPerMillion: 1, outputPerMillion: 2 } } });
    expect(budget.record({ modelId: 'm', usage: usage(1_000_000, 500_000) })).toBe(2);
    expect(budget.record({ modelId: 'm', usage: usage(10, 10), cached: true })).toBe(0);
    const spent = budget.spent();
    expect(spent).toMatchObject({
      calls: 1,
      cacheHits: 1,
      promptTokens: 1_000_000,
      completionTokens: 500_000,
      dollars: 2,
    });
  });

  it('stops at the call limit with E_BUDGET and the reason', () => {
    const budget = new Budget({ maxCalls: 2 });
    budget.check();
    budget.record({ modelId: 'm', usage: usage(1, 1) });
    expect(budget.exhausted()).toBe(false);
    budget.record({ modelId: 'm', usage: usage(1, 1) });
    expect(budget.exhausted()).toBe(true);
    expect(() => budget.check()).toThrow(BudgetExceeded);
    expect(() => budget.check()).toThrow('budget exhausted: 2 of 2 calls used');
    try {
      budget.check();
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_BUDGET', spent: { calls: 2 } });
    }
  });

  it('stops at the token, dollar and wall-time limits', () => {
    const tokens = new Budget({ maxTokens: 100 });
    tokens.record({ modelId: 'm', usage: usage(60, 40) });
    expect(tokens.exhaustedReason()).toBe('100 of 100 tokens used');

    const dollars = new Budget({
      maxDollars: 0.001,
      prices: { 'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 } },
    });
    dollars.record({ modelId: 'gpt-4o', usage: usage(200, 40) }); // 0.0005 + 0.0004 = 0.0009
    expect(dollars.exhausted()).toBe(false);
    dollars.record({ modelId: 'gpt-4o', usage: usage(40, 0) }); // + 0.0001 = 0.001
    expect(dollars.exhaustedReason()).toBe('$0.0010 of $0.001 spent');

    const clock = new FakeClock();
    const wall = new Budget({ maxWallMs: 1_000, clock });
    clock.advance(999);
    expect(wall.exhausted()).toBe(false);
    clock.advance(1);
    expect(wall.exhaustedReason()).toBe('1000 ms of 1000 ms elapsed');
  });

  it('overrides and extends the default price table', () => {
    const budget = new Budget({ prices: { 'gpt-4o-mini': { inputPerMillion: 0, outputPerMillion: 0 } } });
    expect(budget.record({ modelId: 'gpt-4o-mini', usage: usage(1000, 1000) })).toBe(0);
    expect(budget.record({ modelId: 'gpt-4o', usage: usage(1_000_000, 0) })).toBe(2.5);
  });

  it('reserveCall holds a place per call in flight and records it when settled', () => {
    const budget = new Budget({ maxCalls: 2, prices: { m: { inputPerMillion: 1_000_000, outputPerMillion: 0 } } });
    const first = budget.reserveCall();
    const second = budget.reserveCall();
    expect(() => budget.reserveCall()).toThrow('budget exhausted: 2 of 2 calls used (2 in flight)');
    second(); // failed call: frees its place, records nothing
    expect(budget.exhausted()).toBe(false);
    first({ modelId: 'm', usage: usage(3, 0) });
    first({ modelId: 'm', usage: usage(3, 0) }); // settling twice is a no-op
    expect(budget.spent()).toMatchObject({ calls: 1, dollars: 3 });
  });
});
