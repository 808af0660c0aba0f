// numpy's default generator, bit for bit: `np.random.default_rng(seed)` is PCG64 (XSL-RR 128/64) seeded through a
// SeedSequence, and Minigrid draws every layout choice from it with `integers(low, high)`, `shuffle` and `choice`.
// Reproducing it lets our environments build the same layout as Farama Minigrid for the same seed.

const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const POOL_SIZE = 4;

const MASK_64 = (1n << 64n) - 1n;
const MASK_128 = (1n << 128n) - 1n;
const PCG_MULTIPLIER = 0x2360ed051fc65da44385df649fccf645n;
const UINT32_LIMIT = 0x1_0000_0000;

/** The seed as little-endian 32-bit words, as numpy's `_int_to_uint32_array` splits a Python int (0 is [0]). */
function seedWords(seed: bigint): number[] {
  if (seed < 0n) throw new RangeError(`numpy seeds are non-negative, got ${seed}`);
  const words: number[] = [];
  for (let rest = seed; rest > 0n || words.length === 0; rest >>= 32n) words.push(Number(rest & 0xffffffffn));
  return words;
}

/** The SeedSequence entropy pool: every entropy word hashed into four mixed words. */
function seedSequencePool(entropy: readonly number[]): Uint32Array {
  let hashConst = INIT_A;
  const hashmix = (input: number): number => {
    let value = (input ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    value = Math.imul(value, hashConst) >>> 0;
    return (value ^ (value >>> 16)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const result = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (result ^ (result >>> 16)) >>> 0;
  };
  const pool = new Uint32Array(POOL_SIZE);
  for (let index = 0; index < POOL_SIZE; index += 1) pool[index] = hashmix(entropy[index] ?? 0);
  for (let source = 0; source < POOL_SIZE; source += 1) {
    for (let target = 0; target < POOL_SIZE; target += 1) {
      if (source !== target) pool[target] = mix(pool[target] ?? 0, hashmix(pool[source] ?? 0));
    }
  }
  for (let source = POOL_SIZE; source < entropy.length; source += 1) {
    for (let target = 0; target < POOL_SIZE; target += 1) {
      pool[target] = mix(pool[target] ?? 0, hashmix(entropy[source] ?? 0));
    }
  }
  return pool;
}

/** `SeedSequence(seed).generate_state(count, np.uint32)`. */
export function seedSequenceState(seed: number | bigint, count: number): Uint32Array {
  const pool = seedSequencePool(seedWords(BigInt(seed)));
  const state = new Uint32Array(count);
  let hashConst = INIT_B;
  for (let index = 0; index < count; index += 1) {
    let value = ((pool[index % POOL_SIZE] ?? 0) ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_B) >>> 0;
    value = Math.imul(value, hashConst) >>> 0;
    state[index] = (value ^ (value >>> 16)) >>> 0;
  }
  return state;
}

/** Two little-endian 32-bit words as one 64-bit value (a uint64 view of the uint32 state). */
function word64(words: Uint32Array, index: number): bigint {
  return BigInt(words[index] ?? 0) | (BigInt(words[index + 1] ?? 0) << 32n);
}

/** numpy's `Generator(PCG64(SeedSequence(seed)))`: the draws Minigrid makes, in numpy's exact algorithms. */
export class NumpyGenerator {
  private state = 0n;
  private readonly increment: bigint;
  private bufferedWord: number | undefined;

  constructor(seed: number | bigint) {
    const words = seedSequenceState(seed, 8);
    const initState = (word64(words, 0) << 64n) | word64(words, 2);
    const initSequence = (word64(words, 4) << 64n) | word64(words, 6);
    this.increment = ((initSequence << 1n) | 1n) & MASK_128;
    this.step();
    this.state = (this.state + initState) & MASK_128;
    this.step();
  }

  private step(): void {
    this.state = (this.state * PCG_MULTIPLIER + this.increment) & MASK_128;
  }

  /** The next 64-bit output: advance, then XOR the halves and rotate right by the top 6 bits. */
  nextUint64(): bigint {
    this.step();
    const folded = ((this.state >> 64n) ^ this.state) & MASK_64;
    const rotation = this.state >> 122n;
    return ((folded >> rotation) | (folded << ((64n - rotation) & 63n))) & MASK_64;
  }

  /** The next 32-bit output: the low half of a 64-bit draw, its high half kept for the following call. */
  nextUint32(): number {
    if (this.bufferedWord !== undefined) {
      const word = this.bufferedWord;
      this.bufferedWord = undefined;
      return word;
    }
    const next = this.nextUint64();
    this.bufferedWord = Number(next >> 32n);
    return Number(next & 0xffffffffn);
  }

  /** `integers(low, high)`: uniform in [low, high), by Lemire's multiply-and-reject on 32-bit draws. */
  integers(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || low >= high) {
      throw new RangeError(`integers needs integers low < high, got ${low}, ${high}`);
    }
    const span = high - low;
    if (span === 1) return low;
    if (span > UINT32_LIMIT) throw new RangeError(`ranges beyond 2^32 are not implemented, got ${span}`);
    if (span === UINT32_LIMIT) return low + this.nextUint32();
    return low + this.boundedLemire(span);
  }

  private boundedLemire(span: number): number {
    const spanBig = BigInt(span);
    let product = BigInt(this.nextUint32()) * spanBig;
    let leftover = Number(product & 0xffffffffn);
    if (leftover < span) {
      const threshold = UINT32_LIMIT % span;
      while (leftover < threshold) {
        product = BigInt(this.nextUint32()) * spanBig;
        leftover = Number(product & 0xffffffffn);
      }
    }
    return Number(product >> 32n);
  }

  /** numpy's `random_interval(max)`: uniform in [0, max] by masking 32-bit draws and rejecting. */
  private interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    for (const shift of [1, 2, 4, 8, 16]) mask = (mask | (mask >>> shift)) >>> 0;
    for (;;) {
      const value = (this.nextUint32() & mask) >>> 0;
      if (value <= max) return value;
    }
  }

  /** `shuffle(list)` in place, as numpy shuffles a Python list (Fisher–Yates from the end). */
  shuffle<T>(items: T[]): void {
    for (let index = items.length - 1; index > 0; index -= 1) {
      const swapWith = this.interval(index);
      const held = items[index] as T;
      items[index] = items[swapWith] as T;
      items[swapWith] = held;
    }
  }

  /** `choice(items)` of one element: an `integers(0, length)` index. */
  choice<T>(items: readonly T[]): T {
    return items[this.integers(0, items.length)] as T;
  }
}
