// The machine's memory bandwidth as a copy loop measures it (STREAM's "copy": bytes read + bytes written per
// second), for the roofline share of decode in the generation benches. Each of `threads` workers copies between its
// own two buffers, each far larger than the caches, so every byte comes from and goes to DRAM.
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { bytes, rounds, signal } = workerData;
const a = new Uint8Array(bytes).fill(1);
const b = new Uint8Array(bytes).fill(2);
const flag = new Int32Array(signal);
parentPort.postMessage('ready');
Atomics.wait(flag, 0, 0);
const start = process.hrtime.bigint();
for (let round = 0; round < rounds; round += 1) (round % 2 === 0 ? b : a).set(round % 2 === 0 ? a : b);
parentPort.postMessage(Number(process.hrtime.bigint() - start) / 1e9);
`;

export interface CopyBandwidth {
  threads: number;
  /** Bytes read + bytes written per second, the best of the repeats. */
  bytesPerSecond: number;
}

/** One timed pass: every worker copies `rounds` times, all started together; the slowest sets the time. */
async function copyPass(threads: number, bytes: number, rounds: number): Promise<number> {
  const signal = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: threads },
    () => new Worker(WORKER, { eval: true, workerData: { bytes, rounds, signal } }),
  );
  const seconds = workers.map(
    (worker) =>
      new Promise<number>((resolve, reject) => {
        worker.on('message', (message: unknown) => typeof message === 'number' && resolve(message));
        worker.on('error', reject);
      }),
  );
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
  Atomics.store(new Int32Array(signal), 0, 1);
  Atomics.notify(new Int32Array(signal), 0);
  const slowest = Math.max(...(await Promise.all(seconds)));
  await Promise.all(workers.map((worker) => worker.terminate()));
  return (2 * threads * bytes * rounds) / slowest;
}

/** Copy bandwidth with `threads` workers, 256 MiB buffers each (2 per worker), best of `repeats` passes. */
export async function measureCopyBandwidth(threads: number, repeats = 3): Promise<CopyBandwidth> {
  let best = 0;
  for (let repeat = 0; repeat < repeats; repeat += 1) best = Math.max(best, await copyPass(threads, 256 << 20, 8));
  return { threads, bytesPerSecond: best };
}
