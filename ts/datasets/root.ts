import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DATASETS_ROOT_ENV = 'OPT_NATIVE_DATASETS';

/** The package root: the nearest folder above this module that holds package.json (works from ts/ and dist/). */
function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('opt-native: package.json not found above the datasets module');
    folder = parent;
  }
  return folder;
}

/** Where dataset folders live: the option, else $OPT_NATIVE_DATASETS, else <repo>/../shared/datasets. */
export function resolveDatasetsRoot(option?: string): string {
  const chosen = option ?? process.env[DATASETS_ROOT_ENV];
  if (chosen !== undefined && chosen !== '') return resolve(chosen);
  return resolve(packageRoot(), '..', 'shared', 'datasets');
}
