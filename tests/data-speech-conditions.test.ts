// The speech-conditions builder on the real Debian recordings (pocketsphinx-testdata, asterisk-core-sounds-en-wav,
// sound-theme-freedesktop, alsa-utils) and sox: files, formats, durations, measured SNR, determinism, split hygiene.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSpeechConditions, type BuildSummary } from '../ts/audio/build.js';
import type { ManifestRow } from '../ts/audio/manifest.js';
import { MANIFEST_FILE } from '../ts/datasets/audio-manifest.js';
import { KNOWN_SOURCE_ROOTS, discoverSources, requireBothClasses } from '../ts/audio/sources.js';
import { loadDataset } from '../ts/datasets/index.js';
import type { AudioManifestDataset } from '../ts/datasets/audio-manifest.js';

const DEBIAN_SOURCES = KNOWN_SOURCE_ROOTS.map((root) => root.path);
const REFERENCE_PYTHON = process.env.OPT_NATIVE_REF_PYTHON ?? '/work/tools/ref/bin/python';

/** A 16-bit PCM WAV, parsed by hand (independent of sox): format fields and samples scaled to [-1, 1). */
function readWav(path: string): { sampleRate: number; channels: number; bits: number; samples: Float32Array } {
  const bytes = readFileSync(path);
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
  expect(bytes.toString('ascii', 8, 12)).toBe('WAVE');
  let offset = 12;
  let format = { sampleRate: 0, channels: 0, bits: 0 };
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      expect(bytes.readUInt16LE(body)).toBe(1); // PCM
      format = {
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        bits: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      const samples = new Float32Array(size / 2);
      for (let index = 0; index < samples.length; index += 1)
        samples[index] = bytes.readInt16LE(body + 2 * index) / 32768;
      return { ...format, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error(`${path} has no data chunk`);
}

/** The source as the builder sees it, decoded here with the same sox arguments: 16 kHz mono float. */
function decodeSource(path: string): Float32Array {
  const raw = execFileSync(
    'sox',
    [
      '-D',
      '-V1',
      path,
      '-t',
      'raw',
      '-e',
      'floating-point',
      '-b',
      '32',
      '-L',
      '-c',
      '1',
      '-r',
      '16000',
      '-',
      'remix',
      '-',
    ],
    {
      maxBuffer: 1 << 28,
    },
  );
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength - (raw.byteLength % 4)));
}

function filesOf(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>([[MANIFEST_FILE, readFileSync(join(dir, MANIFEST_FILE))]]);
  for (const name of readdirSync(join(dir, 'audio')).sort()) files.set(name, readFileSync(join(dir, 'audio', name)));
  return files;
}

const sumSquares = (samples: ArrayLike<number>) => {
  let sum = 0;
  for (let index = 0; index < samples.length; index += 1) sum += (samples[index] as number) ** 2;
  return sum;
};

