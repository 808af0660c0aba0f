/** Hand-built balanced-run results for the report tests: numbers chosen so table cells can be computed by hand. */
import {
  BALANCED_RESULTS_KIND,
  BALANCED_RESULTS_VERSION,
  type BalancedRunResult,
  type EpochRecord,
} from '../ts/optimizers/balanced/results.js';

const usage = { calls: 10, promptTokens: 1000, completionTokens: 500, cost: 0, cacheHits: 0 };

interface EpochSpec {
  focus: 'accuracy' | 'efficiency';
  accuracy: number;
  tokens: number;
  reverted?: boolean;
}

export function makeRun(options: {
  accuracyWeight: number;
  initial: { accuracy: number; tokens: number };
  epochs: EpochSpec[];
  prompt?: string;
  task?: string;
}): BalancedRunResult {
  const prompt = options.prompt ?? 'Solve it.';
  const epochs: EpochRecord[] = options.epochs.map((spec, index) => ({
    epoch: index + 1,
    focus: spec.focus,
    promptBefore: prompt,
    candidatePrompt: `${prompt} (candidate ${index + 1})`,
    prompt: spec.reverted ? prompt : `${prompt} (candidate ${index + 1})`,
    batch: { accuracy: spec.accuracy, meanCompletionTokens: spec.tokens, examples: 3 },
    critiques: ['critique'],
    feedback: 'feedback',
    evaluation: { accuracy: spec.accuracy, meanCompletionTokens: spec.tokens, examples: 5 },
    validation: null,
    reverted: spec.reverted ?? false,
    revertReason: spec.reverted ? 'validation accuracy fell from 80.0% to 60.0%' : null,
  }));
  const last = options.epochs[options.epochs.length - 1];
  return {
    kind: BALANCED_RESULTS_KIND,
    version: BALANCED_RESULTS_VERSION,
    task: options.task ?? 'gsm8k',
    model: 'native:default',
    optimizerModel: 'native:default',
    weights: { accuracy: options.accuracyWeight, efficiency: 1 - options.accuracyWeight },
    settings: {
      batchSize: 3,
      maxEpochs: epochs.length,
      numThreads: 4,
      evalSamples: 5,
      runValidation: false,
      seed: 0,
      maxTokens: 400,
      thinkingBudget: null,
      optimizerTemperature: 0,
      optimizerMaxTokens: 768,
    },
    initialPrompt: prompt,
    finalPrompt: epochs[epochs.length - 1]?.prompt ?? prompt,
    initial: { accuracy: options.initial.accuracy, meanCompletionTokens: options.initial.tokens, examples: 5 },
    final: last
      ? { accuracy: last.accuracy, meanCompletionTokens: last.tokens, examples: 5 }
      : { accuracy: options.initial.accuracy, meanCompletionTokens: options.initial.tokens, examples: 5 },
    epochs,
    usage: { task: usage, optimizer: usage, total: { ...usage, calls: 20 } },
    stopReason: 'completed',
    stopMessage: null,
    startedAt: '2026-11-23T00:00:00.000Z',
    wallTimeMs: 1234,
  };
}

/** Three configurations of a sweep: the efficiency-heavy one trades 20 points of accuracy for half the tokens. */
export function sweepRuns(prompt?: string): BalancedRunResult[] {
  return [
    makeRun({
      accuracyWeight: 0.7,
      prompt,
      initial: { accuracy: 0.4, tokens: 200 },
      epochs: [
        { focus: 'accuracy', accuracy: 0.6, tokens: 220 },
        // Reverted: the kept prompt is unchanged, so the evaluation repeats epoch 1's numbers.
        { focus: 'efficiency', accuracy: 0.6, tokens: 220, reverted: true },
        { focus: 'accuracy', accuracy: 0.8, tokens: 180 },
      ],
    }),
    makeRun({
      accuracyWeight: 0.3,
      prompt,
      initial: { accuracy: 0.4, tokens: 200 },
      epochs: [
        { focus: 'efficiency', accuracy: 0.4, tokens: 120 },
        { focus: 'efficiency', accuracy: 0.2, tokens: 100 },
        { focus: 'accuracy', accuracy: 0.2, tokens: 100 },
      ],
    }),
    makeRun({
      accuracyWeight: 0.5,
      prompt,
      initial: { accuracy: 0.4, tokens: 200 },
      epochs: [
        { focus: 'accuracy', accuracy: 0.6, tokens: 190 },
        { focus: 'efficiency', accuracy: 0.6, tokens: 140 },
        { focus: 'efficiency', accuracy: 0.6, tokens: 140 },
      ],
    }),
  ];
}
