// The speech-conditions manifest: one row per clip, one column per condition, written as Parquet.
import { writeFile } from 'node:fs/promises';
import { Float64, Int32, Table, Utf8, vectorFromArray } from 'apache-arrow';
import type { SpeechLabel } from '../datasets/audio-manifest.js';
import { tableToParquet } from '../datasets/parquet.js';
import type { ClipConditions } from './conditions.js';
import type { SourceKind } from './sources.js';

export type ManifestSplit = 'dev' | 'test';

export interface ManifestRow {
  readonly clipId: string;
  /** Relative to the manifest's folder. */
  readonly audioPath: string;
  readonly label: SpeechLabel;
  readonly split: ManifestSplit;
  readonly conditions: ClipConditions;
  /** Null for silence clips, which are never scaled. */
  readonly levelDbfs: number | null;
  readonly sourceId: string;
  readonly sourceKind: SourceKind;
  readonly sourcePath: string;
  readonly sourceStartS: number;
  /** Gain applied after mixing to reach the level (turned down where peaks would clip); 0 dB for silence. */
  readonly gainDb: number;
  /** Measured RMS of the written clip. */
  readonly rmsDbfs: number;
}

/** The Arrow table of the manifest rows (column names snake_case, as pandas users read them). */
export function manifestTable(rows: readonly ManifestRow[]): Table {
  const strings = (pick: (row: ManifestRow) => string) => vectorFromArray(rows.map(pick), new Utf8());
  const numbers = (pick: (row: ManifestRow) => number | null) => vectorFromArray(rows.map(pick), new Float64());
  return new Table({
    clip_id: strings((row) => row.clipId),
    audio_path: strings((row) => row.audioPath),
    label: strings((row) => row.label),
    split: strings((row) => row.split),
    varied: strings((row) => row.conditions.varied),
    snr_db: numbers((row) => row.conditions.snrDb),
    noise_type: strings((row) => row.conditions.noiseType),
    duration_ms: vectorFromArray(
      rows.map((row) => row.conditions.durationMs),
      new Int32(),
    ),
    band: strings((row) => row.conditions.band),
    reverb: strings((row) => row.conditions.reverb),
    level_dbfs: numbers((row) => row.levelDbfs),
    source_id: strings((row) => row.sourceId),
    source_kind: strings((row) => row.sourceKind),
    source_path: strings((row) => row.sourcePath),
    source_start_s: numbers((row) => row.sourceStartS),
    gain_db: numbers((row) => row.gainDb),
    rms_dbfs: numbers((row) => row.rmsDbfs),
  });
}

export async function writeManifest(path: string, rows: readonly ManifestRow[]): Promise<void> {
  await writeFile(path, await tableToParquet(manifestTable(rows)));
}
