/**
 * Audio through the LanguageModel interface (ts/audio/classifier-model.ts): a classifier's clips become model calls
 * that the optimizers' meter and budget count and the response cache keys by their samples; text providers refuse
 * audio messages.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audioClassifierModel, type AudioClassifier } from '../ts/audio/classifier-model.js';
import { audioPromptEvaluator, classifyAudio } from '../ts/audio/evaluator.js';
import { writeWav16 } from '../ts/audio/sox.js';
import type { AudioExample } from '../ts/datasets/audio-manifest.js';
import { OptNativeError } from '../ts/errors.js';
import { toChatCompletionParams } from '../ts/llm/openai-compatible.js';
import { toNativeGenerateOptions } from '../ts/llm/native-provider.js';
import { withRunControls } from '../ts/llm/run-controls.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { UsageMeter } from '../ts/optimizers/engine/meter.js';
import { OproOptimizer } from '../ts/optimizers/opro/index.js';
import { Budget } from '../ts/run/budget.js';
import { ResponseCache } from '../ts/run/cache.js';
import type { TextTask } from '../ts/tasks/types.js';

const LABELS = ['SPEECH', 'NON-SPEECH'];
/** Clip k has 160·k samples: odd lengths are speech. */
const clip = (k: number) => new Float32Array(160 * k).fill(0.1);
const truth = (samples: Float32Array) => ((samples.length / 160) % 2 === 1 ? 'SPEECH' : 'NON-SPEECH');

/** Hears the clip length right when the prompt says "listen"; 3 prompt tokens and 1 answer token per clip. */
function scriptedClassifier(): AudioClassifier & { batches: number[][] } {
  const batches: number[][] = [];
  return {
    batches,
    async classify(clips, prompt) {
      batches.push(clips.map((samples) => samples.length / 160));
      return clips.map((samples) => ({
        text: prompt.includes('listen') ? truth(samples) : 'SPEECH',
        label: prompt.includes('listen') ? truth(samples) : 'SPEECH',
        usage: { promptTokens: 3, completionTokens: 1 },
      }));
    },
  };
}

const modelOf = (classifier: AudioClassifier) =>
  audioClassifierModel(classifier, { modelId: 'scripted-audio', labels: LABELS });

describe('audio classifier as a LanguageModel', () => {
  it('counts every clip as a metered call, and the budget stops an evaluation between batches', async () => {
    const classifier = scriptedClassifier();
    const meter = new UsageMeter();
    const clips = [1, 2, 3, 4, 5, 6].map(clip);
    const predictions = await classifyAudio(clips, 'listen: speech?', {
      model: meter.wrap(modelOf(classifier)),
      labels: LABELS,
      batchSize: 4,
    });
    expect(predictions.map((prediction) => prediction.label)).toEqual(clips.map(truth));
    expect(classifier.batches).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    expect(meter.snapshot()).toMatchObject({ calls: 6, promptTokens: 18, completionTokens: 6 });

    const budget = new Budget({ maxCalls: 4 });
    const limited = new UsageMeter(budget).wrap(modelOf(scriptedClassifier()));
    await expect(classifyAudio(clips, 'x', { model: limited, labels: LABELS, batchSize: 4 })).rejects.toMatchObject({
      code: 'E_BUDGET',
    });
    expect(budget.spent().calls).toBe(4);
  });

  it('caches answers per clip: the same prompt on the same samples is a hit, other samples are not', async () => {
    const classifier = scriptedClassifier();
    const cache = new ResponseCache(join(mkdtempSync(join(tmpdir(), 'audio-cache-')), 'cache.sqlite'));
    try {
      const model = withRunControls(modelOf(classifier), { cache });
      const ask = (clips: Float32Array[]) => classifyAudio(clips, 'listen', { model, labels: LABELS });
      await ask([clip(1), clip(2)]);
      // Equal samples in a new array hit; a clip of another length misses.
      expect((await ask([clip(1), clip(2)])).map((prediction) => prediction.label)).toEqual(['SPEECH', 'NON-SPEECH']);
      await ask([clip(1), clip(3)]);
      expect(classifier.batches).toEqual([[1, 2], [3]]);
      expect(cache.stats).toMatchObject({ hits: 3, misses: 3 });
    } finally {
      cache.close();
    }
  });

  it('generates answers in generate mode and reads them as labels', async () => {
    const classifier: AudioClassifier = {
      classify: async (clips, _prompt, options) => {
        expect(options).toMatchObject({ mode: 'generate', labels: LABELS });
        return clips.map((samples) => (samples.length === 160 ? 'Speech.' : 'no idea'));
      },
    };
    const predictions = await classifyAudio([clip(1), clip(2)], 'speech?', {
      classifier,
      labels: LABELS,
      mode: 'generate',
    });
    expect(predictions).toEqual([
      { raw: 'Speech.', label: 'SPEECH' },
      { raw: 'no idea', label: null },
    ]);
  });

  it('refuses a request without a clip, and text providers refuse a message carrying one', async () => {
    const model = modelOf(scriptedClassifier());
    const text = { messages: [{ role: 'user' as const, content: 'speech?' }], choices: LABELS };
    await expect(model.scoreChoicesBatch?.([text])).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
    const withAudio = { messages: [{ role: 'user' as const, content: 'speech?', audio: clip(1) }] };
    expect(() => toChatCompletionParams('gpt-4o-mini', withAudio)).toThrow(OptNativeError);
    expect(() => toNativeGenerateOptions(withAudio)).toThrow(/audio/);
  });
});

