/**
 * Seeded GGUF fuzzing: 250 corrupted copies of the tiny GGUF fixture (10 kinds of corruption, 25 each, seed 13) go
 * through `models info`'s reader and the native loader in this process, and one of each kind through the real CLI.
 * Every one must be refused with E_MODEL_FORMAT by both, none may be accepted, and nothing may abort the process.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { modelFileInfo } from '../ts/models/model-info.js';
import { NativeModel } from '../ts/native/text-model.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';
import { ggufLayout, MUTATION_KINDS, mutate, seededRandom, type MutationKind } from './gguf-corpus.js';
import { TINY_GGUF, TINY_MODEL_DIR } from './native-fixtures.js';

const PER_KIND = 25;
const SEED = 13;
const dir = mkdtempSync(join(tmpdir(), 'gguf-fuzz-'));
const good = readFileSync(TINY_GGUF);
const layout = ggufLayout(good);

interface Case {
  kind: MutationKind;
  path: string;
}

function corpus(): Case[] {
  const random = seededRandom(SEED);
  return MUTATION_KINDS.flatMap((kind) =>
    Array.from({ length: PER_KIND }, (_, index) => {
      const path = join(dir, `${kind}-${index}.gguf`);
      writeFileSync(path, mutate(good, layout, kind, random));
      return { kind, path };
    }),
  );
}

async function codeOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
    return 'accepted';
  } catch (error) {
    return error instanceof OptNativeError ? error.code : `uncoded: ${String(error)}`;
  }
}

function tally(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

const cases = corpus();
const tokenizerPath = join(TINY_MODEL_DIR, 'tokenizer.json');

describe('seeded GGUF fuzzing', () => {
  it('the fixture itself is accepted by both readers (the corpus starts from a good file)', async () => {
    expect(layout.dataEnd).toBe(good.length);
    expect((await modelFileInfo(TINY_GGUF)).architecture).toBe('qwen2');
    const model = await NativeModel.load(TINY_GGUF, { tokenizerPath });
    expect(model.info().numLayers).toBe(2);
    await model.dispose();
  });

  it(`models info refuses all ${MUTATION_KINDS.length * PER_KIND} corrupted files with E_MODEL_FORMAT`, async () => {
    const codes = await Promise.all(cases.map(({ path }) => codeOf(() => modelFileInfo(path))));
    const byKind = MUTATION_KINDS.map((kind) => [kind, tally(codes.filter((_, i) => cases[i]!.kind === kind))]);
    expect(Object.fromEntries(byKind)).toEqual(
      Object.fromEntries(MUTATION_KINDS.map((kind) => [kind, { E_MODEL_FORMAT: PER_KIND }])),
    );
  });

  it('the native loader refuses every corrupted file with E_MODEL_FORMAT and never aborts', async () => {
    const codes: string[] = [];
    for (const { path } of cases) {
      codes.push(await codeOf(async () => (await NativeModel.load(path, { tokenizerPath })).dispose()));
    }
    expect(tally(codes)).toEqual({ E_MODEL_FORMAT: cases.length });
  });

  it('the CLI prints one coded line for one file of each kind: exit 1, empty stdout, no stack', async () => {
    const samples = MUTATION_KINDS.map((kind) => cases.find((c) => c.kind === kind)!);
    const outcomes = await Promise.all(samples.map(({ path }) => runCli(SOURCE_CLI_ARGS, ['models', 'info', path])));
    for (const [index, outcome] of outcomes.entries()) {
      expect({ kind: samples[index]!.kind, code: outcome.code, stdout: outcome.stdout }).toEqual({
        kind: samples[index]!.kind,
        code: 1,
        stdout: '',
      });
      expect(outcome.stderr).toMatch(/^error\[E_MODEL_FORMAT\]: [^\n]+\n$/);
    }
  });
});
