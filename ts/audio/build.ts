// `opt-native data speech-conditions`: real speech / non-speech recordings under psychoacoustic conditions.
// Every clip draws from its own seeded stream, so clips render in parallel and a seed gives the same bytes.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { MANIFEST_FILE, NONSPEECH_LABEL, SPEECH_LABEL, type SpeechLabel } from '../datasets/audio-manifest.js';
import { SeededRandom, deriveSeed } from '../random.js';
import { OptNativeError } from '../errors.js';
import {
  BAND_EFFECTS,
  REVERB_EFFECTS,
  drawConditions,
  type ClipConditions,
  type ConditionFamily,
} from './conditions.js';
import { writeManifest, type ManifestRow, type ManifestSplit } from './manifest.js';
import { babble, fromDb, mixAtSnr, peak, pickLoudStart, pinkNoise, rms, segment, toDb, whiteNoise } from './signal.js';
import { SAMPLE_RATE, applySoxEffects, decodeToMono16k, writeWav16, type SoxOptions } from './sox.js';
import { defaultSourceDirs, discoverSources, requireBothClasses, type SourceRecording } from './sources.js';
import { speechRecordings, splitSources, type SourceSplits, type SplitPools } from './split.js';

export interface BuildSpeechConditionsOptions extends SoxOptions {
  outDir: string;
  seed?: number;
  clips?: number;
  /** Folders to take recordings from (default: the standard install paths that exist). */
  sourceDirs?: readonly string[];
  /** Condition families clips may vary (default: all). */
  families?: readonly ConditionFamily[];
  /** Parallel sox pipelines (default 2). */
  concurrency?: number;
  onClip?: (row: ManifestRow) => void;
}

export interface BuildSummary {
  readonly manifestPath: string;
  readonly rows: readonly ManifestRow[];
  readonly clips: Record<ManifestSplit, Record<SpeechLabel, number>>;
  readonly sourceRecordings: Record<ManifestSplit, number>;
}

export const DEFAULT_CLIPS = 240;
export const DEFAULT_SEED = 0;
/** Talkers in a babble mix, drawn from the other speech recordings of the clip's split. */
const BABBLE_TALKERS = 4;
/** Clips peaking above this after the level gain are turned down instead of clipped. */
const PEAK_CEILING = 0.99;

/** Clip `index` in split order: dev/test alternate, and SPEECH/NON-SPEECH alternate within each split. */
function slotOf(index: number): { split: ManifestSplit; label: SpeechLabel } {
  return {
    split: index % 2 === 0 ? 'dev' : 'test',
    label: Math.floor(index / 2) % 2 === 0 ? SPEECH_LABEL : NONSPEECH_LABEL,
  };
}

class SourceAudio {
  private readonly cache = new Map<string, Promise<Float32Array>>();
  constructor(private readonly sox: SoxOptions) {}

  get(recording: SourceRecording): Promise<Float32Array> {
    let audio = this.cache.get(recording.path);
    if (!audio) {
      audio = decodeToMono16k(recording.path, this.sox);
      this.cache.set(recording.path, audio);
    }
    return audio;
  }
}

function pick<T>(items: readonly T[], random: SeededRandom): T {
  return items[random.integer(0, items.length - 1)] as T;
}

async function babbleNoise(
  own: SourceRecording,
  talkers: readonly SourceRecording[],
  length: number,
  random: SeededRandom,
  audio: SourceAudio,
): Promise<Float32Array> {
  const others = talkers.filter((talker) => talker.id !== own.id);
  // With a single speech recording in the split, the babble is other stretches of that same recording.
  const pool = others.length > 0 ? others : [own];
  const voices: Float32Array[] = [];
  for (let voice = 0; voice < BABBLE_TALKERS; voice += 1) {
    const samples = await audio.get(pick(pool, random));
    voices.push(segment(samples, pickLoudStart(samples, length, random), length));
  }
  return babble(voices, length);
}

async function noiseFor(
  conditions: ClipConditions,
  context: { own: SourceRecording; talkers: readonly SourceRecording[]; length: number; audio: SourceAudio },
  random: SeededRandom,
): Promise<Float32Array> {
  switch (conditions.noiseType) {
    case 'white':
      return whiteNoise(context.length, random);
    case 'pink':
      return pinkNoise(context.length, random);
    case 'babble':
      return babbleNoise(context.own, context.talkers, context.length, random, context.audio);
    case 'none':
      return new Float32Array(context.length);
  }
}

/** Level gain (linear), turned down when it would push peaks past full scale; 1 for silence. */
function levelGain(samples: Float32Array, levelDbfs: number): number {
  const level = rms(samples);
  if (level === 0) return 1;
  const gain = fromDb(levelDbfs) / level;
  const top = peak(samples) * gain;
  return top > PEAK_CEILING ? (gain * PEAK_CEILING) / top : gain;
}

