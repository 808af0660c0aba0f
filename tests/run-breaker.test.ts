import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../ts/run/breaker.js';
import { FakeClock } from './fixtures/fake-clock.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures and says why', () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ name: 'openai:gpt-x', failureThreshold: 3, cooldownMs: 10_000, clock });
    breaker.recordFailure(new Error('HTTP 500: a'));
    breaker.recordFailure(new Error('HTTP 500: b'));
    expect(breaker.state).toBe('closed');
    breaker.ensureCanPass();
    breaker.recordFailure(new Error('HTTP 502: bad gateway'));
    expect(breaker.state).toBe('open');
    expect(() => breaker.ensureCanPass()).toThrow(
      'circuit open for openai:gpt-x: 3 consecutive failures, last: HTTP 502: bad gateway; next probe in 10s',
    );
    try {
      breaker.ensureCanPass();
    } catch (error) {
      expect(error).toMatchObject({ code: 'E_CIRCUIT_OPEN' });
    }
  });

  it('a success resets the failure count', () => {
    const breaker = new CircuitBreaker({ name: 'x', failureThreshold: 2, clock: new FakeClock() });
    breaker.recordFailure(new Error('a'));
    breaker.recordSuccess();
    breaker.recordFailure(new Error('b'));
    expect(breaker.state).toBe('closed');
  });

  it('after the cooldown lets exactly one probe through; its success closes the circuit', () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ name: 'x', failureThreshold: 1, cooldownMs: 5_000, clock });
    breaker.recordFailure(new Error('down'));
    clock.advance(4_999);
    expect(() => breaker.ensureCanPass()).toThrow(/next probe in 1s/);
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    breaker.ensureCanPass();
    expect(() => breaker.ensureCanPass()).toThrow(/circuit open/);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.reason).toBeUndefined();
  });

  it('a failed probe re-opens the circuit for another cooldown', () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ name: 'x', failureThreshold: 3, cooldownMs: 1_000, clock });
    for (let i = 0; i < 3; i += 1) breaker.recordFailure(new Error('down'));
    clock.advance(1_000);
    breaker.ensureCanPass();
    breaker.recordFailure(new Error('still down'));
    expect(breaker.state).toBe('open');
    expect(breaker.reason).toBe('4 consecutive failures, last: still down');
  });

  it('a neutral outcome of the probe (429, bad request) frees the probe slot', () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ name: 'x', failureThreshold: 1, cooldownMs: 1_000, clock });
    breaker.recordFailure(new Error('down'));
    clock.advance(1_000);
    breaker.ensureCanPass();
    breaker.recordNeutral();
    expect(() => breaker.ensureCanPass()).not.toThrow();
  });
});
