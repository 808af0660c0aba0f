// LoRA training speed of the default model (Qwen2.5-Coder-0.5B Q4_K_M, dequantized to f32 for training) beside its
// prefill speed on the same chats, with the training run's peak RSS. Training is a forward plus a backward through
// every layer, so it should cost about 3× a forward per token; the ratio below is what it costs here.
//   RAYON_NUM_THREADS=2 npx tsx benches/finetune.bench.ts [examples] [steps] [batch]
// (defaults: 4 chats of ~110 tokens, 2 steps of batch 1; the cached default model, `opt-native models pull default`)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeLanguageModel } from '../ts/llm/native-provider.js';
import type { ChatMessage } from '../ts/llm/types.js';
import { resolveModel } from '../ts/models/resolve.js';
import { finetune } from '../ts/native/finetune.js';

const EXAMPLES = Number(process.argv[2] ?? 4);
const STEPS = Number(process.argv[3] ?? 2);
const BATCH = Number(process.argv[4] ?? 1);

function chats(): ChatMessage[][] {
  return Array.from({ length: EXAMPLES }, (_, i) => [
    { role: 'system', content: 'You are a careful assistant. Answer with the final result only.' },
    {
      role: 'user',
      content:
        `Task ${i}: a robot starts at the origin facing north. It takes ${i + 2} steps forward, turns right, ` +
        `takes ${i + 3} steps, turns right again and takes ${i + 2} steps. How far is it from the origin, ` +
        'in steps, and which way does it face? Explain nothing.',
    },
    { role: 'assistant', content: `${i + 3} steps east of the origin, facing south.` },
  ]);
}

async function main(): Promise<void> {
  const resolved = await resolveModel('default', { allowDownload: false });
  const dir = mkdtempSync(join(tmpdir(), 'finetune-bench-'));
  const examples = chats();
  const data = join(dir, 'train.jsonl');
  writeFileSync(data, examples.map((messages) => JSON.stringify({ messages })).join('\n'));
  try {
    const summary = await finetune(
      {
        model: resolved.path,
        tokenizerPath: resolved.tokenizerPath,
        data,
        outputDir: join(dir, 'out'),
        batchSize: BATCH,
        maxSteps: STEPS,
        epochs: 1000,
        rank: 8,
        checkpointEvery: 0,
      },
      { onProgress: (p) => console.error(`step ${p.step}/${p.totalSteps} ${p.tokensPerSecond.toFixed(1)} tok/s`) },
    );
    const model = await loadNativeLanguageModel('default');
    // Prefill of the same chats, BATCH at a time (one token generated: its cost is one decode step).
    const batch = examples.slice(0, BATCH).map((messages) => ({ messages, maxTokens: 1 }));
    await model.generate(batch[0]!); // warm-up: page the weights in
    let promptTokens = 0;
    const start = performance.now();
    for (let i = 0; i < STEPS; i++) {
      for (const request of batch) promptTokens += (await model.generate(request)).usage.promptTokens;
    }
    const prefillSeconds = (performance.now() - start) / 1000;
    await model.dispose();
    const prefillRate = promptTokens / prefillSeconds;
    const rows = [
      ['training (LoRA r=8, all targets, f32)', summary.tokensPerSecond],
      ['prefill (Q4_K_M inference path)', prefillRate],
    ] as const;
    console.log(`| path | tokens/s |\n| --- | --- |`);
    for (const [name, rate] of rows) console.log(`| ${name} | ${rate.toFixed(1)} |`);
    console.log(
      `training costs ${(prefillRate / summary.tokensPerSecond).toFixed(2)}× a prefill per token; ` +
        `${summary.steps} steps, ${summary.tokens} tokens, wall ${summary.wallSeconds.toFixed(1)} s, ` +
        `peak RSS ${((summary.peakRssBytes ?? 0) / 2 ** 30).toFixed(2)} GiB, ` +
        `loss ${summary.firstTrainLoss.toFixed(3)} -> ${summary.finalTrainLoss.toFixed(3)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
