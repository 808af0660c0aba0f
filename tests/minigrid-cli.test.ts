// `opt-native data minigrid` end to end (spawned from source): files, fields, seed-disjoint splits, the printed
// per-category counts, and coded errors for an unknown environment, bad numbers and an occupied folder.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MinigridSample } from '../ts/minigrid/dataset.js';
import { runCli, SOURCE_CLI_ARGS, type CliOutcome } from './cli-harness.js';

const cli = (args: string[]) => runCli(SOURCE_CLI_ARGS, ['data', 'minigrid', ...args]);
const SPLIT_NAMES = ['train', 'dev', 'test'] as const;

let out: string;
let run: CliOutcome;

function readSplit(split: string): MinigridSample[] {
  return readFileSync(join(out, `${split}.jsonl`), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as MinigridSample);
}

beforeAll(async () => {
  out = join(mkdtempSync(join(tmpdir(), 'minigrid-cli-')), 'data');
  const args = ['--envs', 'Empty-5x5,DoorKey-5x5', '--seeds', '5', '--episodes', '2', '--samples-per-category', '3'];
  run = await cli([...args, '--hint-type', 'subgoal', '--encoding', 'relative', '--out', out]);
});

describe('opt-native data minigrid', () => {
  it('writes three splits with planner labels, split by seed, and prints the per-category counts', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const seedsBySplit = SPLIT_NAMES.map((split) => new Set(readSplit(split).map((sample) => sample.seed)));
    expect(seedsBySplit.map((seeds) => [...seeds].sort())).toEqual([[0, 1, 2], [3], [4]]);
    for (const split of SPLIT_NAMES) {
      const samples = readSplit(split);
      const counts = [0, 1, 2, 3, 4, 5, 6].map(
        (action) => samples.filter((sample) => sample.category === action).length,
      );
      expect(Math.max(...counts)).toBeLessThanOrEqual(3);
      const names = ['left', 'right', 'forward', 'pickup', 'drop', 'toggle', 'done'];
      const printed = names.map((name, action) => `${name} ${counts[action]}`).join(', ');
      expect(run.stdout).toContain(`${split}: ${samples.length} samples of `);
      expect(run.stdout).toContain(`(${printed})`);
      for (const sample of samples) {
        expect(sample.env).toMatch(/^MiniGrid-(Empty-5x5|DoorKey-5x5)-v0$/);
        expect(sample.observation).toMatch(/^facing: (east|south|west|north)\nfront: /);
        expect(sample.hint).toBe(sample.subgoal);
        expect(sample.optimal_action_ids[0]).toBe(sample.category);
        for (const name of sample.optimal_actions) expect(sample.regrets[name]).toBe(0);
      }
    }
    const doorKeyStart = readSplit('train').find(
      (sample) => sample.env.includes('DoorKey') && sample.subgoal.startsWith('pick'),
    );
    expect(doorKeyStart?.subgoal).toBe('pick up the yellow key');
    const info = JSON.parse(readFileSync(join(out, 'minigrid_info.json'), 'utf8')) as {
      splits: Record<string, unknown>;
    };
    expect(Object.keys(info.splits)).toEqual(['train', 'dev', 'test']);
  });

  it('refuses to overwrite an earlier run without --force', async () => {
    const again = await cli(['--envs', 'Empty-5x5', '--seeds', '3', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/error\[E_BAD_INPUT\]: .*already holds train\.jsonl.*--force/);
  });

  const failures: [string, string[], RegExp][] = [
    [
      'unknown environment',
      ['--envs', 'Empty-5x5,Maze-9x9'],
      /unknown Minigrid environment "Maze-9x9"; known: Empty-5x5/,
    ],
    ['zero seeds', ['--seeds', '0'], /--seeds must be an integer from 1 to 100000/],
    ['non-numeric episodes', ['--episodes', 'two'], /--episodes must be an integer, got "two"/],
    ['too few seeds for three splits', ['--seeds', '2'], /2 seeds cannot fill 3 splits/],
  ];
  it.each(failures)('%s: a coded error and exit 1', async (_name, args, message) => {
    const failed = await cli([...args, '--out', join(out, 'never')]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(/error\[E_BAD_INPUT\]:/);
    expect(failed.stderr).toMatch(message);
  });
});
