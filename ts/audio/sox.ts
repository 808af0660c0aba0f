// sox, spawned with argument arrays (never a shell): decoding, effects and WAV writing at 16 kHz mono.
import { spawn } from 'node:child_process';
import { OptNativeError } from '../errors.js';

export const SAMPLE_RATE = 16_000;

/** The float stream sox reads and writes between steps: 32-bit little-endian float, 16 kHz, mono. */
const RAW_FLOAT = ['-t', 'raw', '-e', 'floating-point', '-b', '32', '-L', '-c', '1', '-r', String(SAMPLE_RATE)];

/** `-D` turns dither off (dither draws random numbers, so it would break byte-identical builds); `-V1` errors only. */
const GLOBAL = ['-D', '-V1'];

export const SOX_INSTALL_HINT = 'install sox (Debian: apt-get install sox libsox-fmt-all)';

export interface SoxOptions {
  /** sox binary (default: `sox` on PATH). */
  soxPath?: string;
}

/** Runs sox with `args`, feeding `input` on stdin; resolves with stdout. */
export function runSox(args: readonly string[], input?: Uint8Array, options: SoxOptions = {}): Promise<Buffer> {
  const binary = options.soxPath ?? 'sox';
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new OptNativeError('E_FILE_NOT_FOUND', `sox not found (${binary}): ${SOX_INSTALL_HINT}`));
      } else reject(error);
    });
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(stdout));
      else {
        const message = Buffer.concat(stderr).toString('utf8').trim();
        reject(new OptNativeError('E_BAD_AUDIO', `sox ${args.join(' ')} failed (exit ${code}): ${message}`));
      }
    });
    // sox may exit before reading all of stdin (bad arguments); the close handler reports that.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? null);
  });
}

function floatsOf(bytes: Buffer): Float32Array {
  const copy = new Uint8Array(bytes.byteLength - (bytes.byteLength % 4));
  copy.set(bytes.subarray(0, copy.byteLength));
  return new Float32Array(copy.buffer);
}

function bytesOf(samples: Float32Array): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}

/** Decodes any file sox reads (WAV, FLAC, Ogg Vorbis…) to 16 kHz mono float samples (channels averaged). */
export async function decodeToMono16k(path: string, options: SoxOptions = {}): Promise<Float32Array> {
  return floatsOf(await runSox([...GLOBAL, path, ...RAW_FLOAT, '-', 'remix', '-'], undefined, options));
}

/**
 * Runs sox effects (e.g. `['sinc', '300-3400']`) over 16 kHz mono samples. The output has the input's length:
 * effects that add a tail (reverb) are cut, effects that eat samples are padded with zeros.
 */
export async function applySoxEffects(
  samples: Float32Array,
  effects: readonly string[],
  options: SoxOptions = {},
): Promise<Float32Array> {
  if (effects.length === 0) return samples.slice();
  const output = floatsOf(
    await runSox([...GLOBAL, ...RAW_FLOAT, '-', ...RAW_FLOAT, '-', ...effects], bytesOf(samples), options),
  );
  const fitted = new Float32Array(samples.length);
  fitted.set(output.subarray(0, samples.length));
  return fitted;
}

/** Writes 16 kHz mono 16-bit PCM WAV (no dither: the same samples always give the same bytes). */
export async function writeWav16(path: string, samples: Float32Array, options: SoxOptions = {}): Promise<void> {
  await runSox(
    [...GLOBAL, ...RAW_FLOAT, '-', '-t', 'wav', '-e', 'signed-integer', '-b', '16', path],
    bytesOf(samples),
    options,
  );
}
