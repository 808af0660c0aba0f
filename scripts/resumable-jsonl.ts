// The measurement scripts' resumable output: one JSON line per finished configuration, keyed by `key`.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ResumableJsonl {
  readonly done: ReadonlySet<string>;
  append(row: { key: string } & Record<string, unknown>): void;
}

/** Opens (or creates) `path`; `done` holds the keys already written, so a rerun skips them. */
export function openResumableJsonl(path: string): ResumableJsonl {
  mkdirSync(dirname(path), { recursive: true });
  const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
  const done = new Set(lines.map((line) => (JSON.parse(line) as { key: string }).key));
  return { done, append: (row) => appendFileSync(path, `${JSON.stringify(row)}\n`) };
}