describe('OPRO on an audio manifest', () => {
  it('meters the clips of every evaluation with the optimizer calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audio-opro-'));
    mkdirSync(join(dir, 'audio'));
    const clips: AudioExample[] = await Promise.all(
      [1, 2, 3, 4].map(async (k) => {
        const audioPath = join(dir, 'audio', `c${k}.wav`);
        await writeWav16(audioPath, clip(k));
        return { id: `c${k}`, input: audioPath, target: truth(clip(k)), audioPath, conditions: {} };
      }),
    );
    const task: TextTask = {
      name: 'audio',
      description: 'Classify an audio clip as SPEECH or NON-SPEECH.',
      metricName: 'exact_match',
      scoreKind: 'balanced_accuracy',
      kind: 'classification',
      answerFormat: '',
      instructionPosition: 'before',
      answerFormatPosition: 'end',
      scoreCalibration: 'none',
      labels: LABELS,
      requiredLabelWords: [],
      maxAnswerTokens: 8,
      splits: { name: 'audio', defaultMetric: 'exact_match', train: [], validation: clips, test: [] },
      formatMessages: (instruction) => [{ role: 'user', content: instruction }],
      extractAnswer: (reply) => reply,
      metric: (prediction, example) => ({ score: prediction === example.target ? 1 : 0 }),
    };
    const writer = new ScriptedLanguageModel({
      modelId: 'writer',
      respond: () => '<INS>Please listen, then answer SPEECH or NON-SPEECH.</INS>',
    });
    const result = await new OproOptimizer(
      { numIterations: 1, candidatesPerIter: 1, baselinePrompt: 'Is it SPEECH or NON-SPEECH?' },
      {
        evaluator: (model) => audioPromptEvaluator({ clips, labels: LABELS, conditionColumns: [], model }),
      },
    ).optimize({
      task,
      trainset: [],
      valset: clips,
      model: modelOf(scriptedClassifier()),
      optimizerModel: writer,
      metric: task.metric,
      seed: 1,
    });
    expect(result.bestPrompt).toBe('Please listen, then answer SPEECH or NON-SPEECH.');
    expect(result.best.ba_clip).toBe(1);
    // Two prompts on four clips, plus one optimizer call; the baseline's iteration is its four clips alone.
    expect(result.usage.calls).toBe(9);
    expect(result.iterationStats[0]).toMatchObject({ calls: 4, prompt_tokens: 12, completion_tokens: 4 });
  });
});
