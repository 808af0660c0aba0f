// `opt-native metrics` as a user runs it: spawns bin/opt-native.js (dist/, built by `npm run build:ts`) on real
// Parquet, CSV, JSONL and Arrow files in a temp dir, and checks the printed numbers and exit codes.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_CLI_ARGS, runCli } from './cli-harness.js';
import type { MetricsReport } from '../ts/metrics/index.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = `${ROOT}tests/fixtures/metrics/`;

const cli = (args: string[]) => runCli(BIN_CLI_ARGS, ['metrics', ...args]);

// Model outputs in free text, with hand-computed scores (labels SPEECH / NON-SPEECH, --normalize):
//   row  label       pred                               → normalized   snr
//   0    SPEECH      "SPEECH"                           → SPEECH       0
//   1    SPEECH      "There is no speech"               → NON-SPEECH   0
//   2    NON-SPEECH  "Non-speech"                       → NON-SPEECH   0
//   3    NON-SPEECH  "NONSPEECH"                        → NON-SPEECH   10
//   4    SPEECH      "I cannot tell"                    → unknown      10
//   5    NON-SPEECH  "The audio contains human speech"  → SPEECH       10
// SPEECH recall 1/3, NON-SPEECH recall 2/3 → BA 0.5; snr 0 → (1/2 + 1)/2 = 0.75; snr 10 → (0 + 1/2)/2 = 0.25
const ROWS = {
  label: ['SPEECH', 'SPEECH', 'NON-SPEECH', 'NON-SPEECH', 'SPEECH', 'NON-SPEECH'],
  pred: ['SPEECH', 'There is no speech', 'Non-speech', 'NONSPEECH', 'I cannot tell', 'The audio contains human speech'],
  snr: ['0', '0', '0', '10', '10', '10'],
};
const NORMALIZED = ['--label-col', 'label', '--pred-col', 'pred', '--condition-cols', 'snr'];
const SPEECH_LABELS = ['--labels', 'SPEECH,NON-SPEECH', '--normalize'];

let dir = '';

function writeTables(): void {
  const lines = ROWS.label.map((label, i) => `${label},"${ROWS.pred[i]}",${ROWS.snr[i]}`);
  writeFileSync(join(dir, 'outputs.csv'), `label,pred,snr\n${lines.join('\n')}\n`);
  const jsonl = ROWS.label.map((label, i) => JSON.stringify({ label, pred: ROWS.pred[i], snr: Number(ROWS.snr[i]) }));
  writeFileSync(join(dir, 'outputs.jsonl'), `${jsonl.join('\n')}\n`);
  writeFileSync(join(dir, 'outputs.arrow'), tableToIPC(tableFromArrays(ROWS), 'file'));
  writeFileSync(join(dir, 'header-only.csv'), 'label,pred,snr\n');
  copyFileSync(`${FIXTURES}random_multiclass.parquet`, join(dir, 'multiclass.parquet'));
}

