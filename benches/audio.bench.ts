// Audio evaluation throughput on the tiny random Qwen2-Audio fixture (CPU), side by side in one run:
//  - native label scoring of a batch of clips under a new prompt, encoder outputs served from the cache (what OPRO does
//    for every candidate after the first), against
//  - the seed's way: `generate` a few tokens one clip at a time, with the encoder run for every clip (no cache).
// Then the time split of OPRO iterations on the same model (scripted optimizer, so the optimizer's share is ~0 here).
//   npx tsx benches/audio.bench.ts            (AUDIO_BENCH_CLIPS=16 by default)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { audioPromptEvaluator, type AudioClassifier } from '../ts/audio/evaluator.js';
import type { AudioExample } from '../ts/datasets/audio-manifest.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest, LanguageModel } from '../ts/llm/types.js';
import { NativeAudioModel } from '../ts/native/audio-model.js';
import { OproOptimizer, type PromptEvaluator } from '../ts/optimizers/opro/index.js';
import type { TextTask } from '../ts/tasks/types.js';
import { writeFloatWav } from '../tests/wav.js';

const ROOT = join(import.meta.dirname, '..');
const MODEL = join(ROOT, 'crates/inference/tests/fixtures/tiny-qwen2-audio');
const FIXTURES = join(ROOT, 'tests/fixtures/qwen2-audio');
const LABELS = ['SPEECH', 'NON-SPEECH'];
const CLIPS = Number(process.env.AUDIO_BENCH_CLIPS ?? 16);
const MAX_NEW_TOKENS = 8;

const base = (name: string) => new Float32Array(new Uint8Array(readFileSync(join(FIXTURES, `${name}.f32`))).buffer);
const sources = [base('clip-a'), base('clip-b')];
/** Distinct clips (1.2 s and 0.8 s, different gains), so every clip has its own cache entry. */
const clips = Array.from({ length: CLIPS }, (_, index) =>
  (sources[index % 2] as Float32Array).map((value) => value * (0.5 + index / CLIPS)),
);

const model = await NativeAudioModel.load(MODEL);
let promptIndex = 0;
let generateRound = 0;

async function scoreWithCache(): Promise<void> {
  // A new prompt each run: the decoder reruns, the encoder output comes from the cache.
  const results = await model.classifyClips(clips, `Candidate prompt ${promptIndex++}: SPEECH or NON-SPEECH?`, {
    labels: LABELS,
    mode: 'score',
  });
  if (results.length !== CLIPS) throw new Error('bad result count');
}

async function generatePerClipNoCache(): Promise<void> {
  // Fresh samples each round (a gain no other round uses), so the encoder runs for every clip as without a cache.
  const gain = 1 + ++generateRound * 1e-3;
  for (const clip of clips) {
    await model.generate(
      clip.map((value) => value * gain),
      'Does this audio contain human speech? Reply SPEECH or NON-SPEECH.',
      { maxNewTokens: MAX_NEW_TOKENS },
    );
  }
}

await scoreWithCache(); // fills the encoder cache
const bench = new Bench({ time: 5000, warmupTime: 500 });
bench
  .add(`native label scoring, encoder cache, ${CLIPS} clips per call`, scoreWithCache)
  .add(`generate ${MAX_NEW_TOKENS} tokens one clip at a time, no cache`, generatePerClipNoCache);
await bench.run();
console.table(bench.table());
const [scored, generated] = bench.tasks.map((task) => {
  const latency = task.result && 'latency' in task.result ? task.result.latency : undefined;
  return latency?.mean ?? Number.NaN;
}) as [number, number];
console.log(
  `clips/s: scoring+cache ${((CLIPS * 1000) / scored).toFixed(1)}, generate per clip ${((CLIPS * 1000) / generated).toFixed(1)}, ratio ${(generated / scored).toFixed(1)}x`,
);

