import { z } from 'zod';
import { deriveSeed } from '../../random.js';
import type { TextTask } from '../../tasks/types.js';
import type { OptimizationResult, Optimizer } from '../contract.js';
import { baseConfigShape, parseConfig } from '../engine/config.js';
import { seedInstructionsOf, seedInstructionsShape } from '../engine/seed-instructions.js';
import { defaultBaselinePrompt } from '../opro/config.js';
import {
  OptimizerSession,
  extractPromptBlock,
  formatFailures,
  hasPromptBlock,
  type PromptEvaluation,
  type TextOptimizeInput,
} from '../engine/session.js';

/** The critique-and-rewrite meta-prompt; `{…}` fields are filled per round. */
export const META_PROMPT_TEMPLATE = `You are an expert prompt engineer. A language model answers questions of this task:
{task}

The current best instruction scores {score} ({scoreKind}) on validation questions:
<current>
{prompt}
</current>

Here are questions it got wrong:
{failures}

First, critique the instruction in two or three sentences: why does it lead to these mistakes? Then write one
improved instruction that fixes them. Keep it under {maxChars} characters and keep the required answer format.
Return the new instruction inside <prompt></prompt> tags.`;

/**
 * Why an untagged reply is refused: the meta-prompt asks for a critique first, so without a `<prompt>` block the
 * reply is the critique (a 1.5B optimizer's, seen on GSM8K), not an instruction worth evaluating.
 */
export const NO_PROMPT_BLOCK = 'no <prompt> block: the reply is a critique, not a rewrite';

export const metaPromptConfigSchema = z
  .object({
    rounds: z.number().int().nonnegative().default(3),
    candidatesPerRound: z.number().int().positive().default(3),
    /** Failures shown to the optimizer model per round. */
    failuresShown: z.number().int().positive().default(5),
    ...baseConfigShape({ optimizerTemperature: 0.9, optimizerMaxTokens: 1024 }),
    /** `generic`: also score the generic seed instructions first; the critique starts from the best. */
    ...seedInstructionsShape,
    maxPromptChars: z.number().int().positive().default(1500),
    /** Rounds without a better prompt before stopping. */
    earlyStopping: z.number().int().positive().default(2),
  })
  .strict();

export type MetaPromptConfig = z.output<typeof metaPromptConfigSchema>;

export function buildCritiquePrompt(
  task: TextTask,
  prompt: string,
  evaluation: PromptEvaluation,
  config: MetaPromptConfig,
): string {
  const fields: Record<string, string> = {
    task: task.description,
    score: evaluation.score.toFixed(3),
    // Classification tasks are scored by balanced accuracy: 0.5 is what always giving one answer earns.
    scoreKind: task.scoreKind === 'balanced_accuracy' ? 'balanced accuracy; 0.5 = chance' : 'fraction correct',
    prompt,
    failures: formatFailures(evaluation.failures, config.failuresShown),
    maxChars: String(config.maxPromptChars),
  };
  return META_PROMPT_TEMPLATE.replace(/\{(\w+)\}/g, (whole, name: string) => fields[name] ?? whole);
}

/**
 * meta_prompt: each round an optimizer model critiques the best prompt with its scored failures and proposes
 * `candidatesPerRound` rewrites; every rewrite is scored on the valset and the best one is kept (rounds × candidates).
 */
export class MetaPromptOptimizer implements Optimizer<MetaPromptConfig, TextTask> {
  readonly name = 'meta_prompt';
  readonly config: MetaPromptConfig;

  constructor(config: z.input<typeof metaPromptConfigSchema> = {}) {
    this.config = Object.freeze(parseConfig(metaPromptConfigSchema, config));
  }

  async optimize(input: TextOptimizeInput): Promise<OptimizationResult> {
    const config = this.config;
    const session = new OptimizerSession(input, {
      optimizer: this.name,
      totalIterations: config.rounds,
      evalMode: config.evalMode,
    });
    return session.run(async () => {
      const initial = config.initialPrompt ?? defaultBaselinePrompt(input.task.labels);
      const { best } = await session.evaluateStartingPrompts(initial, seedInstructionsOf(config.seedInstructions));
      let bestEvaluation = best?.evaluation ?? null;
      let roundsWithoutImprovement = 0;
      for (let round = 1; round <= config.rounds && bestEvaluation; round += 1) {
        session.throwIfAborted();
        if (bestEvaluation.failures.length === 0) return 'early_stopping';
        const critique = buildCritiquePrompt(input.task, session.bestPrompt ?? initial, bestEvaluation, config);
        const improved = await this.round(session, round, critique);
        if (improved) {
          bestEvaluation = improved;
          roundsWithoutImprovement = 0;
        } else if (++roundsWithoutImprovement >= config.earlyStopping) {
          return 'early_stopping';
        }
        session.progress(round, `round ${round}: best ${session.bestScore.toFixed(3)}`, 'iteration');
        if (session.breakerOpen) return 'circuit_open';
      }
      return 'completed';
    });
  }

  /** Proposes and scores the round's candidates; returns the evaluation of a new best, if one was found. */
  private async round(session: OptimizerSession, round: number, critique: string): Promise<PromptEvaluation | null> {
    const seen = new Set(session.history.map((entry) => entry.prompt));
    let improved: PromptEvaluation | null = null;
    for (let slot = 0; slot < this.config.candidatesPerRound; slot += 1) {
      const reply = await session.generate(`generate/${round}/${slot}`, {
        messages: [{ role: 'user', content: critique }],
        temperature: this.config.optimizerTemperature,
        maxTokens: this.config.optimizerMaxTokens,
        seed: deriveSeed(session.input.seed, 'meta_prompt', round, slot),
        sampleIndex: slot,
      });
      if (reply === null) continue;
      const candidate = extractPromptBlock(reply);
      const rejection =
        candidate === ''
          ? 'empty rewrite'
          : seen.has(candidate)
            ? 'duplicate'
            : (session.rejectionOf(candidate, this.config.maxPromptChars) ??
              (hasPromptBlock(reply) ? undefined : NO_PROMPT_BLOCK));
      if (rejection !== undefined) {
        session.record(round, candidate, null, rejection);
        continue;
      }
      seen.add(candidate);
      const before = session.bestScore;
      const evaluation = await session.evaluate(`evaluate/${round}/${slot}`, candidate, session.input.valset);
      session.record(round, candidate, evaluation?.score ?? null, evaluation ? undefined : 'evaluation failed');
      if (evaluation && evaluation.score > before) improved = evaluation;
    }
    return improved;
  }
}
