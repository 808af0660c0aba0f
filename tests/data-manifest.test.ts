// Audio manifests as datasets (CSV/JSONL/Parquet), BA_clip / BA_conditions of the audio reward, the audio prompt
// evaluator with a scripted classifier, and the `opt-native data` command.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { registerData } from '../ts/cli/commands/data.js';
import { answerLabel, audioPromptEvaluator, type AudioClassifier } from '../ts/audio/evaluator.js';
import { Table, Utf8, vectorFromArray } from 'apache-arrow';
import { scoreByCondition } from '../ts/audio/condition-scores.js';
import { tableToParquet } from '../ts/datasets/parquet.js';
import { writeWav16 } from '../ts/audio/sox.js';
import type { AudioExample, AudioManifestDataset } from '../ts/datasets/audio-manifest.js';
import { loadDataset } from '../ts/datasets/index.js';
import { metricsFromFile } from '../ts/metrics/index.js';
import { nativeBinding } from '../ts/native/binding.js';
import { DEFAULT_REWARD_WEIGHTS } from '../ts/optimizers/opro/config.js';
import { computeReward } from '../ts/optimizers/opro/reward.js';

const HEADER = 'clip_id,audio_path,label,split,snr_db,band,source_id';
// Six clips: targets, conditions and (below) the predictions of the hand-computed BA example.
const ROWS = [
  'c1,audio/c1.wav,SPEECH,dev,-5,telephone,a',
  'c2,audio/c2.wav,SPEECH,dev,-5,full,a',
  'c3,audio/c3.wav,NON-SPEECH,dev,-5,full,b',
  'c4,audio/c4.wav,SPEECH,dev,,telephone,c',
  'c5,audio/c5.wav,NON-SPEECH,dev,,full,d',
  'c6,audio/c6.wav,NON-SPEECH,dev,,full,d',
  't1,audio/t1.wav,SPEECH,test,0,full,e',
  'r1,audio/r1.wav,NON-SPEECH,train,0,full,f',
];
const PREDICTIONS: Record<string, string> = {
  c1: 'SPEECH',
  c2: 'non-speech.',
  c3: 'Non-Speech',
  c4: 'speech',
  c5: 'SPEECH',
  c6: 'I cannot tell',
};
// BA_clip: SPEECH recall 2/3, NON-SPEECH 1/3 → 1/2.
// snr_db: -5 → (1/2 + 1)/2 = 3/4; none → (1 + 0)/2 = 1/2; column 5/8.
// band: telephone → SPEECH only, 2/2 → 1; full → SPEECH 0/1, NON-SPEECH 1/3 → 1/6; column 7/12.
// BA_conditions = (5/8 + 7/12)/2 = 29/48.
const BA_CONDITIONS = 29 / 48;

let dir: string;

/** Whether the native addon (with the Rust metrics crate) is built here; `npm test` builds it first. */
function nativeMetricsAvailable(): boolean {
  try {
    return typeof nativeBinding().metricsFromFile === 'function';
  } catch {
    return false;
  }
}

function writeManifest(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'audio-manifest-'));
  writeManifest('manifest.csv', [HEADER, ...ROWS]);
  // Real WAVs of distinct lengths (clip k has 160·k samples), so a scripted classifier can tell them apart.
  const ids = ROWS.map((row) => row.split(',')[0] as string);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'audio'));
  await Promise.all(
    ids.map((id, index) => writeWav16(join(dir, 'audio', `${id}.wav`), new Float32Array(160 * (index + 1)).fill(0.1))),
  );
});

