// One set of number checks for everything a user types or sends: CLI flags, HTTP bodies, options crossing into the
// native addon. Out-of-range values are E_BAD_INPUT errors naming the field, never wrapped or clamped.
import { OptNativeError } from './errors.js';

/** The largest value of a u32 on the native side (token counts, top-k, device indices). */
export const U32_MAX = 2 ** 32 - 1;
/** Seeds are JS numbers: beyond 2^53 - 1 they could not be told apart (and 2^64 - 1 is the native limit). */
export const SEED_MAX = Number.MAX_SAFE_INTEGER;

export interface NumberRange {
  min?: number;
  max?: number;
}

function rangeText(min: number, max: number): string {
  if (max === Infinity) return `>= ${min}`;
  if (min === -Infinity) return `<= ${max}`;
  return `from ${min} to ${max}`;
}

/** `value` if it is an integer in [min, max] (default 0..2^32-1); E_BAD_INPUT naming `name` otherwise. */
export function checkInteger(name: string, value: number, range: NumberRange = {}): number {
  const { min = 0, max = U32_MAX } = range;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new OptNativeError('E_BAD_INPUT', `${name} must be an integer ${rangeText(min, max)}, got ${String(value)}`);
  }
  return value;
}

/** `value` if it is a finite number in [min, max]; E_BAD_INPUT naming `name` otherwise. */
export function checkNumber(name: string, value: number, range: NumberRange = {}): number {
  const { min = -Infinity, max = Infinity } = range;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new OptNativeError('E_BAD_INPUT', `${name} must be a number ${rangeText(min, max)}, got ${String(value)}`);
  }
  return value;
}

/** A seed: an integer from 0 to 2^53 - 1. */
export function checkSeed(name: string, value: number): number {
  return checkInteger(name, value, { min: 0, max: SEED_MAX });
}

const DECIMAL_INTEGER = /^[+-]?\d+$/;

/** Parses an integer flag value strictly (decimal digits only: no '', '0x10', '1e3' or '2.0'). */
export function parseInteger(name: string, text: string, range: NumberRange = {}): number {
  const trimmed = text.trim();
  if (!DECIMAL_INTEGER.test(trimmed)) {
    throw new OptNativeError('E_BAD_INPUT', `${name} must be an integer, got "${text}"`);
  }
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value)) {
    const { min = 0, max = U32_MAX } = range;
    throw new OptNativeError('E_BAD_INPUT', `${name} must be an integer ${rangeText(min, max)}, got "${text}"`);
  }
  return checkInteger(name, value, range);
}

/** Parses a number flag value (decimal or exponent notation; no '' or 'Infinity'). */
export function parseNumber(name: string, text: string, range: NumberRange = {}): number {
  const value = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(value)) throw new OptNativeError('E_BAD_INPUT', `${name} must be a number, got "${text}"`);
  return checkNumber(name, value, range);
}

/** A commander argParser for an integer flag. */
export function integerFlag(flag: string, range: NumberRange = {}): (text: string) => number {
  return (text) => parseInteger(flag, text, range);
}

/** A commander argParser for a number flag. */
export function numberFlag(flag: string, range: NumberRange = {}): (text: string) => number {
  return (text) => parseNumber(flag, text, range);
}

/** A commander argParser for a seed flag (0..2^53-1). */
export function seedFlag(flag: string): (text: string) => number {
  return (text) => parseInteger(flag, text, { min: 0, max: SEED_MAX });
}
