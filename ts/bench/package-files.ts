import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file shipped with the package (schemas/…), found from ts/ in development and from dist/ once built. */
export function packageFile(...parts: string[]): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('opt-native: package.json not found above the bench module');
    folder = parent;
  }
  return join(folder, ...parts);
}
