/**
 * docs/architecture.md lists the imports between the ts/ folders; this reads them from the code (every relative
 * import and re-export of every .ts file) and fails when the list and the code differ.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './cli-harness.js';

const TS = join(repoRoot, 'ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The ts/ folder a path lies in; undefined for the files directly in ts/. */
function folderOf(path: string): string | undefined {
  const parts = relative(TS, path).split(sep);
  return parts.length > 1 ? parts[0] : undefined;
}

/** folder → the other folders its files import from. */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(TS)) {
    const from = folderOf(file);
    if (from === undefined) continue;
    const targets = graph.get(from) ?? new Set<string>();
    graph.set(from, targets);
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)) {
      const target = resolve(dirname(file), match[1] as string);
      const to = target.startsWith(TS + sep) ? folderOf(target) : undefined;
      if (to !== undefined && to !== from) targets.add(to);
    }
  }
  return graph;
}

/** The ```imports block of docs/architecture.md as folder → folders. */
function documentedGraph(): Map<string, Set<string>> {
  const doc = readFileSync(join(repoRoot, 'docs', 'architecture.md'), 'utf8');
  const block = /```imports\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  return new Map(
    block
      .trim()
      .split('\n')
      .map((line) => {
        const [from, to = ''] = line.split('→').map((part) => part.trim());
        return [from as string, new Set(to === '' ? [] : to.split(',').map((name) => name.trim()))] as const;
      }),
  );
}

const sorted = (graph: Map<string, Set<string>>) =>
  Object.fromEntries([...graph].sort(([a], [b]) => a.localeCompare(b)).map(([from, to]) => [from, [...to].sort()]));

describe('docs/architecture.md', () => {
  it('lists every ts/ folder with the folders it imports, as the code has them', () => {
    expect(sorted(documentedGraph())).toEqual(sorted(importGraph()));
  });
});
