import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter, type Permit } from '../ts/run/limiter.js';

async function acquireMany(limiter: AdaptiveLimiter, count: number): Promise<Permit[]> {
  const permits: Permit[] = [];
  for (let i = 0; i < count; i += 1) permits.push(await limiter.acquire());
  return permits;
}

describe('AdaptiveLimiter (AIMD)', () => {
  it('never runs more than the limit at once and serves waiters in order', async () => {
    const limiter = new AdaptiveLimiter({ initial: 2 });
    const [a, b] = await acquireMany(limiter, 2);
    const order: string[] = [];
    const third = limiter.acquire().then((permit) => (order.push('third'), permit));
    const fourth = limiter.acquire().then((permit) => (order.push('fourth'), permit));
    await Promise.resolve();
    expect(limiter.inFlight).toBe(2);
    expect(limiter.queued).toBe(2);
    a!.release('failure');
    (await third).release('failure');
    b!.release('failure');
    (await fourth).release('failure');
    expect(order).toEqual(['third', 'fourth']);
    expect(limiter.inFlight).toBe(0);
  });

  it('halves the limit on a 429, once per burst', async () => {
    const limiter = new AdaptiveLimiter({ initial: 8 });
    const permits = await acquireMany(limiter, 8);
    for (const permit of permits) permit.release('throttled');
    // eight 429s from requests started before the cut: one halving, not eight
    expect(limiter.limit).toBe(4);
    const [next] = await acquireMany(limiter, 1);
    next!.release('throttled');
    expect(limiter.limit).toBe(2);
  });

  it('grows by one after a full window of successes, up to max', async () => {
    const limiter = new AdaptiveLimiter({ initial: 2, max: 3 });
    for (let i = 0; i < 2; i += 1) (await limiter.acquire()).release('success');
    expect(limiter.limit).toBe(3);
    for (let i = 0; i < 3; i += 1) (await limiter.acquire()).release('success');
    expect(limiter.limit).toBe(3);
  });

  it('never goes below min, and plain failures do not change the limit', async () => {
    const limiter = new AdaptiveLimiter({ initial: 2, min: 1 });
    for (let i = 0; i < 5; i += 1) (await limiter.acquire()).release('throttled');
    expect(limiter.limit).toBe(1);
    (await limiter.acquire()).release('failure');
    expect(limiter.limit).toBe(1);
  });

  it('lets more requests through when the limit grows', async () => {
    const limiter = new AdaptiveLimiter({ initial: 1, max: 4 });
    const first = await limiter.acquire();
    let secondStarted = false;
    const second = limiter.acquire().then((permit) => ((secondStarted = true), permit));
    await Promise.resolve();
    expect(secondStarted).toBe(false);
    first.release('success'); // window of 1 success: limit 1 → 2
    expect(limiter.limit).toBe(2);
    (await second).release('success');
    expect(secondStarted).toBe(true);
  });

  it('drops a queued request whose signal aborts', async () => {
    const limiter = new AdaptiveLimiter({ initial: 1 });
    const held = await limiter.acquire();
    const controller = new AbortController();
    const queued = limiter.acquire(controller.signal);
    controller.abort();
    await expect(queued).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(limiter.queued).toBe(0);
    held.release('success');
    expect(limiter.inFlight).toBe(0);
    await expect(limiter.acquire(controller.signal)).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(limiter.inFlight).toBe(0);
  });

  it('run() classifies errors into outcomes', async () => {
    const limiter = new AdaptiveLimiter({ initial: 4 });
    await expect(
      limiter.run(
        async () => {
          throw new Error('429');
        },
        () => 'throttled',
      ),
    ).rejects.toThrow('429');
    expect(limiter.limit).toBe(2);
    expect(await limiter.run(async () => 5)).toBe(5);
  });
});
