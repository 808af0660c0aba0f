/**
 * The layer rule of eslint.config.js (eslint.layers.js): an import that runs back up the layers fails lint, one that
 * goes down passes, and the known exceptions hold only for their own files.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { KNOWN_UPWARD_IMPORTS, LAYERS, layerRules } from '../eslint.layers.js';
import { repoRoot } from './cli-harness.js';

const eslint = new ESLint({ cwd: repoRoot });

/** The layer rule alone, with one planted exception: gsm8k.ts may import from tasks/. */
const withException = new ESLint({
  cwd: repoRoot,
  overrideConfigFile: true,
  overrideConfig: [
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    ...layerRules({ 'ts/datasets/gsm8k.ts': ['tasks'] }),
  ],
});

async function layerErrors(file: string, code: string, linter = eslint): Promise<string[]> {
  const [result] = await linter.lintText(code, { filePath: join(repoRoot, file) });
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message);
}

describe('eslint layer rule', () => {
  it('fails on a planted upward import and passes downward ones', async () => {
    const upward = await layerErrors('ts/run/planted.ts', "export { runBenchmark } from '../bench/run.js';\n");
    expect(upward).toEqual([expect.stringContaining('ts/run/ sits below llm, native, metrics, tasks')]);
    const typeOnly = await layerErrors(
      'ts/llm/planted.ts',
      "import type { OptimizationResult } from '../optimizers/contract.js';\nexport type R = OptimizationResult;\n",
    );
    expect(typeOnly).toHaveLength(1);
    const fromDeep = await layerErrors(
      'ts/optimizers/opro/planted.ts',
      "import { cli } from '../../cli/main.js';\nexport const c = cli;\n",
    );
    expect(fromDeep).toEqual([expect.stringContaining('ts/optimizers/ sits below bench, report, serve, cli')]);
    const downward = await layerErrors(
      'ts/bench/planted.ts',
      "import { OPTIMIZER_NAMES } from '../optimizers/registry.js';\nimport { Budget } from '../run/budget.js';\n" +
        'export const all = [OPTIMIZER_NAMES, Budget];\n',
    );
    expect(downward).toEqual([]);
  });

  it('allows an exception only in its own file', async () => {
    const code = "import { numbersMatch } from '../tasks/answers.js';\nexport const m = numbersMatch;\n";
    expect(await layerErrors('ts/datasets/gsm8k.ts', code, withException)).toEqual([]);
    expect(await layerErrors('ts/datasets/bbh.ts', code, withException)).toHaveLength(1);
    // The exception is for that folder only: gsm8k.ts still may not import from optimizers.
    const sideways = "export * from '../optimizers/registry.js';\n";
    expect(await layerErrors('ts/datasets/gsm8k.ts', sideways, withException)).toHaveLength(1);
    // The repository's own config has no exception left: the same import fails there.
    expect(await layerErrors('ts/datasets/gsm8k.ts', code)).toHaveLength(1);
    expect(KNOWN_UPWARD_IMPORTS).toEqual({});
    expect(LAYERS.flat()).toContain('datasets');
  });

  it('keeps the files directly in ts/ below every folder; index.ts is the top', async () => {
    const code = "export { Budget } from './run/budget.js';\n";
    expect(await layerErrors('ts/language-model.ts', code)).toEqual([
      expect.stringContaining('the files directly in ts/ sit below run, models'),
    ]);
    expect(await layerErrors('ts/index.ts', code)).toEqual([]);
  });
});
