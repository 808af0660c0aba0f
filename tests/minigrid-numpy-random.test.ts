// numpy's PCG64 generator port against numpy's own draws (tests/fixtures/minigrid/numpy-draws.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NumpyGenerator, seedSequenceState } from '../ts/minigrid/numpy-random.js';
import { FIXTURE_DIR } from './minigrid-fixtures.js';

interface Draws {
  seed: number;
  integers: [number, number, number][];
  shuffled: number[];
  choice: number;
  raw: string;
}

const DRAWS = JSON.parse(readFileSync(join(FIXTURE_DIR, 'numpy-draws.json'), 'utf8')) as Draws[];

describe('numpy default_rng port', () => {
  it('SeedSequence(0).generate_state(4, uint32) matches numpy', () => {
    // np.random.SeedSequence(0).generate_state(4)
    expect(Array.from(seedSequenceState(0, 4))).toEqual([2968811710, 3677149159, 745650761, 2884920346]);
  });

  for (const draws of DRAWS) {
    it(`seed ${draws.seed}: integers, shuffle, choice and the next raw output match numpy`, () => {
      const random = new NumpyGenerator(draws.seed);
      for (const [low, high, expected] of draws.integers) expect(random.integers(low, high)).toBe(expected);
      const items = Array.from({ length: 10 }, (_, index) => index);
      random.shuffle(items);
      expect(items).toEqual(draws.shuffled);
      expect(random.choice([3, 4, 5, 6, 7, 8])).toBe(draws.choice);
      expect(random.nextUint64().toString()).toBe(draws.raw);
    });
  }

  it('an empty range is refused and a one-value range draws nothing', () => {
    const random = new NumpyGenerator(0);
    expect(() => random.integers(3, 3)).toThrow(RangeError);
    expect(random.integers(7, 8)).toBe(7);
    expect(random.integers(0, 5)).toBe(new NumpyGenerator(0).integers(0, 5));
  });
});
