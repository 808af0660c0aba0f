import { describe, expect, it } from 'vitest';
import { ProviderError } from '../ts/llm/provider-error.js';
import { seededRandom } from '../ts/run/clock.js';
import { backoffDelayMs, retryWithBackoff } from '../ts/run/retry.js';
import { FakeClock } from './fixtures/fake-clock.js';

const constant = (value: number) => () => value;

describe('backoffDelayMs', () => {
  it('doubles per attempt with equal jitter: half fixed, half random', () => {
    // base 100: capped delays 100, 200, 400, 800; random 0 gives the fixed half, random ~1 nearly the whole
    expect([0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, constant(0), 100, 10_000))).toEqual([
      50, 100, 200, 400,
    ]);
    expect(backoffDelayMs(2, constant(0.5), 100, 10_000)).toBe(300);
  });

  it('caps at maxDelayMs', () => {
    expect(backoffDelayMs(20, constant(0), 100, 1_000)).toBe(500);
    expect(backoffDelayMs(20, constant(0.999), 100, 1_000)).toBeCloseTo(999.5, 6);
  });

  it('is reproducible with a seeded jitter source', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const seqA = [0, 1, 2].map((attempt) => backoffDelayMs(attempt, a, 100, 10_000));
    const seqB = [0, 1, 2].map((attempt) => backoffDelayMs(attempt, b, 100, 10_000));
    expect(seqA).toEqual(seqB);
    seqA.forEach((delay, attempt) => {
      const capped = 100 * 2 ** attempt;
      expect(delay).toBeGreaterThanOrEqual(capped / 2);
      expect(delay).toBeLessThan(capped);
    });
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
  });
});

describe('retryWithBackoff', () => {
  it('retries failures with growing delays until success', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const value = await retryWithBackoff(
      async () => {
        calls += 1;
        if (calls < 4) throw new ProviderError('server', 'HTTP 500');
        return 'ok';
      },
      { clock, random: constant(0), baseDelayMs: 100, maxDelayMs: 10_000 },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(4);
    expect(clock.sleeps).toEqual([50, 100, 200]);
  });

  it('waits what Retry-After asks instead of the backoff', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await retryWithBackoff(
      async () => {
        calls += 1;
        if (calls === 1) throw new ProviderError('rate-limit', 'HTTP 429', { status: 429, retryAfterMs: 2_000 });
        return 'ok';
      },
      {
        clock,
        random: constant(0),
        retryAfterMs: (error) => (error as ProviderError).retryAfterMs,
      },
    );
    expect(clock.sleeps).toEqual([2_000]);
  });

  it('gives up after maxRetries and rethrows the last error', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          calls += 1;
          throw new ProviderError('server', `failure ${calls}`);
        },
        { clock, maxRetries: 2, random: constant(0) },
      ),
    ).rejects.toThrow('failure 3');
    expect(calls).toBe(3);
  });

  it('does not retry what isRetryable refuses', async () => {
    let calls = 0;
    await expect(
      retryWithBackoff(
        async () => {
          calls += 1;
          throw new ProviderError('client', 'HTTP 400');
        },
        { clock: new FakeClock(), isRetryable: (error) => (error as ProviderError).retryable },
      ),
    ).rejects.toThrow('HTTP 400');
    expect(calls).toBe(1);
  });

  it('stops at once when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(retryWithBackoff(async () => 'never', { signal: controller.signal })).rejects.toMatchObject({
      code: 'E_ABORTED',
    });
  });
});
