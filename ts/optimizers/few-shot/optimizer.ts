import { z } from 'zod';
import { SeededRandom, deriveSeed } from '../../random.js';
import type { Example } from '../../datasets/types.js';
import type { TextTask } from '../../tasks/types.js';
import type { OptimizationResult, Optimizer } from '../contract.js';
import { baseConfigShape, parseConfig } from '../engine/config.js';
import { defaultBaselinePrompt } from '../opro/config.js';
import { OptimizerSession, extractPromptBlock, type TextOptimizeInput } from '../engine/session.js';
import { CategoricalTpe, type Observation, type Trial } from './tpe.js';

/** Asks the optimizer model for one alternative wording of the instruction. */
export const INSTRUCTION_VARIANT_PROMPT = `You write instructions for a language model. Task:
{task}

Current instruction:
<current>
{prompt}
</current>

Example questions with their answers:
{examples}

Write one alternative instruction (variant {variant}) that would help the model answer such questions correctly, in
the same answer format. Return it inside <prompt></prompt> tags.`;

export const fewShotConfigSchema = z
  .object({
    /** Bayesian-search trials, each scored on a minibatch. */
    trials: z.number().int().positive().default(10),
    maxDemos: z.number().int().nonnegative().default(4),
    /** Seeded candidate orderings of train examples that demonstrations are taken from. */
    demoSets: z.number().int().positive().default(4),
    /** Instruction variants written by the optimizer model, besides the initial instruction. */
    instructionVariants: z.number().int().nonnegative().default(2),
    minibatchSize: z.number().int().positive().default(8),
    /** A full-validation check of the best minibatch configuration every this many trials (and at the end). */
    fullEvalEvery: z.number().int().positive().default(4),
    startupTrials: z.number().int().nonnegative().default(3),
    ...baseConfigShape({ optimizerTemperature: 0.9, optimizerMaxTokens: 512 }),
  })
  .strict();

export type FewShotConfig = z.output<typeof fewShotConfigSchema>;

/** How a demonstration answers: the task's `demoAnswer` where it has one (worked solution and final line). */
export type DemoAnswer = (demo: Example) => string;

const bareTarget: DemoAnswer = (demo) => demo.target;

/** The task's way of answering a demonstration, or its bare target. */
export function demoAnswerOf(task: TextTask): DemoAnswer {
  return (demo) => task.demoAnswer?.(demo) ?? demo.target;
}

/** The prompt a trial stands for: the instruction, then its demonstrations in the evaluated model's Q/A format. */
export function renderFewShotPrompt(
  instruction: string,
  demos: readonly Example[],
  answerOf: DemoAnswer = bareTarget,
): string {
  if (demos.length === 0) return instruction;
  const shown = demos.map((demo) => `Q: ${demo.input}\nA: ${answerOf(demo)}`).join('\n\n');
  return `${instruction}\n\nExamples:\n\n${shown}`;
}

/** `demoSet=1,instruction=0,numDemos=2`: stable across runs (it names recorded steps). */
export function trialKey(trial: Trial): string {
  return Object.keys(trial)
    .sort()
    .map((name) => `${name}=${trial[name]}`)
    .join(',');
}

interface SearchSpace {
  readonly instructions: readonly string[];
  readonly demoSets: readonly (readonly Example[])[];
  readonly answerOf: DemoAnswer;
}

/**
 * few_shot: Bayesian search (seeded categorical TPE) over which instruction variant, which demonstration set and how
 * many demonstrations from the train split; each trial is scored on a seeded minibatch of the valset, and the
 * configuration with the best mean minibatch score is checked on the full valset periodically. The best fully
 * validated prompt wins.
 */
export class FewShotOptimizer implements Optimizer<FewShotConfig, TextTask> {
  readonly name = 'few_shot';
  readonly config: FewShotConfig;

  constructor(config: z.input<typeof fewShotConfigSchema> = {}) {
    this.config = Object.freeze(parseConfig(fewShotConfigSchema, config));
  }

  async optimize(input: TextOptimizeInput): Promise<OptimizationResult> {
    const session = new OptimizerSession(input, {
      optimizer: this.name,
      totalIterations: this.config.trials,
      evalMode: this.config.evalMode,
    });
    return session.run(async () => {
      const initial = this.config.initialPrompt ?? defaultBaselinePrompt(input.task.labels);
      await session.evaluateInitial('full/baseline', initial);
      const answerOf = demoAnswerOf(input.task);
      const space = {
        instructions: await this.instructions(session, initial, answerOf),
        demoSets: this.demoSets(input),
        answerOf,
      };
      await this.search(session, space);
      return 'completed';
    });
  }

