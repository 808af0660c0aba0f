// The psychoacoustic conditions of the speech-conditions dataset: one condition family is varied per clip, the
// others stay at their nominal value, so each manifest column isolates one effect.
import type { SeededRandom } from '../random.js';

export type NoiseType = 'none' | 'white' | 'pink' | 'babble';
export type BandName = 'full' | 'telephone' | 'lowpass_1k';
export type ReverbName = 'none' | 'room' | 'hall';
export type ConditionFamily = 'snr' | 'duration' | 'band' | 'reverb' | 'level';

/** Condition values of one clip; every clip has them all (the nominal value where its family is not varied). */
export interface ClipConditions {
  /** Which family was varied for this clip. */
  readonly varied: ConditionFamily;
  /** Signal-to-noise ratio in dB; null for no added noise. */
  readonly snrDb: number | null;
  readonly noiseType: NoiseType;
  readonly durationMs: number;
  readonly band: BandName;
  readonly reverb: ReverbName;
  /** Target RMS level of the clip in dBFS. */
  readonly levelDbfs: number;
}

export const SNR_VALUES_DB = [-10, -5, 0, 5, 10, 20] as const;
export const NOISE_TYPES: readonly Exclude<NoiseType, 'none'>[] = ['white', 'pink', 'babble'];
export const DURATION_VALUES_MS = [100, 200, 500, 1000, 2000, 5000] as const;
export const BANDS: readonly BandName[] = ['full', 'telephone', 'lowpass_1k'];
export const REVERBS: readonly ReverbName[] = ['none', 'room', 'hall'];
export const LEVEL_VALUES_DBFS = [-40, -30, -20] as const;
export const CONDITION_FAMILIES: readonly ConditionFamily[] = ['snr', 'duration', 'band', 'reverb', 'level'];
/** SNR has the most values (6 SNRs × 3 noises), so it is drawn twice as often as each other family. */
const DRAWN_FAMILIES: readonly ConditionFamily[] = ['snr', ...CONDITION_FAMILIES];

export const NOMINAL_CONDITIONS: Omit<ClipConditions, 'varied'> = Object.freeze({
  snrDb: null,
  noiseType: 'none',
  durationMs: 1000,
  band: 'full',
  reverb: 'none',
  levelDbfs: -25,
});

/** sox effects per band: telephone is the 300–3400 Hz voice band; lowpass_1k keeps what is below 1 kHz. */
export const BAND_EFFECTS: Readonly<Record<BandName, readonly string[]>> = {
  full: [],
  telephone: ['sinc', '300-3400'],
  lowpass_1k: ['sinc', '-1000'],
};

/** sox `reverb` settings: reverberance %, HF damping %, room scale %, stereo depth %, pre-delay ms. */
export const REVERB_EFFECTS: Readonly<Record<ReverbName, readonly string[]>> = {
  none: [],
  room: ['reverb', '40', '50', '40', '100', '5'],
  hall: ['reverb', '90', '30', '100', '100', '30'],
};

function pick<T>(items: readonly T[], random: SeededRandom): T {
  return items[random.integer(0, items.length - 1)] as T;
}

/**
 * Draws the conditions of one clip. Silence only varies in duration: noise, filters and gain on digital silence
 * would describe nothing. Babble noise only goes over speech.
 */
export function drawConditions(
  random: SeededRandom,
  options: { silence: boolean; speech: boolean; families?: readonly ConditionFamily[] },
): ClipConditions {
  const families = options.silence ? (['duration'] as const) : (options.families ?? DRAWN_FAMILIES);
  const varied = pick(families, random);
  const base = { ...NOMINAL_CONDITIONS, varied };
  switch (varied) {
    case 'snr':
      // Babble is speech: over a NON-SPEECH clip it would make the label wrong.
      return {
        ...base,
        snrDb: pick(SNR_VALUES_DB, random),
        noiseType: pick(options.speech ? NOISE_TYPES : NOISE_TYPES.filter((type) => type !== 'babble'), random),
      };
    case 'duration':
      return { ...base, durationMs: pick(DURATION_VALUES_MS, random) };
    case 'band':
      return { ...base, band: pick(BANDS.slice(1), random) };
    case 'reverb':
      return { ...base, reverb: pick(REVERBS.slice(1), random) };
    case 'level':
      return { ...base, levelDbfs: pick(LEVEL_VALUES_DBFS, random) };
  }
}
