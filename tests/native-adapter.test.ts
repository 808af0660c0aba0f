// `native:<model>?adapter=DIR` through the real addon on the tiny Qwen2 fixture and HF PEFT's adapter for it
// (scripts/make_lora_fixture.py): PEFT's numbers, a model id that carries the adapter's hash, coded errors, and the
// CLI's generate and evaluate.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelString } from '../ts/llm/model-string.js';
import { splitNativeSpec } from '../ts/llm/native-adapter.js';
import { loadNativeLanguageModel, type NativeLanguageModel } from '../ts/llm/native-provider.js';
import { createLanguageModel } from '../ts/llm/registry.js';
import { runCli, SOURCE_CLI_ARGS } from './cli-harness.js';
import { readReferenceTensors, TINY_GGUF, TINY_MODEL_DIR } from './native-fixtures.js';

const FIXTURES = fileURLToPath(new URL('../crates/inference/tests/fixtures', import.meta.url));
const ADAPTER = join(FIXTURES, 'tiny-qwen2-lora');
/** sha256sum of tiny-qwen2-lora/adapter_model.safetensors. */
const ADAPTER_SHA256 = 'cf42037187fa47daa6f1b2e1a257265cac7cd965e37a5b4345ebd4b37d64dd48';
const ADAPTED = `native:${TINY_MODEL_DIR}?adapter=${ADAPTER}`;
const TOLERANCE = 1e-4;

describe('the adapter option of native model strings', () => {
  it('splits off ?adapter=DIR (percent-decoded) and an optional sha256', () => {
    expect(splitNativeSpec('default')).toEqual({ model: 'default' });
    expect(splitNativeSpec('default?adapter=/runs/a%26b')).toEqual({ model: 'default', adapter: '/runs/a&b' });
    expect(splitNativeSpec(`m.gguf?adapter=out&sha256=${ADAPTER_SHA256}`)).toEqual({
      model: 'm.gguf',
      adapter: 'out',
      sha256: ADAPTER_SHA256,
    });
    expect(parseModelString('native:default?adapter=./out/adapter')).toEqual({
      provider: 'native',
      name: 'default',
      adapter: './out/adapter',
    });
    expect(parseModelString('native:/m/model.gguf?adapter=x')).toEqual({
      provider: 'native',
      path: '/m/model.gguf',
      adapter: 'x',
    });
  });

  it.each([
    ['default?lora=x', 'unknown option "lora"'],
    ['default?adapter=', 'must be given once'],
    ['default?adapter=a&adapter=b', 'must be given once'],
    ['?adapter=a', 'names no model'],
    ['default?sha256=ab', 'names no model or no adapter'],
    ['default?adapter=a&sha256=XYZ', 'not 64 lowercase hex'],
    ['default?adapter=%E0%A4%A', 'percent-encoding'],
  ])('refuses %s with E_BAD_INPUT', (spec, message) => {
    expect(() => parseModelString(`native:${spec}`)).toThrow(
      expect.objectContaining({ code: 'E_BAD_INPUT', message: expect.stringContaining(message) as string }),
    );
  });
});

/** log p("4" | the fixture's first chat up to its answer) in PEFT + transformers, from the reference logits. */
function peftAnswerLogprob(): number {
  const reference = readReferenceTensors(join(ADAPTER, 'reference.safetensors'));
  const [seq, vocab] = [100, 260];
  const labels = reference.get('labels') as number[];
  const ids = reference.get('ids') as number[];
  const answer = labels.slice(0, seq).findIndex((label) => label !== -100); // row 0's first learned token
  expect(ids[answer]).toBe('4'.charCodeAt(0)); // byte-level vocabulary
  const row = (reference.get('logits') as number[]).slice((answer - 1) * vocab, answer * vocab);
  const max = Math.max(...row);
  const logSum = Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0)) + max;
  return (row[ids[answer] as number] as number) - logSum;
}

