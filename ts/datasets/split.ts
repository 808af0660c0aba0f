import { OptNativeError } from '../errors.js';
import {
  DEFAULT_SPLIT_SEED,
  TEST_MODE_SPLIT_SIZE,
  type DatasetLoadOptions,
  type Example,
  type SplitSizes,
} from './types.js';
import { SeededRandom, deriveSeed } from '../random.js';

export interface ResolvedSplitSizes {
  train: number;
  validation: number;
  test: number;
}

function checkSize(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
    throw new OptNativeError('E_BAD_INPUT', `${name} size must be a non-negative integer, got ${value}`);
  }
}

/** Requested sizes, with test mode (5 a split) winning over explicit sizes. */
export function requestedSizes(options: DatasetLoadOptions): SplitSizes {
  if (options.testMode) {
    return { train: TEST_MODE_SPLIT_SIZE, validation: TEST_MODE_SPLIT_SIZE, test: TEST_MODE_SPLIT_SIZE };
  }
  const sizes = options.sizes ?? {};
  checkSize('train', sizes.train);
  checkSize('validation', sizes.validation);
  checkSize('test', sizes.test);
  return sizes;
}

/**
 * Cuts one pool of examples into train / validation / test after a seeded shuffle. Missing sizes default to
 * fractions of the pool (train 20%, validation 30%, test the rest — BBH's usual few-train, large-test layout).
 */
export function partitionExamples(
  datasetName: string,
  examples: readonly Example[],
  options: DatasetLoadOptions,
): { train: Example[]; validation: Example[]; test: Example[] } {
  const wanted = requestedSizes(options);
  const total = examples.length;
  const train = wanted.train ?? Math.round(total * 0.2);
  const validation = wanted.validation ?? Math.round(total * 0.3);
  const test = wanted.test ?? Math.max(0, total - train - validation);
  if (train + validation + test > total) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${datasetName} has ${total} examples, fewer than the requested ${train} train + ${validation} validation + ` +
        `${test} test`,
    );
  }
  const shuffled = new SeededRandom(deriveSeed(options.seed ?? DEFAULT_SPLIT_SEED, datasetName)).shuffle(examples);
  return {
    train: shuffled.slice(0, train),
    validation: shuffled.slice(train, train + validation),
    test: shuffled.slice(train + validation, train + validation + test),
  };
}

/** A seeded subset of `count` examples (all of them, in file order, when count is absent or covers the pool). */
export function seededSubset(
  label: string,
  examples: readonly Example[],
  count: number | undefined,
  seed: number,
): Example[] {
  if (count === undefined || count >= examples.length) {
    if (count !== undefined && count > examples.length) {
      throw new OptNativeError('E_BAD_INPUT', `${label} has ${examples.length} examples, fewer than ${count}`);
    }
    return examples.slice();
  }
  return new SeededRandom(deriveSeed(seed, label)).sample(examples, count);
}
