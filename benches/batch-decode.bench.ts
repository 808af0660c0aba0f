// Batched decode on CPU: one native `generateBatch` call decodes B sequences per step (one left-padded batch).
// For B = 1, 4 and 8 it measures the prefill of the B prompts (a 1-token batch) and the extra time of DECODE_TOKENS
// more greedy tokens per row, side by side in one run, and prints the aggregate decode rate and its ratio to B = 1.
//   RAYON_NUM_THREADS=2 npx tsx benches/batch-decode.bench.ts [model.gguf]   (BENCH_ITERATIONS, BENCH_DECODE_TOKENS,
//   BENCH_BATCHES="1,4,8")
// (defaults to the cached default model; `opt-native models pull default` first)
import { Bench } from 'tinybench';
import { defaultQwenTokenizerPath } from '../ts/models/default-model.js';
import { mirroredModelPath } from '../ts/models/pypi-mirror.js';
import { NativeModel } from '../ts/native/text-model.js';

const DECODE_TOKENS = Number(process.env.BENCH_DECODE_TOKENS ?? 32);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3);
const BATCHES = (process.env.BENCH_BATCHES ?? '1,4,8').split(',').map(Number);
const TOPICS = ['a downloader', 'a cache', 'a parser', 'a scheduler', 'a logger', 'a router', 'a queue', 'a pool'];

/** B prompts of nearly equal length, each about another component so rows do not decode the same text. */
function prompts(batch: number): string[] {
  return Array.from(
    { length: batch },
    (_, row) => `Write a detailed design review of ${TOPICS[row % TOPICS.length]} for a Node.js service:`,
  );
}

interface Measured {
  batch: number;
  prefillMs: number;
  decodeMs: number;
  /** Tokens after the first, summed over rows (a row that stops early counts only what it produced). */
  decodedTokens: number;
}

async function main(): Promise<void> {
  const modelPath = process.argv[2] ?? mirroredModelPath();
  const model = await NativeModel.load(modelPath, { tokenizerPath: defaultQwenTokenizerPath() });
  const run = async (batch: number, maxTokens: number) =>
    model.generateBatch(prompts(batch).map((prompt) => ({ prompt, maxTokens })));
  const decoded = new Map<number, number>();
  const bench = new Bench({ iterations: ITERATIONS, warmupIterations: ITERATIONS > 1 ? 1 : 0, time: 0, warmupTime: 0 });
  for (const batch of BATCHES) {
    bench.add(`B=${batch} prefill`, async () => void (await run(batch, 1)));
    bench.add(`B=${batch} prefill+decode`, async () => {
      const results = await run(batch, DECODE_TOKENS + 1);
      decoded.set(
        batch,
        results.reduce((sum, r) => sum + r.tokenIds.length - 1, 0),
      );
    });
  }
  await bench.run();
  const meanMs = (name: string) => {
    const task = bench.getTask(name);
    const latency = task?.result && 'latency' in task.result ? task.result.latency : undefined;
    if (!latency) throw new Error(`no result for ${name}`);
    return latency.mean;
  };
  const rows: Measured[] = BATCHES.map((batch) => {
    const prefillMs = meanMs(`B=${batch} prefill`);
    return {
      batch,
      prefillMs,
      decodeMs: meanMs(`B=${batch} prefill+decode`) - prefillMs,
      decodedTokens: decoded.get(batch) ?? 0,
    };
  });
  const rate = (m: Measured) => (m.decodedTokens / m.decodeMs) * 1000;
  const single = rows.find((m) => m.batch === 1);
  console.log(`model ${modelPath}; ${DECODE_TOKENS} decode tokens a row; ${ITERATIONS} iterations`);
  console.log('| sequences | prefill ms | decode ms/step | decoded tokens | aggregate decode tok/s | vs 1 sequence |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const m of rows) {
    const ratio = single ? `${(rate(m) / rate(single)).toFixed(2)}×` : '';
    console.log(
      `| ${m.batch} | ${m.prefillMs.toFixed(0)} | ${(m.decodeMs / DECODE_TOKENS).toFixed(1)} | ${m.decodedTokens} | ${rate(m).toFixed(1)} | ${ratio} |`,
    );
  }
  await model.dispose();
}

await main();
