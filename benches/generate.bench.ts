// Text generation speed on CPU: the native addon (candle) vs llama.cpp (npm node-llama-cpp), same GGUF, same prompt
// token ids, 2 threads each, side by side in one run. Prefill = a 1-token generation after a long prompt;
// decode = the extra time of DECODE_TOKENS more greedy tokens. Beside decode: the weight bytes each engine reads per
// token, those bytes per second, and their share of the copy-loop bandwidth measured in the same run (benches/bandwidth.ts).
//   RAYON_NUM_THREADS=2 npx tsx benches/generate.bench.ts [model.gguf]   (BENCH_ITERATIONS, BENCH_DECODE_TOKENS)
// (defaults to the cached default model; `opt-native models pull default` first)
import { getLlama, type LlamaModel } from 'node-llama-cpp';
import { Bench } from 'tinybench';
import { defaultQwenTokenizerPath } from '../ts/models/default-model.js';
import { mirroredModelPath } from '../ts/models/pypi-mirror.js';
import { NativeModel } from '../ts/native/text-model.js';
import { ggufDecodeReadBytes } from '../ts/models/gguf-header.js';
import { measureCopyBandwidth } from './bandwidth.js';

const THREADS = 2;
const DECODE_TOKENS = Number(process.env.BENCH_DECODE_TOKENS ?? 64);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3);
const PROMPT =
  'You are reviewing a pull request. Summarize the change, list risks, and suggest tests. '.repeat(6) +
  'The change adds a resumable downloader with Range requests, a sha256 check and an atomic rename.';

interface Engine {
  name: string;
  /** Weight bytes one decode step reads. */
  decodeReadBytes: number;
  /** Greedy generation of `newTokens` tokens after `promptIds`; returns how many were produced. */
  run(promptIds: number[], newTokens: number): Promise<number>;
  dispose(): Promise<void>;
}

async function nativeEngine(modelPath: string, promptText: string): Promise<Engine> {
  const model = await NativeModel.load(modelPath, { tokenizerPath: defaultQwenTokenizerPath() });
  return {
    name: 'native (candle)',
    decodeReadBytes: model.info().decodeReadBytes,
    run: async (_ids, newTokens) =>
      (await model.generate({ prompt: promptText, maxTokens: newTokens })).tokenIds.length,
    dispose: () => model.dispose(),
  };
}

async function llamaEngine(modelPath: string): Promise<Engine & { model: LlamaModel }> {
  const llama = await getLlama({ gpu: false, build: 'never' });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 1024, threads: THREADS, batchSize: 512 });
  const sequence = context.getSequence();
  return {
    name: 'llama.cpp (node-llama-cpp)',
    decodeReadBytes: await ggufDecodeReadBytes(modelPath),
    model,
    async run(promptIds, newTokens) {
      await sequence.clearHistory();
      let produced = 0;
      for await (const _token of sequence.evaluate(promptIds as never, { temperature: 0 })) {
        produced += 1;
        if (produced >= newTokens) break;
      }
      return produced;
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

async function main(): Promise<void> {
  const modelPath = process.argv[2] ?? mirroredModelPath();
  const native = await nativeEngine(modelPath, PROMPT);
  const llama = await llamaEngine(modelPath);
  const promptIds = Array.from(llama.model.tokenize(PROMPT, true));
  const bench = new Bench({ iterations: ITERATIONS, warmupIterations: ITERATIONS > 1 ? 1 : 0, time: 0, warmupTime: 0 });
  for (const engine of [native, llama]) {
    bench.add(`${engine.name} prefill`, async () => void (await engine.run(promptIds, 1)));
    bench.add(`${engine.name} prefill+decode`, async () => {
      const produced = await engine.run(promptIds, DECODE_TOKENS + 1);
      if (produced !== DECODE_TOKENS + 1) throw new Error(`${engine.name} stopped after ${produced} tokens`);
    });
  }
  await bench.run();
  const bandwidth = await measureCopyBandwidth(THREADS);
  const meanMs = (name: string) => {
    const task = bench.getTask(name);
    const latency = task?.result && 'latency' in task.result ? task.result.latency : undefined;
    if (!latency) throw new Error(`no result for ${name}`);
    return latency.mean;
  };
  console.log(
    `model ${modelPath}; prompt ${promptIds.length} tokens; decode ${DECODE_TOKENS} tokens; ${THREADS} threads`,
  );
  const gb = (bytes: number) => (bytes / 1e9).toFixed(2);
  console.log(`copy-loop bandwidth (read + written), ${THREADS} threads: ${gb(bandwidth.bytesPerSecond)} GB/s`);
  console.log(
    '| engine | prefill tok/s | decode tok/s | prefill ms | decode ms/token | MB read/token | decode GB/s | of copy bandwidth |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const engine of [native, llama]) {
    const prefillMs = meanMs(`${engine.name} prefill`);
    const decodeMsPerToken = (meanMs(`${engine.name} prefill+decode`) - prefillMs) / DECODE_TOKENS;
    const prefillRate = (promptIds.length / prefillMs) * 1000;
    const decodeRate = 1000 / decodeMsPerToken;
    const readRate = engine.decodeReadBytes * decodeRate;
    console.log(
      `| ${engine.name} | ${prefillRate.toFixed(1)} | ${decodeRate.toFixed(1)} | ${prefillMs.toFixed(0)} | ` +
        `${decodeMsPerToken.toFixed(1)} | ${(engine.decodeReadBytes / 1e6).toFixed(1)} | ${gb(readRate)} | ` +
        `${((100 * readRate) / bandwidth.bytesPerSecond).toFixed(0)} % |`,
    );
  }
  await native.dispose();
  await llama.dispose();
}

await main();
