// `opt-native data minigrid`: planner-labelled Minigrid states (expert rollouts plus detours) as JSONL splits.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { ENCODINGS, type Encoding } from '../../minigrid/encodings.js';
import { ENVIRONMENT_IDS, resolveEnvironmentId } from '../../minigrid/environments.js';
import {
  samplePerCategory,
  samplesForSeed,
  splitSeeds,
  SPLITS,
  type HintType,
  type MinigridSample,
} from '../../minigrid/dataset.js';
import { seedFlag } from '../../numbers.js';
import { integerOption, numberOption } from '../task-options.js';

interface MinigridOptionValues {
  out: string;
  envs?: string;
  seeds: number;
  startSeed: number;
  episodes: number;
  hintType: HintType;
  encoding: Encoding;
  samplesPerCategory?: number;
  split: string;
  detourProbability: number;
  seed: number;
  force?: boolean;
}

function parseEnvs(list: string | undefined): string[] {
  if (list === undefined) return [...ENVIRONMENT_IDS];
  const names = list.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new OptNativeError('E_BAD_INPUT', `--envs has an empty name: "${list}"`);
  return [...new Set(names.map(resolveEnvironmentId))];
}

function parseSplit(text: string): [number, number, number] {
  const weights = text.split(',').map((part) => Number(part.trim()));
  if (weights.length !== 3 || weights.some((weight) => !Number.isFinite(weight) || weight < 0) || weights[0] === 0) {
    throw new OptNativeError('E_BAD_INPUT', `--split takes three weights train,dev,test (train > 0), got "${text}"`);
  }
  return weights as [number, number, number];
}

function checkOutputFolder(out: string, force: boolean | undefined): void {
  const existing = [...SPLITS.map((split) => `${split}.jsonl`), 'minigrid_info.json'].filter((name) =>
    existsSync(join(out, name)),
  );
  if (existing.length > 0 && !force) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${out} already holds ${existing.join(', ')}; pass --force to replace them`,
    );
  }
}

function countsText(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([action, count]) => `${action} ${count}`)
    .join(', ');
}

function runMinigrid(values: MinigridOptionValues): void {
  const envs = parseEnvs(values.envs);
  const seedsBySplit = splitSeeds(values.startSeed, values.seeds, parseSplit(values.split));
  checkOutputFolder(values.out, values.force);
  const options = {
    encoding: values.encoding,
    hintType: values.hintType,
    episodes: values.episodes,
    detourProbability: values.detourProbability,
  };
  mkdirSync(values.out, { recursive: true });
  const info: Record<string, unknown> = { envs, settings: { ...values, out: undefined }, splits: {} };
  for (const split of SPLITS) {
    const all: MinigridSample[] = envs.flatMap((env) =>
      seedsBySplit[split].flatMap((seed) => samplesForSeed(env, seed, options)),
    );
    const { samples, counts } = samplePerCategory(all, values.samplesPerCategory, values.seed);
    writeFileSync(join(values.out, `${split}.jsonl`), samples.map((sample) => `${JSON.stringify(sample)}\n`).join(''));
    (info.splits as Record<string, unknown>)[split] = {
      seeds: seedsBySplit[split],
      states: all.length,
      samples: samples.length,
      counts,
    };
    console.log(
      `${split}: ${samples.length} samples of ${all.length} states, seeds [${seedsBySplit[split].join(', ')}] (${countsText(counts)})`,
    );
  }
  writeFileSync(join(values.out, 'minigrid_info.json'), `${JSON.stringify(info, null, 2)}\n`);
  console.log(`wrote ${SPLITS.map((split) => `${split}.jsonl`).join(', ')} and minigrid_info.json to ${values.out}`);
}

export function registerMinigridData(data: Command): void {
  data
    .command('minigrid')
    .description('Minigrid states labelled by an exact planner (optimal actions, regrets, subgoal), split by seed')
    .requiredOption('--out <dir>', 'output folder (train.jsonl, dev.jsonl, test.jsonl, minigrid_info.json)')
    .option(
      '--envs <list>',
      `comma-separated environments (default all: ${ENVIRONMENT_IDS.map((id) => id.slice(9, -3)).join(',')})`,
    )
    .option(
      '--seeds <n>',
      'environment seeds per environment, split between train/dev/test',
      integerOption('--seeds', { min: 1, max: 100_000 }),
      10,
    )
    .option('--start-seed <n>', 'first environment seed', seedFlag('--start-seed'), 0)
    .option(
      '--episodes <n>',
      'rollouts per seed: the first expert, the others with random detours',
      integerOption('--episodes', { min: 1, max: 1000 }),
      2,
    )
    .addOption(
      new Option('--hint-type <type>', 'hint given with each state').choices(['action', 'subgoal']).default('action'),
    )
    .addOption(new Option('--encoding <type>', 'how the 7×7 view is written').choices([...ENCODINGS]).default('ascii'))
    .option(
      '--samples-per-category <k>',
      'keep at most k states per expert action (per split)',
      integerOption('--samples-per-category', { min: 1 }),
    )
    .option('--split <weights>', 'train,dev,test weights over seeds', '60,20,20')
    .option(
      '--detour-probability <p>',
      'chance of a random safe action per step in detour rollouts',
      numberOption('--detour-probability', { min: 0, max: 1 }),
      0.3,
    )
    .option('--seed <n>', 'seed of the per-category sampling', seedFlag('--seed'), 0)
    .option('--force', 'replace the files of an earlier run in --out')
    .action(runMinigrid);
}
