// The optimizer-model flags of `opro` (the original tool's --optimizer-device and --optimizer-load-in-4bit, and
// --low-memory): what reaches the native loader, and the coded errors for what cannot work — checked before the run
// folder is written. No model is loaded.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowMemoryResidency, optimizerLoadOptions, type OptimizerModelValues } from '../ts/cli/optimizer-model.js';
import { nativeBinding } from '../ts/native/binding.js';
import { ExclusiveResidency } from '../ts/run/exclusive-residency.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';

const values = (overrides: Partial<OptimizerModelValues>): OptimizerModelValues => ({
  optimizerModel: 'native:default',
  optimizerDevice: 'cpu',
  ...overrides,
});

describe('optimizerLoadOptions', () => {
  it('gives the native loader nothing by default', () => {
    expect(optimizerLoadOptions(values({}))).toEqual({ resolve: {}, note: undefined });
    expect(optimizerLoadOptions(values({ optimizerModel: 'openai:gpt-4o-mini' }))).toEqual({ resolve: {} });
  });

  it('refuses cuda and 4-bit loading for an optimizer that is not native, naming the flag', () => {
    for (const flag of [{ optimizerDevice: 'cuda' as const }, { optimizerLoadIn4bit: true }]) {
      expect(() => optimizerLoadOptions(values({ optimizerModel: 'openai:gpt-4o-mini', ...flag }))).toThrow(
        expect.objectContaining({
          code: 'E_BAD_INPUT',
          message: expect.stringMatching(/^--optimizer-(device cuda|load-in-4bit) applies to native optimizer models/),
        }),
      );
    }
  });

  it('accepts 4-bit loading of a GGUF as already 4-bit, so the loader options do not change', () => {
    expect(optimizerLoadOptions(values({ optimizerLoadIn4bit: true }))).toEqual({
      resolve: {},
      note: '--optimizer-load-in-4bit: native:default is a Q4_K_M GGUF: 4-bit already, loaded as it is',
    });
    const file = optimizerLoadOptions(
      values({ optimizerModel: 'native:/models/q.Q8_0.gguf', optimizerLoadIn4bit: true }),
    );
    expect(file.resolve).toEqual({});
    expect(file.note).toContain('is a GGUF file: quantized already');
  });

  it('asks the loader to quantize a dense model at load', () => {
    const dense = optimizerLoadOptions(
      values({ optimizerModel: 'native:/models/qwen-dense', optimizerLoadIn4bit: true }),
    );
    expect(dense.resolve).toEqual({ native: { loadIn4bit: true } });
    expect(dense.note).toContain('projections quantized to Q4_0 at load');
  });

  it('refuses cuda with E_NATIVE_UNAVAILABLE when the addon has no CUDA, else passes the device on', () => {
    const asked = () => optimizerLoadOptions(values({ optimizerDevice: 'cuda' }));
    if (nativeBinding().cudaAvailable()) {
      expect(asked().resolve).toEqual({ native: { device: 'cuda' } });
      return;
    }
    expect(asked).toThrow(
      expect.objectContaining({
        code: 'E_NATIVE_UNAVAILABLE',
        message: expect.stringContaining('built without CUDA; rebuild it with OPT_NATIVE_FEATURES=cuda'),
      }),
    );
  });

  it('makes a residency only for --low-memory', () => {
    expect(lowMemoryResidency(values({}))).toBeUndefined();
    expect(lowMemoryResidency(values({ lowMemory: true }))).toBeInstanceOf(ExclusiveResidency);
  });
});

describe('opro with the optimizer-model flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'optimizer-flags-'));
  const script = join(dir, 'model.json');
  writeFileSync(
    script,
    JSON.stringify({
      modelId: 'scripted',
      rules: [{ contains: '<INS>', reply: '<INS>Reply Yes or No.</INS>' }],
      default: 'Yes',
    }),
  );
  const opro = (outputDir: string, ...extra: string[]) =>
    runCli(SOURCE_CLI_ARGS, [
      'opro',
      '--task',
      'bbh:navigate',
      '--test-mode',
      '--output-dir',
      outputDir,
      '--evaluator',
      `scripted:${script}`,
      '--optimizer-llm',
      `scripted:${script}`,
      '--num-iterations',
      '1',
      '--candidates-per-iter',
      '1',
      '--quiet',
      ...extra,
    ]);

  it('refuses a bad device and cuda for a non-native optimizer before writing the folder', async () => {
    const bad = await opro(join(dir, 'bad-device'), '--optimizer-device', 'gpu');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error\[E_BAD_INPUT\]: option '--optimizer-device <device>' argument 'gpu' is invalid/);
    const cuda = await opro(join(dir, 'cuda'), '--optimizer-device', 'cuda');
    expect(cuda.code).toBe(1);
    expect(cuda.stderr).toContain('error[E_BAD_INPUT]: --optimizer-device cuda applies to native optimizer models');
    expect(existsSync(join(dir, 'cuda'))).toBe(false);
  }, 60_000);

  it('runs and resumes with --low-memory', async () => {
    const outputDir = join(dir, 'low-memory');
    const first = await opro(outputDir, '--low-memory');
    expect(first.code, first.stderr).toBe(0);
    expect(readdirSync(outputDir)).toContain('best_prompt.txt');
    // --low-memory is this session's choice: a resume may take it or leave it.
    const resumed = await runCli(SOURCE_CLI_ARGS, ['opro', '--resume', outputDir, '--low-memory', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('=== BEST PROMPT ===');
  }, 120_000);
});
