// Hugging Face models: find a snapshot in the local hub cache, or download one into the same layout
// (`models--Org--Name/snapshots/<commit>/<file>` + `refs/<revision>`), so Python tools and we share one cache.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { OptNativeError } from '../errors.js';
import { downloadFile } from './download.js';
import { huggingFaceEndpoint, huggingFaceHubCacheDir, huggingFaceRepoFolderName } from './paths.js';
import type { ProgressCallback } from './progress.js';

export interface HubOptions {
  revision?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** `Org/Name` names a repository; `Org/Name/file.gguf` one GGUF file inside it. */
export interface HubModelReference {
  repoId: string;
  fileName?: string;
}

const REPO_ID = /^[\w.-]+\/[\w.-]+$/;

/** Parses `Org/Name` or `Org/Name/path/to/file.gguf`; undefined when `spec` is not shaped like a hub id. */
export function parseHubModelReference(spec: string): HubModelReference | undefined {
  const segments = spec.split('/');
  if (segments.length < 2 || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    return undefined;
  }
  const repoId = segments.slice(0, 2).join('/');
  if (!REPO_ID.test(repoId)) return undefined;
  const fileName = segments.length > 2 ? segments.slice(2).join('/') : undefined;
  return { repoId, fileName };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** The snapshot folder of `repoId` at `revision` in the local hub cache, if present. */
export async function findHubSnapshot(repoId: string, options: HubOptions = {}): Promise<string | undefined> {
  const revision = options.revision ?? 'main';
  const repoFolder = join(huggingFaceHubCacheDir(options.env), huggingFaceRepoFolderName(repoId));
  let commit = COMMIT_HASH.test(revision) ? revision : undefined;
  if (!commit) commit = (await readFile(join(repoFolder, 'refs', revision), 'utf8').catch(() => '')).trim();
  if (commit && (await exists(join(repoFolder, 'snapshots', commit)))) return join(repoFolder, 'snapshots', commit);
  if (revision !== 'main') return undefined;
  // No ref file (a copied cache): take the only snapshot when it is unambiguous.
  const snapshots = await readdir(join(repoFolder, 'snapshots')).catch(() => [] as string[]);
  return snapshots.length === 1 ? join(repoFolder, 'snapshots', snapshots[0]!) : undefined;
}

/** A model file or folder for `reference` from the local cache; undefined when it is not cached. */
export async function findInHubCache(
  reference: HubModelReference,
  options: HubOptions = {},
): Promise<string | undefined> {
  const snapshot = await findHubSnapshot(reference.repoId, options);
  if (!snapshot) return undefined;
  if (!reference.fileName) return (await exists(join(snapshot, 'config.json'))) ? snapshot : undefined;
  const filePath = join(snapshot, reference.fileName);
  return (await exists(filePath)) ? filePath : undefined;
}

const repoInfoSchema = z.object({ sha: z.string(), siblings: z.array(z.object({ rfilename: z.string() })) });

/** Files of a transformers checkout that candle needs: config, tokenizer, safetensors weights. */
const FOLDER_FILE = /^(?:[^/]+\.json|[^/]+\.safetensors|merges\.txt|vocab\.json|tokenizer\.model)$/;

function authHeaders(env: NodeJS.ProcessEnv | undefined): Record<string, string> {
  const token = (env ?? process.env).HF_TOKEN;
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function fetchRepoInfo(repoId: string, revision: string, options: HubOptions) {
  const url = `${huggingFaceEndpoint(options.env)}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: authHeaders(options.env), signal: options.signal });
  } catch (cause) {
    throw new OptNativeError(
      'E_DOWNLOAD',
      `could not reach the Hugging Face hub (${url}): ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  if (response.status === 404 || response.status === 401) {
    throw new OptNativeError('E_MODEL_NOT_FOUND', `${repoId}@${revision} is not on the hub (HTTP ${response.status})`);
  }
  if (!response.ok) throw new OptNativeError('E_DOWNLOAD', `${url}: HTTP ${response.status} ${response.statusText}`);
  const parsed = repoInfoSchema.safeParse(await response.json());
  if (!parsed.success) throw new OptNativeError('E_DOWNLOAD', `${url}: unexpected response shape`);
  return parsed.data;
}

/**
 * Downloads `reference` into the hub cache and returns the local path (the snapshot folder, or the one file).
 * Each file resumes from its `.partial` left by an interrupted run.
 */
export async function downloadFromHub(reference: HubModelReference, options: HubOptions = {}): Promise<string> {
  const revision = options.revision ?? 'main';
  const info = await fetchRepoInfo(reference.repoId, revision, options);
  const available = info.siblings.map((sibling) => sibling.rfilename);
  const wanted = reference.fileName ? [reference.fileName] : available.filter((file) => FOLDER_FILE.test(file));
  const missing = wanted.filter((file) => !available.includes(file));
  if (missing.length > 0 || wanted.length === 0) {
    throw new OptNativeError(
      'E_MODEL_NOT_FOUND',
      `${reference.repoId} has no ${missing.length > 0 ? missing.join(', ') : 'config/safetensors files'}`,
    );
  }
  const repoFolder = join(huggingFaceHubCacheDir(options.env), huggingFaceRepoFolderName(reference.repoId));
  const snapshot = join(repoFolder, 'snapshots', info.sha);
  const endpoint = huggingFaceEndpoint(options.env);
  for (const file of wanted) {
    const destination = join(snapshot, file);
    if (await exists(destination)) continue;
    const url = `${endpoint}/${reference.repoId}/resolve/${info.sha}/${file}`;
    await downloadFile(url, destination, {
      headers: authHeaders(options.env),
      onProgress: options.onProgress,
      signal: options.signal,
    });
  }
  await mkdir(join(repoFolder, 'refs'), { recursive: true });
  if (!COMMIT_HASH.test(revision)) await writeFile(join(repoFolder, 'refs', revision), info.sha);
  return reference.fileName ? join(snapshot, reference.fileName) : snapshot;
}
