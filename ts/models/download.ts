// Resumable HTTP downloads: bytes go to `<destination>.partial`, resume with a Range request, verify, then rename.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OptNativeError } from '../errors.js';
import type { ProgressCallback } from './progress.js';

export interface DownloadOptions {
  /** Lower-case hex digest; on mismatch the partial file is deleted and E_CHECKSUM is thrown. */
  expectedSha256?: string;
  headers?: Record<string, string>;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** sha256 of a file, streamed (GGUF files are hundreds of MiB). */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function sizeIfExists(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Total size from `Content-Range: bytes a-b/total` (206) or `Content-Length` (200). */
function totalBytesOf(response: Response, resumedFrom: number): number | undefined {
  const contentRange = response.headers.get('content-range');
  const rangeTotal = contentRange ? /\/(\d+)$/.exec(contentRange)?.[1] : undefined;
  if (rangeTotal) return Number(rangeTotal);
  const length = response.headers.get('content-length');
  return length === null ? undefined : Number(length) + resumedFrom;
}

async function requestFrom(url: string, offset: number, options: DownloadOptions): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  try {
    return await fetch(url, { headers, signal: options.signal, redirect: 'follow' });
  } catch (cause) {
    if (options.signal?.aborted) throw new OptNativeError('E_ABORTED', `download of ${url} was aborted`, { cause });
    throw new OptNativeError('E_DOWNLOAD', `could not reach ${url}: ${(cause as Error).message}`, { cause });
  }
}

function countingTransform(startBytes: number, totalBytes: number | undefined, onProgress?: ProgressCallback) {
  let receivedBytes = startBytes;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      receivedBytes += chunk.length;
      onProgress?.({ receivedBytes, totalBytes });
      callback(null, chunk);
    },
  });
}

async function verifyChecksum(path: string, url: string, expectedSha256: string | undefined): Promise<void> {
  if (!expectedSha256) return;
  const actual = await sha256OfFile(path);
  if (actual === expectedSha256.toLowerCase()) return;
  await rm(path, { force: true });
  throw new OptNativeError(
    'E_CHECKSUM',
    `sha256 mismatch for ${url}: expected ${expectedSha256}, got ${actual} (the partial file was deleted; retry)`,
  );
}

/**
 * Downloads `url` to `destination`. An interrupted download leaves `<destination>.partial`; the next call resumes it
 * with `Range: bytes=<size>-` (a server answering 200 instead of 206 restarts from zero).
 */
export async function downloadFile(url: string, destination: string, options: DownloadOptions = {}): Promise<void> {
  const partialPath = `${destination}.partial`;
  await mkdir(dirname(destination), { recursive: true });
  const resumeFrom = await sizeIfExists(partialPath);
  const response = await requestFrom(url, resumeFrom, options);
  if (response.status === 416 && resumeFrom > 0) {
    // The partial file already holds every byte: only the checksum and the rename are left.
    await response.body?.cancel();
  } else {
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new OptNativeError('E_DOWNLOAD', `GET ${url} failed: HTTP ${response.status} ${response.statusText}`);
    }
    const appending = response.status === 206;
    const startBytes = appending ? resumeFrom : 0;
    const counter = countingTransform(startBytes, totalBytesOf(response, startBytes), options.onProgress);
    const output = createWriteStream(partialPath, { flags: appending ? 'a' : 'w' });
    try {
      await pipeline(Readable.fromWeb(response.body as never), counter, output, { signal: options.signal });
    } catch (cause) {
      if (options.signal?.aborted) throw new OptNativeError('E_ABORTED', `download of ${url} was aborted`, { cause });
      throw new OptNativeError('E_DOWNLOAD', `download of ${url} failed: ${(cause as Error).message}`, { cause });
    }
  }
  await verifyChecksum(partialPath, url, options.expectedSha256);
  await rename(partialPath, destination);
}
