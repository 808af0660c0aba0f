/** The JSONL splits `opt-native data minigrid` writes (train, dev, test), read back as navigation examples. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OptNativeError } from '../../errors.js';
import { samplePerCategory, SPLITS, type MinigridSample, type SplitName } from '../../minigrid/dataset.js';

/** A labelled state with a stable id (`split:line`). */
export interface NavigationExample extends MinigridSample {
  readonly id: string;
}

export type NavigationSplits = Readonly<Record<SplitName, readonly NavigationExample[]>>;

const REQUIRED_FIELDS = ['mission', 'observation', 'optimal_actions', 'regrets', 'category'] as const;

function parseLine(split: SplitName, line: string, index: number, path: string): NavigationExample {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (error) {
    throw new OptNativeError('E_BAD_INPUT', `${path}:${index + 1} is not JSON`, { cause: error });
  }
  const record = row as Record<string, unknown>;
  const missing = REQUIRED_FIELDS.filter((field) => record?.[field] === undefined);
  if (missing.length > 0) {
    throw new OptNativeError('E_MISSING_COLUMN', `${path}:${index + 1} lacks ${missing.join(', ')}`);
  }
  return { ...(record as unknown as MinigridSample), id: `${split}:${index + 1}` };
}

/** Reads `DIR/{train,dev,test}.jsonl`; a missing folder or split is E_FILE_NOT_FOUND naming the command that makes it. */
export function loadNavigationSplits(dir: string): NavigationSplits {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new OptNativeError(
      'E_FILE_NOT_FOUND',
      `dataset folder ${dir} does not exist; write one with \`opt-native data minigrid --out ${dir}\``,
    );
  }
  const read = (split: SplitName): NavigationExample[] => {
    const path = join(dir, `${split}.jsonl`);
    if (!existsSync(path)) throw new OptNativeError('E_FILE_NOT_FOUND', `${path} is missing (from data minigrid)`);
    const lines = readFileSync(path, 'utf8').split('\n');
    return lines.flatMap((line, index) => (line.trim() === '' ? [] : [parseLine(split, line, index, path)]));
  };
  return Object.fromEntries(SPLITS.map((split) => [split, read(split)])) as unknown as NavigationSplits;
}

/** At most `perCategory` examples per expert action (seeded), with the per-category counts. */
export function examplesPerCategory(
  examples: readonly NavigationExample[],
  perCategory: number | undefined,
  seed: number,
): { examples: NavigationExample[]; counts: Record<string, number> } {
  const { samples, counts } = samplePerCategory(examples, perCategory, seed);
  return { examples: samples as NavigationExample[], counts };
}
