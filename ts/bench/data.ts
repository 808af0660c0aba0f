import { SeededRandom, deriveSeed } from '../random.js';
import { loadDataset } from '../datasets/registry.js';
import type { DatasetSplits, Example } from '../datasets/types.js';
import { OptNativeError } from '../errors.js';
import { exactAnswersMatch, numbersMatch } from '../tasks/answers.js';
import type { RunnerParams } from './optimizers.js';
import { createTextTask } from '../tasks/text-task.js';
import type { ExampleMetric, TextTask } from '../tasks/types.js';
import type { BenchTaskSpec, LoaderRef, MetricName } from './types.js';

export interface BenchTaskData {
  readonly task: TextTask;
  readonly trainset: readonly Example[];
  readonly valset: readonly Example[];
  readonly testset: readonly Example[];
}

async function loadSplits(spec: string, task: BenchTaskSpec, cache: Map<string, Promise<DatasetSplits>>) {
  let splits = cache.get(spec);
  if (!splits) {
    splits = loadDataset(spec, { seed: task.seed, testMode: task.testMode });
    cache.set(spec, splits);
  }
  return splits;
}

/** A loader slice: one split (default `fallbackSplit`), then a seeded subset of `count`. */
async function slice(
  ref: LoaderRef,
  fallbackSplit: 'train' | 'validation' | 'test',
  task: BenchTaskSpec,
  cache: Map<string, Promise<DatasetSplits>>,
): Promise<Example[]> {
  const splits = await loadSplits(ref.loader, task, cache);
  const examples = splits[ref.split ?? fallbackSplit];
  if (ref.count === undefined || ref.count >= examples.length) return examples.slice();
  return new SeededRandom(deriveSeed(task.seed, 'bench-slice', ref.loader, ref.split ?? fallbackSplit)).sample(
    examples,
    ref.count,
  );
}

/** The named metric over extracted answers (the task's own extraction stays). */
export function metricByName(name: MetricName): ExampleMetric {
  return name === 'numeric_match'
    ? (prediction, example) => ({ score: numbersMatch(prediction, example.target) ? 1 : 0 })
    : (prediction, example) => ({ score: exactAnswersMatch(prediction, example.target) ? 1 : 0 });
}

/**
 * Resolves a task's data: a dataset string gives its three splits; a loader object gives one slice used for both
 * training and validation (as the original tool does); `datasets` names each split, a missing validation split
 * falls back to train. `n_samples` caps the valset.
 */
export async function loadBenchTaskData(task: BenchTaskSpec, runner: RunnerParams = {}): Promise<BenchTaskData> {
  const { nSamples } = runner;
  const cache = new Map<string, Promise<DatasetSplits>>();
  let base: DatasetSplits;
  let trainset: Example[];
  let valset: Example[];
  let testset: Example[];
  if (task.datasets) {
    base = await loadSplits(task.datasets.train.loader, task, cache);
    trainset = await slice(task.datasets.train, 'train', task, cache);
    valset = task.datasets.validation ? await slice(task.datasets.validation, 'validation', task, cache) : trainset;
    testset = task.datasets.test ? await slice(task.datasets.test, 'test', task, cache) : [];
  } else if (typeof task.dataset === 'string') {
    base = await loadSplits(task.dataset, task, cache);
    [trainset, valset, testset] = [base.train.slice(), base.validation.slice(), base.test.slice()];
  } else {
    base = await loadSplits(task.dataset.loader, task, cache);
    trainset = await slice(task.dataset, 'train', task, cache);
    valset = trainset;
    testset = [];
  }
  if (nSamples !== undefined && valset.length > nSamples) {
    valset = new SeededRandom(deriveSeed(task.seed, 'bench-n-samples')).sample(valset, nSamples);
  }
  if (trainset.length === 0 || valset.length === 0) {
    throw new OptNativeError('E_EMPTY_TABLE', `${task.datasetName}: the train or validation examples are empty`);
  }
  const textTask = createTextTask(
    { ...base, name: task.datasetName },
    {
      scoreCalibration: runner.calibration,
      instructionPosition: runner.instructionPosition,
      answerFormatPosition: runner.answerFormatPosition,
    },
  );
  const [primary] = task.metrics;
  const metricName = primary ?? textTask.metricName;
  return {
    task: primary ? { ...textTask, metric: metricByName(primary), metricName } : textTask,
    trainset,
    valset,
    testset,
  };
}
