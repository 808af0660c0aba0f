// Real weights, opt-in (OPT_NATIVE_REAL_MODEL=default with the default model cached, or a GGUF path; minutes on 2
// cores): a tiny `opro --low-memory` run (test mode, one iteration) through the CLI. The optimizer is the 1.5B model
// when it is cached, else the same GGUF under a second model string, so that there are two models to swap; the run
// must finish and report each switch, never loading one model while the other is held.
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findMirroredModel } from '../ts/models/default-model.js';
import { isMirroredModelCached, mirroredModelPath } from '../ts/models/pypi-mirror.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';

function realModelPath(): string | undefined {
  const configured = process.env.OPT_NATIVE_REAL_MODEL;
  if (!configured) return undefined;
  if (configured !== 'default') return configured;
  const cached = mirroredModelPath();
  return existsSync(cached) && statSync(cached).size === 491_400_064 ? cached : undefined;
}

const MODEL_PATH = realModelPath();

async function optimizerModelString(path: string): Promise<string> {
  const larger = findMirroredModel('qwen2.5-coder-1.5b');
  return larger && (await isMirroredModelCached(larger)) ? 'native:qwen2.5-coder-1.5b' : `native:${path}`;
}

describe.skipIf(!MODEL_PATH)('real weights: opro --low-memory', () => {
  it('alternates the optimizer LLM and the evaluator in memory and finishes the run', async () => {
    const outputDir = join(mkdtempSync(join(tmpdir(), 'real-low-memory-')), 'run');
    const optimizer = await optimizerModelString(MODEL_PATH!);
    const evaluator = `native:${MODEL_PATH!}`;
    const outcome = await runCli(SOURCE_CLI_ARGS, [
      'opro',
      '--task',
      'bbh:navigate',
      '--test-mode',
      '--eval-mode',
      'score',
      '--num-iterations',
      '1',
      '--candidates-per-iter',
      '1',
      '--optimizer-llm',
      optimizer,
      '--optimizer-max-new-tokens',
      '40',
      '--evaluator',
      // A second string for the same file when there is no second model: two keys, so two models to swap.
      optimizer === evaluator ? `native:${dirname(MODEL_PATH!)}/./${basename(MODEL_PATH!)}` : evaluator,
      '--low-memory',
      '--output-dir',
      outputDir,
    ]);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toContain('Held-out test score:');
    expect(readFileSync(join(outputDir, 'best_prompt.txt'), 'utf8').trim()).not.toBe('');
    const switches = outcome.stderr.split('\n').filter((line) => line.startsWith('low-memory: '));
    // Resolving loads the optimizer, then swaps to the evaluator (baseline); proposing swaps back, evaluating the
    // candidate (if it is usable) swaps again, and the held-out test score needs the evaluator.
    expect(switches[0]).toMatch(new RegExp(`^low-memory: loaded ${optimizer}`));
    expect(switches[1]).toMatch(new RegExp(`^low-memory: unloaded ${optimizer}, loaded native:`));
    expect(switches.length).toBeGreaterThanOrEqual(3);
    for (const line of switches.slice(1)) expect(line).toMatch(/^low-memory: unloaded \S+, loaded \S+ \(\d+\.\d s\)$/);
  }, 1_800_000);
});