describe('a native model with a PEFT adapter (real addon, tiny fixture)', () => {
  let adapted: NativeLanguageModel;
  let base: NativeLanguageModel;
  beforeAll(async () => {
    adapted = await loadNativeLanguageModel(`${TINY_MODEL_DIR}?adapter=${ADAPTER}`);
    base = await loadNativeLanguageModel(TINY_MODEL_DIR);
  });
  afterAll(async () => {
    await adapted?.dispose();
    await base?.dispose();
  });

  it('names the adapter and its sha256 in the model id and reports it in info()', () => {
    expect(adapted.modelId).toBe(`${ADAPTED}&sha256=${ADAPTER_SHA256}`);
    expect(base.modelId).toBe(`native:${TINY_MODEL_DIR}`);
    expect(adapted.model.info().adapter).toEqual({
      path: ADAPTER,
      rank: 4,
      alpha: 6,
      useRslora: true,
      scale: 3,
      targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      merged: true,
    });
  });

  it("scores the fixture's answer as PEFT does, and unlike the base model", async () => {
    const request = { messages: [{ role: 'user' as const, content: '2+2?' }], choices: ['4', '5'] };
    const want = peftAnswerLogprob();
    const ours = (await adapted.scoreChoices(request)).scores[0]?.logprob as number;
    const plain = (await base.scoreChoices(request)).scores[0]?.logprob as number;
    expect(Math.abs(ours - want)).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(plain - want)).toBeGreaterThan(1e-2);
  });

  it('generates differently from the base model, the same on the GGUF base with the adapter unmerged', async () => {
    const request = { messages: [{ role: 'user' as const, content: 'Capital of France?' }], maxTokens: 12 };
    const text = (await adapted.generate(request)).text;
    expect(text).not.toBe((await base.generate(request)).text);
    const gguf = await createLanguageModel(`native:${TINY_GGUF}?adapter=${ADAPTER}`, {
      native: { tokenizerPath: join(TINY_MODEL_DIR, 'tokenizer.json') },
    });
    try {
      expect(gguf.modelId).toBe(`native:${TINY_GGUF}?adapter=${ADAPTER}&sha256=${ADAPTER_SHA256}`);
      expect((gguf as NativeLanguageModel).model.info().adapter?.merged).toBe(false);
      expect((await gguf.generate(request)).text).toBe(text);
    } finally {
      await gguf.dispose?.();
    }
  });

  it('loads from a model id given back, and refuses one whose sha256 is not the adapter’s', async () => {
    const again = await createLanguageModel(adapted.modelId);
    expect(again.modelId).toBe(adapted.modelId);
    await again.dispose?.();
    const wrong = `${ADAPTED}&sha256=${'0'.repeat(64)}`;
    await expect(createLanguageModel(wrong)).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
  });

  it('rejects a missing adapter with E_MODEL_NOT_FOUND and another architecture’s with E_MODEL_FORMAT', async () => {
    await expect(loadNativeLanguageModel(`${TINY_MODEL_DIR}?adapter=/no/such/adapter`)).rejects.toMatchObject({
      code: 'E_MODEL_NOT_FOUND',
    });
    const audio = join(FIXTURES, 'tiny-qwen2-audio', 'lora');
    await expect(loadNativeLanguageModel(`${TINY_MODEL_DIR}?adapter=${audio}`)).rejects.toMatchObject({
      code: 'E_MODEL_FORMAT',
    });
  });
});

describe('the CLI with an adapter model string', () => {
  const cli = (args: string[]) => runCli(SOURCE_CLI_ARGS, args);
  const dir = mkdtempSync(join(tmpdir(), 'native-adapter-'));

  it('generate --json reports the adapted model id; a bad adapter exits 1 with error[E_MODEL_NOT_FOUND]', async () => {
    const args = ['generate', '--model', ADAPTED, '--prompt', 'Hi', '--max-tokens', '4', '--json'];
    const outcome = await cli(args);
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as { modelId: string };
    expect(result.modelId).toBe(`${ADAPTED}&sha256=${ADAPTER_SHA256}`);
    const missing = await cli(['generate', '--model', `${TINY_MODEL_DIR}?adapter=${dir}/none`, '--prompt', 'Hi']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error[E_MODEL_NOT_FOUND]');
  }, 60_000);

  it('evaluate runs a jsonl task on the adapted evaluator', async () => {
    const data = join(dir, 'sums.jsonl');
    const lines = Array.from({ length: 15 }, (_, i) => JSON.stringify({ input: `${i}+1`, target: `${i + 1}` }));
    writeFileSync(data, `${lines.join('\n')}\n`);
    const csv = join(dir, 'predictions.csv');
    const outcome = await cli([
      'evaluate',
      '--task',
      `jsonl:${data}`,
      '--test-mode',
      '--prompt',
      'Add.',
      // As the system prompt, in place of the default one: the fixture's context is 128 byte-level tokens.
      '--instruction-position',
      'system',
      '--evaluator',
      ADAPTED,
      '--eval-max-new-tokens',
      '3',
      '--output-csv',
      csv,
    ]);
    expect(outcome.stderr).not.toContain('error[');
    expect(outcome.code).toBe(0);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('id,raw_output,normalized_answer,target,correct');
    expect(rows).toHaveLength(6);
  }, 60_000);
});
