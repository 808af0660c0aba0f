import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** A seeded random source: every shuffle and sample in the project goes through one, so runs are reproducible. */
export class SeededRandom {
  private readonly generator: RandomGenerator;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    // xoroshiro128plus takes a 32-bit seed; fold larger seeds so that 2**32 + 1 and 1 stay distinct.
    this.generator = xoroshiro128plus((seed ^ Math.floor(seed / 2 ** 32)) | 0);
  }

  /** Uniform integer in [from, to], both included. */
  integer(from: number, to: number): number {
    return uniformInt(this.generator, from, to);
  }

  /** A shuffled copy (Fisher–Yates); the input is left alone. */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let index = copy.length - 1; index > 0; index -= 1) {
      const swapWith = this.integer(0, index);
      const held = copy[index] as T;
      copy[index] = copy[swapWith] as T;
      copy[swapWith] = held;
    }
    return copy;
  }

  /** `count` distinct items in random order (all of them when count >= length). */
  sample<T>(items: readonly T[], count: number): T[] {
    return this.shuffle(items).slice(0, Math.max(0, count));
  }
}

/** Derives a child seed so that independent streams (per split, per iteration) do not share draws. */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  // FNV-1a over the seed and the parts: cheap, stable across platforms.
  let hash = 0x811c9dc5;
  for (const char of [String(seed), ...parts.map(String)].join('\u0000')) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