/**
 * SPEECH clips pick a source root (talker) first, then a recording, so that 558 Asterisk prompts by one talker do
 * not drown the LibriVox readers; NON-SPEECH clips pick any recording.
 */
function pickSource(pools: SplitPools, label: SpeechLabel, random: SeededRandom): SourceRecording {
  if (label === NONSPEECH_LABEL) return pick(pools.nonspeech, random);
  const roots = [...pools.speech.values()];
  return pick(pick(roots, random), random);
}

interface RenderContext {
  seed: number;
  outDir: string;
  splits: SourceSplits;
  audio: SourceAudio;
  sox: SoxOptions;
  families?: readonly ConditionFamily[];
}

async function renderClip(index: number, context: RenderContext): Promise<ManifestRow> {
  const random = new SeededRandom(deriveSeed(context.seed, 'speech-conditions', index));
  const { split, label } = slotOf(index);
  const pools = context.splits[split];
  const source = pickSource(pools, label, random);
  const silence = source.kind === 'silence';
  const conditions = drawConditions(random, {
    silence,
    speech: label === SPEECH_LABEL,
    families: context.families,
  });
  const length = Math.round((conditions.durationMs * SAMPLE_RATE) / 1000);
  const samples = await context.audio.get(source);
  const start = pickLoudStart(samples, length, random);
  const effects = [...BAND_EFFECTS[conditions.band], ...REVERB_EFFECTS[conditions.reverb]];
  let clip = await applySoxEffects(segment(samples, start, length), effects, context.sox);
  if (conditions.snrDb !== null) {
    const noise = await noiseFor(
      conditions,
      { own: source, talkers: speechRecordings(pools), length, audio: context.audio },
      random,
    );
    clip = mixAtSnr(clip, noise, conditions.snrDb);
  }
  const gain = silence ? 1 : levelGain(clip, conditions.levelDbfs);
  clip = clip.map((sample) => sample * gain);
  const clipId = `clip_${String(index).padStart(5, '0')}`;
  const audioPath = `audio/${clipId}.wav`;
  await writeWav16(join(context.outDir, audioPath), clip, context.sox);
  return {
    clipId,
    audioPath,
    label,
    split,
    conditions,
    levelDbfs: silence ? null : conditions.levelDbfs,
    sourceId: source.id,
    sourceKind: source.kind,
    sourcePath: source.path,
    sourceStartS: start / SAMPLE_RATE,
    gainDb: toDb(gain),
    rmsDbfs: Math.max(-120, toDb(rms(clip))),
  };
}

function countClips(rows: readonly ManifestRow[]): BuildSummary['clips'] {
  const clips = { dev: { SPEECH: 0, 'NON-SPEECH': 0 }, test: { SPEECH: 0, 'NON-SPEECH': 0 } };
  for (const row of rows) clips[row.split][row.label] += 1;
  return clips;
}

/** Builds the WAVs and the manifest; the same options give byte-identical files. */
export async function buildSpeechConditions(options: BuildSpeechConditionsOptions): Promise<BuildSummary> {
  const clipCount = options.clips ?? DEFAULT_CLIPS;
  if (!Number.isInteger(clipCount) || clipCount < 1) {
    throw new OptNativeError('E_BAD_INPUT', `--clips must be a positive integer, got ${clipCount}`);
  }
  const seed = options.seed ?? DEFAULT_SEED;
  const dirs = options.sourceDirs && options.sourceDirs.length > 0 ? options.sourceDirs : defaultSourceDirs();
  const recordings = discoverSources(dirs);
  requireBothClasses(recordings, dirs);
  const splits = splitSources(recordings, seed);
  const outDir = resolve(options.outDir);
  await mkdir(join(outDir, 'audio'), { recursive: true });
  const sox = { soxPath: options.soxPath };
  const context: RenderContext = {
    seed,
    outDir,
    splits,
    audio: new SourceAudio(sox),
    sox,
    families: options.families,
  };
  const limit = pLimit(Math.max(1, options.concurrency ?? 2));
  const rows = await Promise.all(
    Array.from({ length: clipCount }, (_, index) =>
      limit(async () => {
        const row = await renderClip(index, context);
        options.onClip?.(row);
        return row;
      }),
    ),
  );
  const manifestPath = join(outDir, MANIFEST_FILE);
  await writeManifest(manifestPath, rows);
  return {
    manifestPath,
    rows,
    clips: countClips(rows),
    sourceRecordings: {
      dev: new Set(rows.filter((row) => row.split === 'dev').map((row) => row.sourceId)).size,
      test: new Set(rows.filter((row) => row.split === 'test').map((row) => row.sourceId)).size,
    },
  };
}
