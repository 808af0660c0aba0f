// The four encodings of the agent's view on a hand-made grid, seed splits, per-category sampling and rollouts.
import { describe, expect, it } from 'vitest';
import { samplePerCategory, samplesForSeed, splitSeeds, type MinigridSample } from '../ts/minigrid/dataset.js';
import type { MinigridState, MinigridTask } from '../ts/minigrid/dynamics.js';
import { encodeObservation } from '../ts/minigrid/encodings.js';
import { parseLetterGrid } from '../ts/minigrid/grid-text.js';

// Agent at (2, 3) facing north, a yellow key two cells ahead. The view's top three rows lie beyond the top wall
// (unseen), and so do its outer columns (beyond the side walls).
const { grid, agentX, agentY, agentDir } = parseLetterGrid(
  ['WGWGWGWGWG', 'WG  KY  WG', 'WG      WG', 'WG  ^^  WG', 'WGWGWGWGWG'].join('\n'),
);
const TASK: MinigridTask = {
  envId: 'hand-made',
  mission: 'm',
  maxSteps: 10,
  seeThroughWalls: false,
  success: { kind: 'goal' },
};
const STATE: MinigridState = { grid, agentX, agentY, agentDir, carrying: null, stepCount: 0 };

describe('observation encodings', () => {
  it('ascii: pprint letters, the agent ^^ at the bottom middle, unseen ??', () => {
    expect(encodeObservation(TASK, STATE, 'ascii')).toBe(
      [
        '??????????????',
        '??????????????',
        '??????????????',
        '??WGWGWGWGWG??',
        '??WG  KY  WG??',
        '??WG      WG??',
        '??WG  ^^  WG??',
        'Carrying: nothing.',
      ].join('\n'),
    );
  });

  it("tuples: Minigrid's (object, colour, state) image rows", () => {
    const rows = encodeObservation(TASK, STATE, 'tuples').split('\n');
    expect(rows[0]).toBe(Array(7).fill('(0,0,0)').join(' '));
    expect(rows[4]).toBe('(0,0,0) (2,5,0) (1,0,0) (5,4,0) (1,0,0) (2,5,0) (0,0,0)');
    expect(rows[6]).toBe('(0,0,0) (2,5,0) (1,0,0) (1,0,0) (1,0,0) (2,5,0) (0,0,0)');
  });

  it('natural and relative: what is in front, each visible object with its offset, what is carried', () => {
    expect(encodeObservation(TASK, STATE, 'natural')).toBe(
      'You face north. Directly in front of you is an empty square. You see a yellow key 2 steps ahead. ' +
        'You are carrying nothing.',
    );
    expect(encodeObservation(TASK, STATE, 'relative')).toBe(
      'facing: north\nfront: empty\nyellow key: forward 2, right 0\ncarrying: nothing',
    );
  });
});

describe('splits and sampling', () => {
  it('splits seeds in order by weight, each split at least one seed, none shared', () => {
    expect(splitSeeds(0, 10, [60, 20, 20])).toEqual({ train: [0, 1, 2, 3, 4, 5], dev: [6, 7], test: [8, 9] });
    expect(splitSeeds(5, 3, [60, 20, 20])).toEqual({ train: [5], dev: [6], test: [7] });
    expect(splitSeeds(0, 2, [1, 1, 0])).toEqual({ train: [0], dev: [1], test: [] });
    expect(() => splitSeeds(0, 2, [60, 20, 20])).toThrow(expect.objectContaining({ code: 'E_BAD_INPUT' }));
  });

  it('keeps at most k samples per expert action and counts them', () => {
    const samples = [2, 2, 2, 0, 1, 2].map((category, step) => ({ category, step }) as MinigridSample);
    const { samples: kept, counts } = samplePerCategory(samples, 2, 0);
    expect(counts).toEqual({ left: 1, right: 1, forward: 2, pickup: 0, drop: 0, toggle: 0, done: 0 });
    expect(kept.filter((sample) => sample.category === 2)).toHaveLength(2);
    expect(samplePerCategory(samples, undefined, 0).samples).toEqual(samples);
  });
});

describe('rollouts', () => {
  it('the expert episode of LavaGapS5 seed 0 walks the optimal path; detours are labelled off-path', () => {
    const options = { encoding: 'ascii' as const, hintType: 'action' as const, episodes: 4, detourProbability: 0.5 };
    const samples = samplesForSeed('LavaGapS5', 0, options);
    const expert = samples.filter((sample) => sample.episode === 0);
    // Six steps to the goal (the fixture's BFS distance for seed 2 is 6 too; here: the planner's own count).
    expect(expert.map((sample) => sample.distance)).toEqual(expert.map((_, index) => expert.length - index));
    expect(samples.some((sample) => sample.source === 'off-path')).toBe(true);
    for (const sample of samples) {
      expect(sample.optimal_actions.map((name) => sample.regrets[name])).toEqual(sample.optimal_actions.map(() => 0));
      expect(sample.hint).toBe(
        sample.optimal_actions.length === 1
          ? sample.optimal_actions[0]
          : `any of: ${sample.optimal_actions.join(', ')}`,
      );
      // done never changes the state, and a no-op loses exactly the step it takes.
      expect(sample.no_op_actions).toContain('done');
      for (const name of sample.no_op_actions ?? []) expect(sample.regrets[name]).toBe(1);
    }
    // Forward into the lava is fatal wherever the lava is in front.
    expect(samples.some((sample) => sample.regrets.forward === null)).toBe(true);
  });
});