describe('opt-native data speech-conditions on the Debian recordings', () => {
  const root = mkdtempSync(join(tmpdir(), 'speech-conditions-'));
  let first: BuildSummary;
  const build = (name: string, seed: number, extra: { clips?: number; families?: ('snr' | 'duration')[] } = {}) =>
    buildSpeechConditions({
      outDir: join(root, name),
      seed,
      clips: extra.clips ?? 12,
      sourceDirs: DEBIAN_SOURCES,
      families: extra.families,
    });

  beforeAll(async () => {
    first = await build('a', 7);
  });

  it('writes 12 16 kHz mono 16-bit WAVs whose lengths are the duration condition', () => {
    expect(first.rows).toHaveLength(12);
    for (const row of first.rows) {
      const wav = readWav(join(root, 'a', row.audioPath));
      expect([wav.sampleRate, wav.channels, wav.bits]).toEqual([16000, 1, 16]);
      expect(wav.samples.length).toBe((row.conditions.durationMs * 16000) / 1000);
    }
    expect(first.clips).toEqual({ dev: { SPEECH: 3, 'NON-SPEECH': 3 }, test: { SPEECH: 3, 'NON-SPEECH': 3 } });
  });

  it('puts no source recording in both splits, and every clip is cut from a recording of its label', () => {
    const devSources = new Set(first.rows.filter((row) => row.split === 'dev').map((row) => row.sourceId));
    const testSources = first.rows.filter((row) => row.split === 'test').map((row) => row.sourceId);
    expect(testSources.filter((id) => devSources.has(id))).toEqual([]);
    for (const row of first.rows) expect(row.sourceKind === 'speech').toBe(row.label === 'SPEECH');
  });

  it('mixes noise at the SNR condition (measured from the WAV within ±0.5 dB)', async () => {
    const snr = await build('snr', 11, { clips: 16, families: ['snr'] });
    const mixed = snr.rows.filter((row: ManifestRow) => row.conditions.snrDb !== null);
    expect(mixed.length).toBeGreaterThanOrEqual(8);
    expect(new Set(mixed.map((row) => row.conditions.noiseType)).size).toBeGreaterThanOrEqual(2);
    for (const row of mixed) {
      const clip = readWav(join(root, 'snr', row.audioPath)).samples;
      const source = decodeSource(row.sourcePath);
      const start = Math.round(row.sourceStartS * 16000);
      const gain = 10 ** (row.gainDb / 20);
      // clip = gain·(signal + noise): undo the level gain, subtract the clean signal, what is left is the noise.
      const signal = new Float32Array(clip.length);
      signal.set(source.subarray(start, start + clip.length));
      const noise = clip.map((sample, index) => sample / gain - (signal[index] as number));
      const measured = 10 * Math.log10(sumSquares(signal) / sumSquares(noise));
      expect(Math.abs(measured - (row.conditions.snrDb as number))).toBeLessThanOrEqual(0.5);
    }
  });

  it('is byte-identical for the same seed and different for another seed', async () => {
    const again = await build('b', 7);
    const other = await build('c', 8);
    expect(again.rows).toEqual(first.rows);
    const firstFiles = filesOf(join(root, 'a'));
    const againFiles = filesOf(join(root, 'b'));
    expect([...againFiles.keys()]).toEqual([...firstFiles.keys()]);
    for (const [name, bytes] of firstFiles) expect(againFiles.get(name)?.equals(bytes), name).toBe(true);
    expect(
      filesOf(join(root, 'c'))
        .get(MANIFEST_FILE)
        ?.equals(firstFiles.get(MANIFEST_FILE) as Buffer),
    ).toBe(false);
    expect(other.rows.map((row) => row.sourceId)).not.toEqual(first.rows.map((row) => row.sourceId));
  });

  it('reads back through the dataset registry (speech_conditions:DIR) with dev as validation', async () => {
    const dataset = (await loadDataset(`speech_conditions:${join(root, 'a')}`)) as AudioManifestDataset;
    expect(dataset.labels).toEqual(['NON-SPEECH', 'SPEECH']);
    expect(dataset.conditionColumns).toEqual(['snr_db', 'noise_type', 'duration_ms', 'band', 'reverb', 'level_dbfs']);
    expect(dataset.validation.map((clip) => clip.id)).toEqual(
      first.rows.filter((row) => row.split === 'dev').map((row) => row.clipId),
    );
    expect(dataset.test).toHaveLength(6);
    expect(dataset.train).toHaveLength(0);
    const clip = dataset.validation[0];
    const row = first.rows[0] as ManifestRow;
    expect(clip?.audioPath).toBe(join(root, 'a', row.audioPath));
    expect(clip?.conditions.duration_ms).toBe(String(row.conditions.durationMs));
    expect(clip?.conditions.snr_db).toBe(row.conditions.snrDb === null ? 'none' : String(row.conditions.snrDb));
  });

  it.skipIf(!existsSync(REFERENCE_PYTHON))('writes a manifest pyarrow reads with the documented schema', () => {
    const script = [
      'import json, sys, pyarrow.parquet as pq',
      't = pq.read_table(sys.argv[1])',
      'print(json.dumps({"schema": [[f.name, str(f.type)] for f in t.schema], "rows": t.num_rows, "labels": sorted(set(t.column("label").to_pylist()))}))',
    ].join('\n');
    const output = execFileSync(REFERENCE_PYTHON, ['-c', script, join(root, 'a', MANIFEST_FILE)], { encoding: 'utf8' });
    const parsed = JSON.parse(output) as { schema: [string, string][]; rows: number; labels: string[] };
    expect(parsed.rows).toBe(12);
    expect(parsed.labels).toEqual(['NON-SPEECH', 'SPEECH']);
    expect(parsed.schema).toEqual([
      ['clip_id', 'string'],
      ['audio_path', 'string'],
      ['label', 'string'],
      ['split', 'string'],
      ['varied', 'string'],
      ['snr_db', 'double'],
      ['noise_type', 'string'],
      ['duration_ms', 'int32'],
      ['band', 'string'],
      ['reverb', 'string'],
      ['level_dbfs', 'double'],
      ['source_id', 'string'],
      ['source_kind', 'string'],
      ['source_path', 'string'],
      ['source_start_s', 'double'],
      ['gain_db', 'double'],
      ['rms_dbfs', 'double'],
    ]);
  });

  it('refuses with E_FILE_NOT_FOUND and the packages to install when no recordings are found', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-sources-'));
    expect(() => requireBothClasses(discoverSources([empty]), [empty])).toThrow(
      expect.objectContaining({
        code: 'E_FILE_NOT_FOUND',
        message: expect.stringContaining('apt-get install -y pocketsphinx-testdata asterisk-core-sounds-en-wav'),
      }),
    );
  });
});