// --- OPRO iteration time split -------------------------------------------------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), 'audio-bench-'));
const examples: AudioExample[] = clips.map((clip, index) => {
  const audioPath = join(scratch, `c${index}.f32.wav`);
  writeFloatWav(audioPath, clip);
  const target = index % 2 === 0 ? 'SPEECH' : 'NON-SPEECH';
  return {
    id: `c${index}`,
    input: audioPath,
    target,
    audioPath,
    conditions: { gain: index < CLIPS / 2 ? 'low' : 'high' },
  };
});

const timings = { optimizerMs: 0, evaluationMs: 0 };
const timedClassifier: AudioClassifier = model;
const inner = audioPromptEvaluator({
  clips: examples,
  labels: LABELS,
  conditionColumns: ['gain'],
  classifier: timedClassifier,
  mode: 'score',
});
const evaluator: PromptEvaluator = {
  async evaluate(prompt, signal) {
    const started = performance.now();
    try {
      return await inner.evaluate(prompt, signal);
    } finally {
      timings.evaluationMs += performance.now() - started;
    }
  },
};
let proposal = 0;
const scripted = new ScriptedLanguageModel({
  respond: (request: GenerateRequest) => {
    const content = request.messages[0]?.content ?? '';
    if (!content.includes('<INS>')) return 'SPEECH';
    return [1, 2, 3]
      .map(() => `<INS>Variant ${proposal++}: is a person speaking? Say SPEECH or NON-SPEECH.</INS>`)
      .join(' ');
  },
});
const scriptedGenerate = scripted.generate.bind(scripted);
scripted.generate = async (request) => {
  const started = performance.now();
  try {
    return await scriptedGenerate(request);
  } finally {
    timings.optimizerMs += performance.now() - started;
  }
};
const optimizerModel: LanguageModel = scripted;
const task: TextTask = {
  name: 'bench-audio',
  description: 'Classify an audio clip as SPEECH or NON-SPEECH.',
  metricName: 'exact_match',
  scoreKind: 'balanced_accuracy',
  kind: 'classification',
  answerFormat: '',
  instructionPosition: 'before',
  answerFormatPosition: 'end',
  scoreCalibration: 'none',
  labels: LABELS,
  requiredLabelWords: LABELS,
  maxAnswerTokens: 8,
  splits: { name: 'bench-audio', defaultMetric: 'exact_match', train: [], validation: examples, test: [] },
  formatMessages: (instruction) => [{ role: 'user', content: instruction }],
  extractAnswer: (reply) => reply,
  metric: (prediction, example) => ({ score: prediction === example.target ? 1 : 0 }),
};
const ITERATIONS = 3;
const started = performance.now();
const result = await new OproOptimizer(
  { numIterations: ITERATIONS, candidatesPerIter: 3, earlyStopping: 10, baselinePrompt: 'SPEECH or NON-SPEECH?' },
  { evaluator: () => evaluator },
).optimize({
  task,
  trainset: [],
  valset: examples,
  model: optimizerModel,
  optimizerModel,
  metric: task.metric,
  seed: 42,
});
const totalMs = performance.now() - started;
const overheadMs = totalMs - timings.evaluationMs - timings.optimizerMs;
const evaluated = result.records.filter((record) => record.status === 'evaluated').length;
const pct = (ms: number) => `${((100 * ms) / totalMs).toFixed(2)} %`;
console.log(
  `OPRO ${ITERATIONS} iterations, ${evaluated} prompts × ${CLIPS} clips: ${(totalMs / ITERATIONS).toFixed(1)} ms/iteration; ` +
    `optimizer ${pct(timings.optimizerMs)}, evaluation ${pct(timings.evaluationMs)}, ` +
    `orchestration ${pct(overheadMs)} (${(overheadMs / ITERATIONS).toFixed(1)} ms/iteration)`,
);
console.log('encoder cache', await model.cacheStats());
await model.dispose();
rmSync(scratch, { recursive: true, force: true });
