// Dev/test split by source recording: every clip cut from one recording lands in the same split.
import { SeededRandom, deriveSeed } from '../random.js';
import { OptNativeError } from '../errors.js';
import type { ManifestSplit } from './manifest.js';
import type { SourceRecording } from './sources.js';

/** Recordings SPEECH and NON-SPEECH clips (other sounds and silence) are cut from, grouped by source root. */
export interface SplitPools {
  readonly speech: ReadonlyMap<string, readonly SourceRecording[]>;
  readonly nonspeech: readonly SourceRecording[];
}

export type SourceSplits = Record<ManifestSplit, SplitPools>;

function groupBy(recordings: readonly SourceRecording[], key: (recording: SourceRecording) => string) {
  const groups = new Map<string, SourceRecording[]>();
  for (const recording of recordings) groups.set(key(recording), [...(groups.get(key(recording)) ?? []), recording]);
  return groups;
}

/**
 * Shuffles the recordings of each (root, kind) group with the seed and gives the first half (rounded up) to dev,
 * the rest to test: both splits get every talker and sound family that has two recordings or more.
 */
export function splitSources(recordings: readonly SourceRecording[], seed: number): SourceSplits {
  const dev: SourceRecording[] = [];
  const test: SourceRecording[] = [];
  const groups = groupBy(recordings, (recording) => `${recording.root}\u0000${recording.kind}`);
  for (const key of [...groups.keys()].sort()) {
    const shuffled = new SeededRandom(deriveSeed(seed, 'source-split', key)).shuffle(groups.get(key) ?? []);
    const devCount = Math.ceil(shuffled.length / 2);
    dev.push(...shuffled.slice(0, devCount));
    test.push(...shuffled.slice(devCount));
  }
  const splits = { dev: poolsOf(dev), test: poolsOf(test) };
  for (const [split, pools] of Object.entries(splits)) {
    if (pools.speech.size === 0 || pools.nonspeech.length === 0) {
      throw new OptNativeError(
        'E_BAD_INPUT',
        `the ${split} split has no ${pools.speech.size === 0 ? 'speech' : 'non-speech'} recording; ` +
          'each split needs one of each: add recordings',
      );
    }
  }
  return splits;
}

function poolsOf(recordings: readonly SourceRecording[]): SplitPools {
  const speech = groupBy(
    recordings.filter((recording) => recording.kind === 'speech'),
    (recording) => recording.root,
  );
  return {
    speech: new Map([...speech.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
    nonspeech: recordings.filter((recording) => recording.kind !== 'speech'),
  };
}

/** All speech recordings of a split, roots in name order. */
export function speechRecordings(pools: SplitPools): SourceRecording[] {
  return [...pools.speech.values()].flat();
}
