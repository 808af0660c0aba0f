/**
 * Runs a MIPROv2 program on examples: requests go through `generateBatch` in chunks (a native backend batches them),
 * each reply is scored by the adapter's metric. A failed example scores 0 (DSPy counts it as an error and goes on);
 * a batch where every example failed throws, so the optimizer's circuit breaker hears of it.
 */
import { OptNativeError } from '../../errors.js';
import type { GenerateRequest, LanguageModel } from '../../llm/types.js';
import type { PromptEvaluator, PromptScore } from '../../tasks/prompt-evaluator.js';
import type { MiproAdapter, MiproProgram } from './program.js';

const BATCH_SIZE = 8;

export interface ProgramRunResult {
  readonly mean: number;
  readonly scores: readonly number[];
  readonly replies: readonly string[];
}

function isStop(error: unknown): boolean {
  return error instanceof OptNativeError && (error.code === 'E_ABORTED' || error.code === 'E_BUDGET');
}

async function repliesFor(model: LanguageModel, requests: GenerateRequest[]): Promise<(string | null)[]> {
  const replies: (string | null)[] = [];
  for (let start = 0; start < requests.length; start += BATCH_SIZE) {
    const chunk = requests.slice(start, start + BATCH_SIZE);
    try {
      replies.push(...(await model.generateBatch(chunk)).map((result) => result.text));
    } catch (error) {
      if (isStop(error)) throw error;
      for (const request of chunk) {
        try {
          replies.push((await model.generate(request)).text);
        } catch (single) {
          if (isStop(single)) throw single;
          replies.push(null);
        }
      }
    }
  }
  return replies;
}

/** Scores `program` on `examples` with `model` (greedy decoding). */
export async function runProgram<TExample>(
  adapter: MiproAdapter<TExample>,
  model: LanguageModel,
  program: MiproProgram,
  examples: readonly TExample[],
  signal?: AbortSignal,
): Promise<ProgramRunResult> {
  const requests = examples.map((example) => ({
    messages: adapter.messages(program, example),
    temperature: 0,
    maxTokens: adapter.maxTokens,
    signal,
  }));
  const replies = await repliesFor(model, requests);
  if (examples.length > 0 && replies.every((reply) => reply === null)) {
    throw new OptNativeError('E_PROVIDER', `every one of ${examples.length} requests failed`);
  }
  const scores: number[] = [];
  for (const [index, example] of examples.entries()) {
    const reply = replies[index] ?? null;
    scores.push(reply === null ? 0 : (await adapter.score(example, reply, signal)).score);
  }
  const mean = scores.length === 0 ? 0 : scores.reduce((sum, score) => sum + score, 0) / scores.length;
  return { mean, scores, replies: replies.map((reply) => reply ?? '') };
}

/** `runProgram` as a recorded step's evaluator: the mean is the primary score, replies and scores are kept. */
export function programEvaluator<TExample>(
  adapter: MiproAdapter<TExample>,
  program: MiproProgram,
  examples: readonly TExample[],
): (model: LanguageModel) => PromptEvaluator {
  return (model) => ({
    async evaluate(_subject, signal): Promise<PromptScore> {
      const result = await runProgram(adapter, model, program, examples, signal);
      return { primary: result.mean, conditions: null, metrics: { scores: result.scores, replies: result.replies } };
    },
  });
}
