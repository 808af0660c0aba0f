/**
 * End to end on the tiny random Qwen2-Audio fixture, through the real CLI in a child process: `classify-audio --json`,
 * `evaluate --manifest` (predictions CSV + metrics per condition) and `opro --manifest` (scripted optimizer, native
 * audio evaluator) on a small manifest of float WAVs made from the fixture clips.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SOURCE_CLI_ARGS, repoRoot, runCli } from './cli-harness.js';
import { writeFloatWav } from './wav.js';

const MODEL = join(repoRoot, 'crates/inference/tests/fixtures/tiny-qwen2-audio');
const FIXTURES = join(repoRoot, 'tests/fixtures/qwen2-audio');
const PROMPT = 'Does this audio contain human speech? Reply SPEECH or NON-SPEECH.';

const cli = (args: string[]) => runCli(SOURCE_CLI_ARGS, args);

const dir = mkdtempSync(join(tmpdir(), 'audio-cli-'));
const samples = (name: string) => new Float32Array(new Uint8Array(readFileSync(join(FIXTURES, `${name}.f32`))).buffer);

/** 8 clips: scaled copies of the fixture's voiced clip (SPEECH) and noise clip (NON-SPEECH), dev/test, 2 levels. */
function writeManifest(): string {
  const rows = ['clip_id,audio_path,label,split,level'];
  let index = 0;
  for (const split of ['dev', 'test']) {
    for (const [name, label] of [
      ['clip-a', 'SPEECH'],
      ['clip-b', 'NON-SPEECH'],
    ] as const) {
      for (const level of ['loud', 'quiet']) {
        const id = `c${index++}`;
        const gain = (level === 'loud' ? 1 : 0.3) * (1 + index / 100);
        writeFloatWav(
          join(dir, `${id}.wav`),
          samples(name).map((value) => value * gain),
        );
        rows.push(`${id},${id}.wav,${label},${split},${level}`);
      }
    }
  }
  const path = join(dir, 'manifest.csv');
  writeFileSync(path, `${rows.join('\n')}\n`);
  return path;
}

const manifest = writeManifest();

describe('opt-native classify-audio', () => {
  it('prints per-clip labels, probabilities and usage as JSON, the same for a file given twice', async () => {
    const files = [join(FIXTURES, 'clip-a.wav'), join(FIXTURES, 'clip-b.wav'), join(FIXTURES, 'clip-a.wav')];
    const { stdout, stderr, code } = await cli([
      'classify-audio',
      '--model',
      MODEL,
      '--prompt',
      PROMPT,
      '--labels',
      'SPEECH,NON-SPEECH',
      '--json',
      ...files,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      mode: string;
      clips: { file: string; label: string; raw: string; probabilities: Record<string, number> }[];
    };
    expect(result.mode).toBe('score');
    expect(result.clips.map((clip) => clip.file)).toEqual(files);
    for (const clip of result.clips) {
      expect(['SPEECH', 'NON-SPEECH']).toContain(clip.label);
      expect(clip.probabilities.SPEECH! + clip.probabilities['NON-SPEECH']!).toBeCloseTo(1, 6);
    }
    expect(result.clips[2]).toEqual({ ...result.clips[0], file: files[2] });
  });

  it('fails with a coded error on a missing file', async () => {
    const { stderr, code } = await cli([
      'classify-audio',
      '--model',
      MODEL,
      '--prompt',
      PROMPT,
      '--labels',
      'SPEECH,NON-SPEECH',
      join(dir, 'missing.wav'),
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error\[E_BAD_AUDIO\]: .*missing\.wav/);
  });
});

describe('opt-native evaluate --manifest', () => {
  it('writes the predictions CSV and the metrics report per condition', async () => {
    const promptFile = join(dir, 'prompt.txt');
    writeFileSync(promptFile, `${PROMPT}\n`);
    const csv = join(dir, 'predictions.csv');
    const metricsPath = join(dir, 'metrics.json');
    const { stdout, stderr, code } = await cli([
      'evaluate',
      '--manifest',
      manifest,
      '--split',
      'test',
      '--prompt-file',
      promptFile,
      '--evaluator',
      MODEL,
      '--no-lora',
      '--eval-mode',
      'score',
      '--output-csv',
      csv,
      '--metrics-json',
      metricsPath,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('clip_id,raw_output,normalized_label,label,level');
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(['c4', 'c5', 'c6', 'c7']);
    for (const line of lines.slice(1)) {
      const [, raw, normalized, label, level] = line.split(',');
      expect(raw).toBe(normalized);
      expect(['SPEECH', 'NON-SPEECH']).toContain(label);
      expect(['loud', 'quiet']).toContain(level);
    }
    const metrics = JSON.parse(readFileSync(metricsPath, 'utf8')) as {
      n_samples: number;
      ba_clip: number;
      ba_conditions: number;
      per_condition: { level: Record<string, { n: number; balancedAccuracy: number }> };
    };
    expect(JSON.parse(stdout.slice(0, stdout.lastIndexOf('}') + 1))).toEqual(metrics);
    expect(metrics.n_samples).toBe(4);
    expect(metrics.ba_clip).toBeGreaterThanOrEqual(0);
    expect(metrics.ba_clip).toBeLessThanOrEqual(1);
    expect(Object.keys(metrics.per_condition.level).sort()).toEqual(['loud', 'quiet']);
    expect(metrics.per_condition.level.loud!.n).toBe(2);
  });
});

describe('opt-native opro --manifest', () => {
  it('optimizes a prompt with the native audio evaluator and writes the run files', async () => {
    const script = join(dir, 'optimizer.json');
    writeFileSync(
      script,
      JSON.stringify({
        modelId: 'scripted-optimizer',
        rules: [
          {
            contains: '<INS>',
            reply: '<INS>Is a person speaking in this clip? Answer SPEECH or NON-SPEECH.</INS>',
          },
        ],
        default: '',
      }),
    );
    const out = join(dir, 'opro');
    const { stdout, stderr, code } = await cli([
      'opro',
      '--manifest',
      manifest,
      '--output-dir',
      out,
      '--evaluator',
      MODEL,
      '--eval-mode',
      'score',
      '--optimizer-llm',
      `scripted:${script}`,
      '--num-iterations',
      '2',
      '--candidates-per-iter',
      '1',
      '--quiet',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('=== BEST PROMPT ===');
    expect(stdout).toMatch(/Held-out test score: [01]\.\d{3} on 4 examples/);
    const best = JSON.parse(readFileSync(join(out, 'best_metrics.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['ba_clip', 'ba_conditions']) {
      const value = best[key] as number;
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    const prompts = readFileSync(join(out, 'opro_prompts.jsonl'), 'utf8').trim().split('\n');
    const evaluated = prompts.map((line) => (JSON.parse(line) as { prompt: string }).prompt);
    expect(evaluated).toContain('Is a person speaking in this clip? Answer SPEECH or NON-SPEECH.');
    // Without --baseline-prompt, an audio run starts from the original tool's prompt.
    expect(evaluated[0]).toBe('Does this audio contain human speech?\nReply with ONLY one word: SPEECH or NON-SPEECH.');
    expect(readFileSync(join(out, 'best_prompt.txt'), 'utf8').length).toBeGreaterThan(0);
  });
});
