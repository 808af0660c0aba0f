import { existsSync, readdirSync, statSync } from 'node:fs';
import { OptNativeError } from '../errors.js';

export interface OutputFolderRules {
  /** The command, for the message ("opro"). */
  readonly command: string;
  /** Whether a file name is one that this command writes (its outputs, its log, its cache). */
  readonly ownsFile: (name: string) => boolean;
  /** The user asked to write into the folder anyway (--force). */
  readonly force?: boolean;
}

/**
 * Refuses to write a run into a folder that holds files this command did not write (a user's own files would be
 * overwritten or mixed with the run's), unless forced. Missing and empty folders are fine. Called before the first
 * write, so a refusal leaves the folder as it was.
 */
export function checkOutputFolder(dir: string, rules: OutputFolderRules): void {
  if (rules.force || !existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${dir} is a file, not a folder: pass a folder for the ${rules.command} run`,
    );
  }
  const foreign = readdirSync(dir).filter((name) => !rules.ownsFile(name));
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
  throw new OptNativeError(
    'E_BAD_INPUT',
    `${dir} is not empty and holds no ${rules.command} run (it holds ${shown}); ` +
      'choose a new folder, or pass --force to write into it anyway',
  );
}

/** The response cache's own files: the SQLite database and its WAL and shared-memory companions. */
export function isCacheFile(name: string, cacheFile = 'cache.sqlite'): boolean {
  return name === cacheFile || name === `${cacheFile}-wal` || name === `${cacheFile}-shm`;
}
