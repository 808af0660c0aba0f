// Where models live on disk and which servers they come from; every location can be overridden by env.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Root of opt-native's own cache (`OPT_NATIVE_CACHE`, else `~/.cache/opt-native`). */
export function optNativeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPT_NATIVE_CACHE || join(homedir(), '.cache', 'opt-native');
}

/** Folder of mirrored model files, e.g. the default GGUF. */
export function optNativeModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(optNativeCacheDir(env), 'models');
}

/** The Hugging Face hub cache, resolved like huggingface_hub does: HF_HUB_CACHE, then HF_HOME/hub, then ~/.cache. */
export function huggingFaceHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  const xdgCache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdgCache, 'huggingface', 'hub');
}

/** Base URL of the Hugging Face hub (`HF_ENDPOINT` overrides, as in huggingface_hub). */
export function huggingFaceEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/** Base URL of the PyPI JSON API (`OPT_NATIVE_PYPI_URL` overrides, for mirrors and tests). */
export function pypiBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.OPT_NATIVE_PYPI_URL || 'https://pypi.org').replace(/\/+$/, '');
}

/** `Org/Name` → `models--Org--Name`, the hub cache's folder name for a model repository. */
export function huggingFaceRepoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}