describe('opt-native metrics', () => {
  beforeAll(async () => {
    if (!existsSync(`${ROOT}dist/cli/main.js`)) await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
    dir = mkdtempSync(join(tmpdir(), 'metrics-cli-'));
    writeTables();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const file of ['outputs.csv', 'outputs.jsonl', 'outputs.arrow']) {
    it(`${file}: --normalize --json gives the hand-computed numbers`, async () => {
      const result = await cli(['--input', join(dir, file), ...NORMALIZED, ...SPEECH_LABELS, '--json']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as MetricsReport;
      expect(report.n).toBe(6);
      expect(report.labels).toEqual(['SPEECH', 'NON-SPEECH']);
      expect(report.accuracy).toBeCloseTo(3 / 6, 15);
      expect(report.balanced_accuracy).toBeCloseTo(0.5, 15);
      expect(report.ba_conditions_macro).toBeCloseTo(0.5, 15);
      expect(report.per_condition.snr!['0']).toMatchObject({ n: 3, balanced_accuracy: 0.75 });
      expect(report.per_condition.snr!['10']).toMatchObject({ n: 3, balanced_accuracy: 0.25, unknown: 1 });
      expect(report.unknown).toBe(1);
      expect(report.unknown_examples).toEqual(['I cannot tell']);
    });
  }

  it('prints a readable table with overall, bootstrap, per-class and per-condition rows', async () => {
    const result = await cli([
      '--input',
      join(dir, 'outputs.csv'),
      ...NORMALIZED,
      ...SPEECH_LABELS,
      '--bootstrap',
      '200',
      '--seed',
      '3',
    ]);
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/n = 6, labels = SPEECH, NON-SPEECH/);
    expect(out).toMatch(/^ {2}balanced accuracy +0\.5000$/m);
    expect(out).toMatch(/balanced accuracy 95% CI +\[\d\.\d{4}, \d\.\d{4}\] \(200 resamples, seed 3\)/);
    expect(out).toMatch(/^ {2}unknown +1 \(16\.67%\)$/m);
    expect(out).toMatch(/BA_conditions \(macro\) +0\.5000/);
    expect(out).toMatch(/unparseable, e\.g\.: "I cannot tell"/);
    expect(out).toMatch(/condition snr \(mean BA 0\.5000\)/);
    // numeric condition values in numeric order
    expect(out).toMatch(/^ {2}0 +3 +0\.6667 +0\.7500 +0$\n^ {2}10 +3 +0\.3333 +0\.2500 +1$/m);
  });

  it('a Parquet file without --labels matches scikit-learn (classes from the data)', async () => {
    const reference = JSON.parse(readFileSync(`${FIXTURES}expected.json`, 'utf8')).random_multiclass as {
      balanced_accuracy: number;
      ba_conditions_macro: number;
      labels: string[];
    };
    const result = await cli([
      '--input',
      join(dir, 'multiclass.parquet'),
      '--label-col',
      'label',
      '--pred-col',
      'pred',
      '--condition-cols',
      'snr,dur,shard',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as MetricsReport;
    expect(report.labels).toEqual(reference.labels);
    expect(Math.abs(report.balanced_accuracy! - reference.balanced_accuracy)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(report.ba_conditions_macro! - reference.ba_conditions_macro)).toBeLessThanOrEqual(1e-12);
  });

  it('without --normalize, free text is unknown (counted wrong)', async () => {
    const result = await cli([
      '--input',
      join(dir, 'outputs.csv'),
      ...NORMALIZED,
      '--labels',
      'SPEECH,NON-SPEECH',
      '--json',
    ]);
    const report = JSON.parse(result.stdout) as MetricsReport;
    // exact matches only: "SPEECH", "Non-speech", "NONSPEECH" → 3 right, the other 3 unknown
    expect(report.unknown).toBe(3);
    expect(report.accuracy).toBeCloseTo(0.5, 15);
  });

  const failures: [string, string[], string, RegExp][] = [
    ['missing file', ['--input', 'no/such/file.parquet'], 'E_FILE_NOT_FOUND', /no\/such\/file\.parquet/],
    [
      'missing column',
      ['--condition-cols', 'noise'],
      'E_MISSING_COLUMN',
      /`noise` not found; available columns: label, pred, snr/,
    ],
    ['empty table', ['--input', 'header-only.csv'], 'E_EMPTY_TABLE', /no rows/],
    [
      'unknown true label',
      ['--labels', 'YES,NO'],
      'E_UNKNOWN_LABEL',
      /true label `SPEECH` \(row 0\) is not in the label set \[YES, NO\]/,
    ],
    ['bad --bootstrap', ['--bootstrap', 'many'], 'E_BAD_INPUT', /--bootstrap must be an integer/],
  ];
  for (const [name, override, code, message] of failures) {
    it(`${name}: clear message and exit 1`, async () => {
      const args = ['--input', join(dir, 'outputs.csv'), '--label-col', 'label', '--pred-col', 'pred'];
      for (let i = 0; i < override.length; i += 2) {
        const at = args.indexOf(override[i]!);
        if (at >= 0) args[at + 1] = override[i]! === '--input' ? resolveInput(override[i + 1]!) : override[i + 1]!;
        else args.push(override[i]!, override[i + 1]!);
      }
      const result = await cli(args);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`error[${code}]:`);
      expect(result.stderr).toMatch(message);
    });
  }

  function resolveInput(path: string): string {
    return path.includes('/') ? path : join(dir, path);
  }

  it('a missing required flag is a usage error (exit 1)', async () => {
    const result = await cli(['--input', join(dir, 'outputs.csv'), '--label-col', 'label']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--pred-col/);
  });
});
