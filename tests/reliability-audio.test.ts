/**
 * A clip longer than Qwen2-Audio's 30 s window: only the window is decoded and heard, the answer says it was cut,
 * and `classify-audio` warns. The cut answer equals the answer for the clip's first 30 s alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeAudioModel } from '../ts/native/audio-model.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';
import { writeFloatWav } from './wav.js';

const MODEL_DIR = fileURLToPath(new URL('../crates/inference/tests/fixtures/tiny-qwen2-audio', import.meta.url));
const RATE = 16_000;
const dir = mkdtempSync(join(tmpdir(), 'reliability-audio-'));

/** A chirp, so that every second of the clip differs from the others. */
function chirp(seconds: number): Float32Array {
  return Float32Array.from(
    { length: seconds * RATE },
    (_, i) => 0.3 * Math.sin(2 * Math.PI * (200 + i / 400) * (i / RATE)),
  );
}

const long = join(dir, 'long-45s.wav');
const window = join(dir, 'first-30s.wav');
const short = join(dir, 'short-2s.wav');
writeFloatWav(long, chirp(45));
writeFloatWav(window, chirp(45).subarray(0, 30 * RATE));
writeFloatWav(short, chirp(2));

describe('clips longer than 30 s', () => {
  let model: NativeAudioModel;
  beforeAll(async () => {
    model = await NativeAudioModel.load(MODEL_DIR);
  });
  afterAll(() => model.dispose());

  it('are marked truncated and answered from their first 30 s', async () => {
    const [cut, first, brief] = await model.classifyClips([long, window, short], 'Is there speech?', {
      labels: ['SPEECH', 'NON-SPEECH'],
    });
    expect(cut?.truncated).toBe(true);
    expect(first?.truncated).toBeUndefined();
    expect(brief?.truncated).toBeUndefined();
    expect(cut?.logprobs?.SPEECH).toBeCloseTo(first?.logprobs?.SPEECH ?? NaN, 4);
    expect(cut?.usage).toEqual(first?.usage);
  });

  it('classify-audio warns on stderr for the cut clip only', async () => {
    const outcome = await runCli(SOURCE_CLI_ARGS, [
      'classify-audio',
      long,
      short,
      '--model',
      MODEL_DIR,
      '--prompt',
      'Is there speech?',
      '--labels',
      'SPEECH,NON-SPEECH',
    ]);
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe(`warning: ${long} is longer than 30 s: only its first 30 s were classified\n`);
    expect(outcome.stdout.trim().split('\n')).toHaveLength(2);
  }, 120_000);
});