  private async instructions(session: OptimizerSession, initial: string, answerOf: DemoAnswer): Promise<string[]> {
    const { input } = session;
    const examples = new SeededRandom(deriveSeed(input.seed, 'few_shot-variant-examples'))
      .sample(input.trainset, 3)
      .map((example) => `Q: ${example.input}\nA: ${answerOf(example)}`)
      .join('\n\n');
    const instructions = [initial];
    for (let variant = 1; variant <= this.config.instructionVariants; variant += 1) {
      const fields: Record<string, string> = {
        task: input.task.description,
        prompt: initial,
        examples,
        variant: String(variant),
      };
      const content = INSTRUCTION_VARIANT_PROMPT.replace(/\{(\w+)\}/g, (whole, name: string) => fields[name] ?? whole);
      const reply = await session.generate(`variant/${variant}`, {
        messages: [{ role: 'user', content }],
        temperature: this.config.optimizerTemperature,
        maxTokens: this.config.optimizerMaxTokens,
        seed: deriveSeed(input.seed, 'few_shot-variant', variant),
      });
      const text = reply === null ? '' : extractPromptBlock(reply);
      const rejection = text === '' ? undefined : session.rejectionOf(text);
      if (rejection !== undefined) session.record(0, text, null, rejection);
      else if (text !== '' && !instructions.includes(text)) instructions.push(text);
    }
    return instructions;
  }

  private demoSets(input: TextOptimizeInput): Example[][] {
    const size = Math.min(this.config.maxDemos, input.trainset.length);
    return Array.from({ length: this.config.demoSets }, (_, index) =>
      new SeededRandom(deriveSeed(input.seed, 'few_shot-demos', index)).sample(input.trainset, size),
    );
  }

  private promptOf(space: SearchSpace, trial: Trial): string {
    const demos = (space.demoSets[trial.demoSet ?? 0] ?? []).slice(0, trial.numDemos ?? 0);
    return renderFewShotPrompt(space.instructions[trial.instruction ?? 0] ?? '', demos, space.answerOf);
  }

  private async search(session: OptimizerSession, space: SearchSpace): Promise<void> {
    const { input } = session;
    const maxDemos = Math.min(this.config.maxDemos, input.trainset.length);
    const tpe = new CategoricalTpe(
      { instruction: space.instructions.length, demoSet: space.demoSets.length, numDemos: maxDemos + 1 },
      { seed: deriveSeed(input.seed, 'few_shot-tpe'), startupTrials: this.config.startupTrials },
    );
    const observations: Observation[] = [];
    const validated = new Set<string>();
    for (let trialIndex = 1; trialIndex <= this.config.trials; trialIndex += 1) {
      session.throwIfAborted();
      if (session.breakerOpen) return;
      const trial = tpe.suggest(observations);
      const minibatch = new SeededRandom(deriveSeed(input.seed, 'few_shot-minibatch', trialIndex)).sample(
        input.valset,
        this.config.minibatchSize,
      );
      const prompt = this.promptOf(space, trial);
      const evaluation = await session.evaluate(`minibatch/${trialIndex}`, prompt, minibatch);
      session.note(trialIndex, prompt, evaluation?.score ?? null, evaluation ? 'minibatch' : 'evaluation failed');
      if (evaluation) observations.push({ params: trial, value: evaluation.score });
      if (trialIndex % this.config.fullEvalEvery === 0 || trialIndex === this.config.trials) {
        await this.validateBest(session, space, observations, validated, trialIndex);
      }
      session.progress(trialIndex, `trial ${trialIndex} (${trialKey(trial)})`, 'iteration');
    }
  }

  /** Scores the configuration with the best mean minibatch score on the full valset, once per configuration. */
  private async validateBest(
    session: OptimizerSession,
    space: SearchSpace,
    observations: readonly Observation[],
    validated: Set<string>,
    trialIndex: number,
  ): Promise<void> {
    const best = bestMeanTrial(observations, validated);
    if (!best) return;
    validated.add(trialKey(best));
    const prompt = this.promptOf(space, best);
    const evaluation = await session.evaluate(`full/${trialKey(best)}`, prompt, session.input.valset);
    session.record(trialIndex, prompt, evaluation?.score ?? null, evaluation ? undefined : 'evaluation failed');
  }
}

/** The not yet validated configuration with the highest mean minibatch score (first seen wins ties). */
export function bestMeanTrial(observations: readonly Observation[], exclude: ReadonlySet<string>): Trial | undefined {
  const groups = new Map<string, { trial: Trial; total: number; count: number }>();
  for (const { params, value } of observations) {
    const key = trialKey(params);
    const group = groups.get(key) ?? { trial: params, total: 0, count: 0 };
    group.total += value;
    group.count += 1;
    groups.set(key, group);
  }
  let best: { trial: Trial; mean: number } | undefined;
  for (const [key, group] of groups) {
    if (exclude.has(key)) continue;
    const mean = group.total / group.count;
    if (best === undefined || mean > best.mean) best = { trial: group.trial, mean };
  }
  return best?.trial;
}
