// Sample-level helpers: RMS and dB, seeded noise, mixing at an SNR, segments. Pure functions over Float32Array.
import { SeededRandom } from '../random.js';

/** Root mean square; 0 for no samples. */
export function rms(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / samples.length);
}

export function toDb(amplitude: number): number {
  return 20 * Math.log10(amplitude);
}

export function fromDb(decibels: number): number {
  return 10 ** (decibels / 20);
}

const UNIT = 2 ** 30;

/** A uniform draw in (0, 1] from the project's seeded generator (30 bits are plenty for audio noise). */
function uniform(random: SeededRandom): number {
  return (random.integer(0, UNIT - 1) + 1) / UNIT;
}

/** White Gaussian noise, unit variance (Box–Muller). */
export function whiteNoise(length: number, random: SeededRandom): Float32Array {
  const noise = new Float32Array(length);
  for (let index = 0; index < length; index += 2) {
    const radius = Math.sqrt(-2 * Math.log(uniform(random)));
    const angle = 2 * Math.PI * uniform(random);
    noise[index] = radius * Math.cos(angle);
    if (index + 1 < length) noise[index + 1] = radius * Math.sin(angle);
  }
  return noise;
}

/** Pink (1/f) noise: white noise through Paul Kellet's refined filter (±0.05 dB from 9.2 Hz to Nyquist at 44.1k). */
export function pinkNoise(length: number, random: SeededRandom): Float32Array {
  const white = whiteNoise(length, random);
  const pink = new Float32Array(length);
  let b0 = 0,
    b1 = 0,
    b2 = 0,
    b3 = 0,
    b4 = 0,
    b5 = 0,
    b6 = 0;
  for (let index = 0; index < length; index += 1) {
    const w = white[index] as number;
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    pink[index] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return pink;
}

/** Sum of talkers, each brought to the same RMS first, so that no single voice dominates the babble. */
export function babble(talkers: readonly Float32Array[], length: number): Float32Array {
  const mix = new Float32Array(length);
  for (const talker of talkers) {
    const level = rms(talker);
    if (level === 0) continue;
    for (let index = 0; index < length; index += 1) mix[index] = (mix[index] as number) + (talker[index] ?? 0) / level;
  }
  return mix;
}

/**
 * `signal + g·noise` with g chosen so that 10·log10(P_signal / P_noise) = snrDb over the whole clip (a global SNR,
 * pauses included). A silent signal or noise is returned unchanged.
 */
export function mixAtSnr(signal: Float32Array, noise: Float32Array, snrDb: number): Float32Array {
  const signalLevel = rms(signal);
  const noiseLevel = rms(noise.subarray(0, signal.length));
  const mixed = signal.slice();
  if (signalLevel === 0 || noiseLevel === 0) return mixed;
  const gain = signalLevel / (noiseLevel * fromDb(snrDb));
  for (let index = 0; index < mixed.length; index += 1) {
    mixed[index] = (mixed[index] as number) + gain * (noise[index] as number);
  }
  return mixed;
}

/** Peak magnitude. */
export function peak(samples: Float32Array): number {
  let max = 0;
  for (const sample of samples) max = Math.max(max, Math.abs(sample));
  return max;
}

/** `length` samples from `start`, zero-padded past the end of the source. */
export function segment(source: Float32Array, start: number, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(source.subarray(start, Math.min(source.length, start + length)));
  return out;
}

/**
 * The loudest of a few seeded candidate starts for a `length`-sample window: a short cut of read speech should hold
 * speech, not the pause between two sentences.
 */
export function pickLoudStart(source: Float32Array, length: number, random: SeededRandom, candidates = 8): number {
  const last = Math.max(0, source.length - length);
  if (last === 0) return 0;
  let best = 0;
  let bestLevel = -1;
  for (let draw = 0; draw < candidates; draw += 1) {
    const start = random.integer(0, last);
    const level = rms(source.subarray(start, start + length));
    if (level > bestLevel) {
      best = start;
      bestLevel = level;
    }
  }
  return best;
}