describe('audio manifest loader', () => {
  it('reads a CSV manifest: dev is validation, paths resolve beside the manifest, conditions as text', async () => {
    const dataset = (await loadDataset(`audio_manifest:${join(dir, 'manifest.csv')}`)) as AudioManifestDataset;
    expect(dataset.validation.map((clip) => clip.id)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    expect(dataset.test.map((clip) => clip.id)).toEqual(['t1']);
    expect(dataset.train.map((clip) => clip.id)).toEqual(['r1']);
    expect(dataset.labels).toEqual(['NON-SPEECH', 'SPEECH']);
    // source_id is provenance, not a condition.
    expect(dataset.conditionColumns).toEqual(['snr_db', 'band']);
    expect(dataset.validation[3]).toMatchObject({
      input: join(dir, 'audio', 'c4.wav'),
      audioPath: join(dir, 'audio', 'c4.wav'),
      target: 'SPEECH',
      conditions: { snr_db: 'none', band: 'telephone' },
    });
  });

  it('reads JSON Lines without a split column with the seeded BBH-style partition, and trims splits to sizes', async () => {
    const jsonl = ROWS.map((row) => {
      const [id, audio, label, , snr] = row.split(',');
      return JSON.stringify({ id, path: audio, target: label, snr_db: snr === '' ? null : Number(snr) });
    });
    const path = writeManifest('manifest.jsonl', jsonl);
    const dataset = (await loadDataset(`audio_manifest:${path}`, { seed: 3 })) as AudioManifestDataset;
    const ids = [...dataset.train, ...dataset.validation, ...dataset.test].map((clip) => clip.id).sort();
    expect(ids).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'r1', 't1']);
    expect(dataset.conditionColumns).toEqual(['snr_db']);
    const trimmed = await loadDataset(`audio_manifest:${join(dir, 'manifest.csv')}`, {
      sizes: { validation: 2 },
      seed: 1,
    });
    expect(trimmed.validation).toHaveLength(2);
    const again = await loadDataset(`audio_manifest:${join(dir, 'manifest.csv')}`, {
      sizes: { validation: 2 },
      seed: 1,
    });
    expect(again.validation.map((clip) => clip.id)).toEqual(trimmed.validation.map((clip) => clip.id));
  });

  it('refuses bad manifests with stable codes', async () => {
    const load = (name: string, lines: string[], prefix = 'audio_manifest') =>
      loadDataset(`${prefix}:${writeManifest(name, lines)}`);
    await expect(load('nolabel.csv', ['clip_id,audio_path', 'c1,audio/c1.wav'])).rejects.toMatchObject({
      code: 'E_MISSING_COLUMN',
      message: expect.stringContaining('no label column'),
    });
    await expect(load('missing.csv', [HEADER, 'x,audio/nope.wav,SPEECH,dev,0,full,a'])).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
      message: expect.stringContaining('nope.wav'),
    });
    await expect(load('twice.csv', [HEADER, ROWS[0] as string, ROWS[0] as string])).rejects.toMatchObject({
      code: 'E_BAD_INPUT',
      message: expect.stringContaining('appears twice'),
    });
    await expect(load('split.csv', [HEADER, 'c1,audio/c1.wav,SPEECH,holdout,0,full,a'])).rejects.toMatchObject({
      code: 'E_BAD_INPUT',
    });
    await expect(
      load('columns.csv', [HEADER, 'c1,audio/c1.wav,SPEECH,dev,0,full,a'], 'speech_conditions'),
    ).rejects.toMatchObject({ code: 'E_MISSING_COLUMN' });
    await expect(loadDataset(`audio_manifest:${join(dir, 'manifest.xlsx')}`)).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
    });
    writeFileSync(join(dir, 'manifest.xml'), '<x/>');
    await expect(loadDataset(`audio_manifest:${join(dir, 'manifest.xml')}`)).rejects.toMatchObject({
      code: 'E_BAD_INPUT',
      message: expect.stringContaining('unknown manifest format'),
    });
  });

  it('speech_conditions refuses labels other than SPEECH / NON-SPEECH', async () => {
    const header = 'clip_id,audio_path,label,split,snr_db,noise_type,duration_ms,band,reverb,level_dbfs';
    const path = writeManifest('sc.csv', [header, 'c1,audio/c1.wav,MUSIC,dev,,none,10,full,none,-25']);
    await expect(loadDataset(`speech_conditions:${path}`)).rejects.toMatchObject({ code: 'E_UNKNOWN_LABEL' });
  });
});

