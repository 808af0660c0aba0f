import type pLimit from 'p-limit';
import type { GenerateRequest, LanguageModel } from '../../llm/types.js';
import type { ExampleOutcome, Evaluation } from './evaluate.js';
import type { Focus } from './focus.js';
import { gradientMessages, lossMessages, parseImprovedPrompt, updateMessages } from './prompts.js';
import type { CallMeter } from './usage.js';

export interface OptimizerContext {
  readonly optimizerModel: LanguageModel;
  readonly limit: ReturnType<typeof pLimit>;
  /** Sampling for the optimizer model (thinking budget included where the provider supports it). */
  readonly sampling: Omit<GenerateRequest, 'messages' | 'signal'>;
  readonly meter: CallMeter;
  readonly signal?: AbortSignal;
}

/** What one textual-gradient step produced; `candidatePrompt` is null when the update reply had no prompt. */
export interface TextualGradientStep {
  readonly critiques: readonly string[];
  readonly feedback: string;
  readonly candidatePrompt: string | null;
}

async function ask(context: OptimizerContext, messages: GenerateRequest['messages']): Promise<string> {
  context.meter.beforeCall();
  const result = await context.optimizerModel.generate({ ...context.sampling, messages, signal: context.signal });
  context.meter.afterCall(result);
  return result.text.trim();
}

/** Loss step: one critique per answer of the batch, against the focus. */
export async function critiqueBatch(
  context: OptimizerContext,
  focus: Focus,
  prompt: string,
  outcomes: readonly ExampleOutcome[],
): Promise<string[]> {
  return Promise.all(
    outcomes.map((outcome) =>
      context.limit(() =>
        ask(
          context,
          lossMessages({
            focus,
            systemPrompt: prompt,
            question: outcome.input,
            response: outcome.response,
            expectedAnswer: outcome.target,
            judgedCorrect: outcome.correct,
            completionTokens: outcome.completionTokens,
          }),
        ),
      ),
    ),
  );
}

/** Loss → gradient → update on one batch already answered under `prompt`. */
export async function textualGradientStep(
  context: OptimizerContext,
  focus: Focus,
  prompt: string,
  batch: Evaluation,
): Promise<TextualGradientStep> {
  const critiques = await critiqueBatch(context, focus, prompt, batch.outcomes);
  const feedback = await ask(
    context,
    gradientMessages({
      focus,
      systemPrompt: prompt,
      critiques,
      batchAccuracy: batch.accuracy,
      batchMeanCompletionTokens: batch.meanCompletionTokens,
    }),
  );
  const updateReply = await ask(
    context,
    updateMessages({ focus, systemPrompt: prompt, feedback, currentMeanCompletionTokens: batch.meanCompletionTokens }),
  );
  return { critiques, feedback, candidatePrompt: parseImprovedPrompt(updateReply) };
}
