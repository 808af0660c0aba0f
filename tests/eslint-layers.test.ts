/**
 * The layer rule of eslint.config.js (eslint.layers.js): an import that runs back up the layers fails lint, one that
 * goes down passes, and the known exceptions hold only for their own files.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { KNOWN_UPWARD_IMPORTS, LAYERS } from '../eslint.layers.js';
import { repoRoot } from './cli-harness.js';

const eslint = new ESLint({ cwd: repoRoot });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, file) });
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

  it('allows a known exception only in its own file', async () => {
    expect(KNOWN_UPWARD_IMPORTS['ts/datasets/gsm8k.ts']).toEqual(['tasks']);
    const code = "import { numbersMatch } from '../tasks/answers.js';\nexport const m = numbersMatch;\n";
    expect(await layerErrors('ts/datasets/gsm8k.ts', code)).toEqual([]);
    expect(await layerErrors('ts/datasets/bbh.ts', code)).toHaveLength(1);
    // The exception is for that folder only: gsm8k.ts still may not import from optimizers.
    expect(await layerErrors('ts/datasets/gsm8k.ts', "export * from '../optimizers/registry.js';\n")).toHaveLength(1);
    expect(LAYERS.flat()).toContain('datasets');
  });
});
