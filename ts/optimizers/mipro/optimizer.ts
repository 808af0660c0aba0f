/**
 * MIPROv2 (Opsahl-Ong et al. 2024, as dspy/teleprompt/mipro_optimizer_v2.py runs it) on the shared engine: step 1
 * bootstraps demo sets with the task model as teacher, step 2 proposes grounded instructions with the prompt model,
 * step 3 searches (instruction, demo set) with a seeded TPE on minibatches. Every model call is a recorded step of
 * the run directory, so budget, response cache and resume work as for the other optimizers.
 *
 * Differences from DSPy, each deliberate: one predictor per program; Optuna's multivariate TPE is our categorical
 * TPE (independent per parameter); the proposal DSPy makes for candidate 0 and then discards is not made; traces are
 * kept as demos only when they score `metricThreshold` (1.0 by default) rather than any truthy score.
 */
import type { z } from 'zod';
import { SeededRandom, deriveSeed } from '../../random.js';
import type { Example } from '../../datasets/types.js';
import { OptNativeError } from '../../errors.js';
import type { TextTask } from '../../tasks/types.js';
import type { OptimizationResult, OptimizeInput, Optimizer } from '../contract.js';
import { defaultBaselinePrompt } from '../opro/config.js';
import { parseConfig } from '../engine/config.js';
import { OptimizerSession, type SessionInput } from '../engine/session.js';
import { createDemoSets } from './bootstrap.js';
import { miproConfigSchema, miproRunSettings, type MiproConfig, type MiproRunSettings } from './config.js';
import { textTaskAdapter, type MiproAdapter, type MiproDemo, type MiproProgram } from './program.js';
import { proposeInstructions, type ProposedInstruction } from './proposer.js';
import { searchPromptParameters, type MiproTrialRecord } from './search.js';

export interface MiproInput<TExample> extends SessionInput {
  readonly adapter: MiproAdapter<TExample>;
  readonly trainset: readonly TExample[];
  readonly valset: readonly TExample[];
  readonly seed: number;
}

export interface MiproResult extends OptimizationResult {
  /** The best program: its instruction and demos. */
  readonly program: MiproProgram;
  readonly defaultScore: number | null;
  readonly settings: MiproRunSettings;
  readonly instructions: readonly ProposedInstruction[];
  readonly demoSets: readonly (readonly MiproDemo[])[];
  readonly trials: readonly MiproTrialRecord[];
}

function checkData(trainset: readonly unknown[], valset: readonly unknown[]): void {
  if (trainset.length === 0) throw new OptNativeError('E_BAD_INPUT', 'mipro: the train set is empty');
  if (valset.length === 0) throw new OptNativeError('E_BAD_INPUT', 'mipro: the validation set is empty');
}

/** Runs MIPROv2 on any program adapter; see the file comment. */
export async function runMipro<TExample>(config: MiproConfig, input: MiproInput<TExample>): Promise<MiproResult> {
  checkData(input.trainset, input.valset);
  const settings = miproRunSettings(config, input.valset.length);
  const valset =
    config.auto === null
      ? input.valset
      : new SeededRandom(deriveSeed(input.seed, 'mipro-valset')).sample(input.valset, settings.valSize);
  if (settings.minibatch && config.minibatchSize > valset.length) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `mipro: minibatchSize ${config.minibatchSize} exceeds the validation set (${valset.length} examples)`,
    );
  }
  const session = new OptimizerSession<SessionInput>(input, {
    optimizer: 'mipro',
    totalIterations: settings.numTrials,
  });
  const { adapter } = input;
  const programs = new Map<string, MiproProgram>();
  let outcome: Omit<MiproResult, keyof OptimizationResult | 'program'> = {
    defaultScore: null,
    settings,
    instructions: [],
    demoSets: [],
    trials: [],
  };
  const result = await session.run(async () => {
    const demoSets = settings.zeroShot
      ? Array.from({ length: settings.numFewshotCandidates }, () => [])
      : await createDemoSets({
          session,
          adapter,
          trainset: input.trainset,
          options: {
            sets: settings.numFewshotCandidates,
            maxBootstrappedDemos: config.maxBootstrappedDemos,
            maxLabeledDemos: config.maxLabeledDemos,
            metricThreshold: config.metricThreshold,
            seed: input.seed,
          },
        });
    session.progress(0, `bootstrapped ${demoSets.length} demo sets`);
    const instructions = await proposeInstructions(session, adapter, input.trainset, demoSets, {
      count: settings.numInstructCandidates,
      viewDataBatchSize: config.viewDataBatchSize,
      programAware: config.programAwareProposer,
      dataAware: config.dataAwareProposer,
      tipAware: config.tipAwareProposer,
      fewshotAware: config.fewshotAwareProposer,
      temperature: config.optimizerTemperature,
      maxTokens: config.optimizerMaxTokens,
      seed: input.seed,
    });
    session.progress(0, `proposed ${instructions.length} instructions`);
    outcome = { ...outcome, instructions, demoSets };
    const space = {
      instructions: instructions.map((proposal) => proposal.instruction),
      demoSets: settings.zeroShot ? null : demoSets,
    };
    const searched = await searchPromptParameters(
      {
        session,
        adapter,
        valset,
        space,
        options: {
          numTrials: settings.numTrials,
          minibatch: settings.minibatch,
          minibatchSize: config.minibatchSize,
          fullEvalSteps: config.minibatchFullEvalSteps,
          startupTrials: config.startupTrials,
          seed: input.seed,
        },
      },
      (record, program) => {
        const prompt = adapter.render(program);
        programs.set(prompt, program);
        outcome = { ...outcome, trials: [...outcome.trials, record] };
        if (record.fullEval)
          session.record(
            record.trialNumber,
            prompt,
            record.score,
            record.score === null ? 'evaluation failed' : undefined,
          );
        else session.note(record.trialNumber, prompt, record.score, 'minibatch');
      },
    );
    outcome = { ...outcome, defaultScore: searched.defaultScore };
    return 'completed';
  });
  const program = programs.get(result.bestPrompt) ?? { instruction: result.bestPrompt, demos: [] };
  return Object.freeze({ ...result, ...outcome, program });
}

export type TextMiproInput = OptimizeInput<TextTask, Example>;

/** MIPROv2 for text tasks through the shared optimizer contract (the registry's `mipro`). */
export class MiproOptimizer implements Optimizer<MiproConfig, TextTask> {
  readonly name = 'mipro';
  readonly config: MiproConfig;

  constructor(config: z.input<typeof miproConfigSchema> = {}) {
    this.config = Object.freeze(parseConfig(miproConfigSchema, config));
  }

  optimize(input: TextMiproInput): Promise<MiproResult> {
    const task = { ...input.task, metric: input.metric };
    const adapter = textTaskAdapter(task);
    const basicInstruction = this.config.initialPrompt ?? defaultBaselinePrompt(input.task.labels);
    return runMipro(this.config, { ...input, adapter: { ...adapter, basicInstruction } });
  }
}
