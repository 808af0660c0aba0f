// A 16 kHz mono 32-bit float WAV writer for tests and benches (the native decoder and sox both read it).
import { writeFileSync } from 'node:fs';

const SAMPLE_RATE = 16_000;
const BYTES_PER_SAMPLE = 4;

export function writeFloatWav(path: string, wave: Float32Array): void {
  const data = Buffer.from(wave.buffer, wave.byteOffset, wave.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(3, 20); // IEEE float
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(SAMPLE_RATE * BYTES_PER_SAMPLE, 28); // byte rate
  header.writeUInt16LE(BYTES_PER_SAMPLE, 32); // block align
  header.writeUInt16LE(8 * BYTES_PER_SAMPLE, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}
