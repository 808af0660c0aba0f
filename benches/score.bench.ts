// Score-mode evaluation speed on CPU with the default GGUF: per-example scoreChoices (one native call each) against
// one scoreChoicesBatch call (the prompts' common token prefix, system turn + instruction, computed once), side by
// side in one run on the same requests. Both must pick the same answers; the bench refuses to report otherwise.
//   RAYON_NUM_THREADS=2 OPT_NATIVE_DATASETS=/path/to/datasets npx tsx benches/score.bench.ts [task] [examples]
// (defaults: bbh:navigate, 20 examples, the cached default model; `opt-native models pull default` first)
import { loadNativeLanguageModel } from '../ts/llm/native-provider.js';
import type { ScoreChoicesRequest, ScoreChoicesResult } from '../ts/llm/types.js';
import { loadTextTask } from '../ts/tasks/text-task.js';

const TASK = process.argv[2] ?? 'bbh:navigate';
const EXAMPLES = Number(process.argv[3] ?? 20);
const INSTRUCTION =
  'Read the instructions step by step, track your position and facing, and answer whether you end where you started.';

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - start) / 1000 };
}

async function main(): Promise<void> {
  const task = await loadTextTask(TASK);
  if (!task.labels) throw new Error(`${TASK} has no label set to score`);
  const examples = task.splits.validation.slice(0, EXAMPLES);
  const requests: ScoreChoicesRequest[] = examples.map((example) => ({
    messages: task.formatMessages(INSTRUCTION, example),
    choices: [...(task.labels ?? [])],
  }));
  const model = await loadNativeLanguageModel('default');
  try {
    // Warm-up: page the weights in and size the caches.
    await model.scoreChoices(requests[0] as ScoreChoicesRequest);
    const single = await timed(async () => {
      const results: ScoreChoicesResult[] = [];
      for (const request of requests) results.push(await model.scoreChoices(request));
      return results;
    });
    const batch = await timed(() => model.scoreChoicesBatch(requests));
    const disagreements = single.value.filter((result, index) => result.best !== batch.value[index]?.best).length;
    if (disagreements > 0) throw new Error(`batch and per-example scoring disagree on ${disagreements} examples`);
    const correct = single.value.filter((result, index) => result.best === examples[index]?.target).length;
    const rate = (seconds: number) => examples.length / seconds;
    console.log(`${TASK}, ${examples.length} examples, threads ${process.env.RAYON_NUM_THREADS ?? 'all'}`);
    console.log(
      `per-example scoreChoices: ${single.seconds.toFixed(1)} s, ${rate(single.seconds).toFixed(2)} examples/s`,
    );
    console.log(
      `scoreChoicesBatch:        ${batch.seconds.toFixed(1)} s, ${rate(batch.seconds).toFixed(2)} examples/s`,
    );
    console.log(
      `batch / per-example: ${(single.seconds / batch.seconds).toFixed(2)}x; accuracy ${correct}/${examples.length}`,
    );
  } finally {
    await model.dispose();
  }
}

await main();
