import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, estimateEtaSeconds } from '../ts/run/progress.js';

function captureStream(isTTY: boolean) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => text };
}

describe('progress', () => {
  it('estimates the ETA from the average time per unit', () => {
    expect(estimateEtaSeconds(0, 10, 0)).toBeUndefined();
    expect(estimateEtaSeconds(2, 10, 4_000)).toBe(16);
    expect(estimateEtaSeconds(10, 10, 9_000)).toBe(0);
  });

  it('prints one plain line per tick with ETA and cost when not on a TTY', () => {
    const { stream, text } = captureStream(false);
    let now = 0;
    const progress = createProgress({ label: 'eval', total: 4, stream, now: () => now });
    now = 1_000;
    progress.tick(1, 0.01);
    now = 2_000;
    progress.tick(1, 0.0025);
    progress.stop();
    expect(text()).toBe('eval: 1/4 (25%) eta 3s cost $0.0100\neval: 2/4 (50%) eta 2s cost $0.0125\n');
  });

  it('draws a bar with the cost on a TTY', () => {
    const { stream, text } = captureStream(true);
    const progress = createProgress({ label: 'eval', total: 2, stream });
    progress.tick(1, 0.5);
    progress.tick(1, 0.25);
    progress.stop();
    expect(text()).toContain('2/2');
    expect(text()).toContain('$ 0.7500');
  });
});