describe('BA_clip and BA_conditions', () => {
  const clips = async () =>
    ((await loadDataset(`audio_manifest:${join(dir, 'manifest.csv')}`)) as AudioManifestDataset).validation;

  it('macro-averages balanced accuracy over condition values, then columns (hand-computed)', async () => {
    const validation = await clips();
    const predictions = validation.map((clip) => answerLabel(PREDICTIONS[clip.id] as string, ['SPEECH', 'NON-SPEECH']));
    expect(predictions).toEqual(['SPEECH', 'NON-SPEECH', 'NON-SPEECH', 'SPEECH', 'SPEECH', null]);
    const scores = scoreByCondition(validation, predictions, ['snr_db', 'band']);
    expect(scores.baClip).toBeCloseTo(0.5, 12);
    expect(scores.perValue.snr_db?.['-5']).toEqual({ n: 3, balancedAccuracy: 0.75 });
    expect(scores.perValue.snr_db?.none).toEqual({ n: 3, balancedAccuracy: 0.5 });
    expect(scores.perValue.band?.telephone).toEqual({ n: 2, balancedAccuracy: 1 });
    expect(scores.perValue.band?.full?.balancedAccuracy).toBeCloseTo(1 / 6, 12);
    expect(scores.byColumn.snr_db).toBeCloseTo(5 / 8, 12);
    expect(scores.byColumn.band).toBeCloseTo(7 / 12, 12);
    expect(scores.baConditions).toBeCloseTo(BA_CONDITIONS, 12);
    expect(scoreByCondition(validation, predictions, []).baConditions).toBeNull();
  });

  it.skipIf(!nativeMetricsAvailable())(
    'agrees with the Rust metrics crate on a predictions Parquet written with parquet-wasm',
    async () => {
      const validation = await clips();
      const strings = (values: string[]) => vectorFromArray(values, new Utf8());
      const table = new Table({
        label: strings(validation.map((clip) => clip.target)),
        pred: strings(
          validation.map((clip) => answerLabel(PREDICTIONS[clip.id] as string, ['SPEECH', 'NON-SPEECH']) ?? 'UNKNOWN'),
        ),
        snr_db: strings(validation.map((clip) => clip.conditions.snr_db as string)),
        band: strings(validation.map((clip) => clip.conditions.band as string)),
      });
      const path = join(dir, 'predictions.parquet');
      writeFileSync(path, await tableToParquet(table));
      const report = await metricsFromFile(path, {
        labelCol: 'label',
        predCol: 'pred',
        conditionCols: ['snr_db', 'band'],
      });
      expect(report.balanced_accuracy).toBeCloseTo(0.5, 12);
      expect(report.ba_conditions_macro).toBeCloseTo(BA_CONDITIONS, 12);
    },
  );

  it('the audio evaluator classifies the decoded clips and feeds the reward', async () => {
    const validation: readonly AudioExample[] = await clips();
    const calls: number[][] = [];
    const classifier: AudioClassifier = {
      async classify(batch, prompt, options) {
        expect(prompt).toBe('Is there speech? Answer SPEECH or NON-SPEECH.');
        expect(options.labels).toEqual(['SPEECH', 'NON-SPEECH']);
        calls.push(batch.map((samples) => samples.length));
        return batch.map((samples) => PREDICTIONS[`c${samples.length / 160}`] as string);
      },
    };
    const evaluator = audioPromptEvaluator({
      clips: validation,
      labels: ['SPEECH', 'NON-SPEECH'],
      conditionColumns: ['snr_db', 'band'],
      classifier,
      batchSize: 4,
    });
    const prompt = 'Is there speech? Answer SPEECH or NON-SPEECH.';
    const score = await evaluator.evaluate(prompt);
    expect(calls).toEqual([
      [160, 320, 480, 640],
      [800, 960],
    ]);
    expect(score.primary).toBeCloseTo(0.5, 12);
    expect(score.conditions).toBeCloseTo(BA_CONDITIONS, 12);
    expect(score.metrics.unknown).toBe(1);
    const reward = computeReward(
      { primary: score.primary, conditions: score.conditions, promptLength: prompt.length },
      DEFAULT_REWARD_WEIGHTS,
    );
    // 1·0.5 + 0.25·29/48 − 0.05·45/100 (the prompt has 45 characters)
    expect(reward).toBeCloseTo(0.5 + 0.25 * (29 / 48) - 0.05 * 0.45, 12);
  });
});

describe('opt-native data', () => {
  function program(): Command {
    const root = new Command().exitOverride();
    registerData(root);
    return root;
  }

  it('data manifest prints splits, labels and condition values', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await program().parseAsync(['data', 'manifest', join(dir, 'manifest.csv')], { from: 'user' });
      const output = log.mock.calls.map((call) => String(call[0])).join('\n');
      expect(output).toContain('validation: 6 clips (NON-SPEECH 3, SPEECH 3)');
      expect(output).toContain('snr_db: -5 3, 0 2, none 3');
      expect(output).toContain('band: full 6, telephone 2');
    } finally {
      log.mockRestore();
    }
  });

  it('data speech-conditions refuses unknown condition families', async () => {
    await expect(
      program().parseAsync(['data', 'speech-conditions', '--out', join(dir, 'x'), '--conditions', 'snr,echo'], {
        from: 'user',
      }),
    ).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: expect.stringContaining('--conditions') });
  });
});
