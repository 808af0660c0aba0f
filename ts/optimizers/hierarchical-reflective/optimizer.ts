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
  type ScoredFailure,
  type TextOptimizeInput,
} from '../engine/session.js';

export const BATCH_ANALYSIS_PROMPT = `You analyze mistakes of a language model. Task:
{task}

The model was given this instruction:
<instruction>
{prompt}
</instruction>

It answered these questions wrongly:
{failures}

For each distinct root cause, write one line "ROOT CAUSE: <cause>". Name causes in the instruction or in how the model
reasoned, not in the individual questions.`;

export const SYNTHESIS_PROMPT = `You group root causes of a language model's mistakes into failure modes. Task:
{task}

Root causes found in separate batches of failures:
{causes}

Merge them into at most {maxModes} distinct failure modes, most frequent first, one per line:
"FAILURE MODE: <short name> | <what goes wrong and why>".`;

export const TARGETED_EDIT_PROMPT = `You repair an instruction for a language model. Task:
{task}

Current instruction:
<current>
{prompt}
</current>

It suffers from this failure mode:
{mode}

Edit the instruction so that it fixes this failure mode and changes nothing else that works. Return the full edited
instruction inside <prompt></prompt> tags.`;

export const hierarchicalReflectiveConfigSchema = z
  .object({
    rounds: z.number().int().nonnegative().default(3),
    /** Failures per analysis batch; batches are analyzed in parallel. */
    batchSize: z.number().int().positive().default(4),
    maxBatches: z.number().int().positive().default(4),
    maxFailureModes: z.number().int().positive().default(3),
    ...baseConfigShape({ optimizerTemperature: 0.7, optimizerMaxTokens: 1024 }),
    maxPromptChars: z.number().int().positive().default(2000),
    /** `generic`: also score the generic seed instructions first; the analysis starts from the best. */
    ...seedInstructionsShape,
  })
  .strict();

export type HierarchicalReflectiveConfig = z.output<typeof hierarchicalReflectiveConfigSchema>;

export interface FailureMode {
  readonly name: string;
  readonly description: string;
}

function fill(template: string, fields: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => fields[name] ?? whole);
}

/** Quotes and markdown emphasis that small models wrap labels and values in. */
const WRAPPERS = '["\'*_`]*';

/** A labelled line (`ROOT CAUSE: …`): list marks, numbers, quotes and emphasis may come before and around it. */
function labelledLines(reply: string, label: string): string[] {
  const pattern = new RegExp(
    String.raw`^\s*(?:[-*#>\d.)]+\s*)?${WRAPPERS}${label}${WRAPPERS}:${WRAPPERS}\s*(.+)$`,
    'gim',
  );
  return [...reply.matchAll(pattern)].map((match) => match[1] ?? '');
}

/** Strips the quotes and emphasis around a value. */
function unwrap(text: string): string {
  return text.replace(/^["'*_`\s]+|["'*_`\s]+$/g, '');
}

/** `ROOT CAUSE: …` lines of an analysis reply. */
export function parseRootCauses(reply: string): string[] {
  return labelledLines(reply, 'ROOT CAUSE')
    .map(unwrap)
    .filter((cause) => cause !== '');
}

/** `FAILURE MODE: name | description` lines of a synthesis reply, deduplicated by name, at most `limit`. */
export function parseFailureModes(reply: string, limit: number): FailureMode[] {
  const modes: FailureMode[] = [];
  for (const line of labelledLines(reply, 'FAILURE MODE')) {
    const [name = '', ...rest] = line.split('|');
    const mode = { name: unwrap(name), description: unwrap(rest.join('|')) || unwrap(name) };
    if (mode.name !== '' && !modes.some((known) => known.name.toLowerCase() === mode.name.toLowerCase())) {
      modes.push(mode);
    }
  }
  return modes.slice(0, limit);
}

/**
 * hierarchical_reflective (HRPO): each round the best prompt's failures are cut into batches that the optimizer model
 * analyzes in parallel for root causes; one synthesis call merges the causes into failure modes; then one targeted
 * edit per failure mode is proposed and scored on the valset, and kept only when it beats the best score.
 */
export class HierarchicalReflectiveOptimizer implements Optimizer<HierarchicalReflectiveConfig, TextTask> {
  readonly name = 'hierarchical_reflective';
  readonly config: HierarchicalReflectiveConfig;

  constructor(config: z.input<typeof hierarchicalReflectiveConfigSchema> = {}) {
    this.config = Object.freeze(parseConfig(hierarchicalReflectiveConfigSchema, config));
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
      const seeds = seedInstructionsOf(config.seedInstructions);
      const { best } = await session.evaluateStartingPrompts(initial, seeds, 'evaluate/0/baseline');
      let failures = best?.evaluation.failures ?? [];
      for (let round = 1; round <= config.rounds && session.bestPrompt !== null; round += 1) {
        session.throwIfAborted();
        if (failures.length === 0) return 'early_stopping';
        const modes = await this.failureModes(session, round, failures);
        for (const [index, mode] of modes.entries()) {
          const accepted = await this.targetedEdit(session, round, index, mode);
          if (accepted) failures = accepted;
        }
        session.progress(round, `round ${round}: ${modes.length} failure modes`, 'iteration');
        if (session.breakerOpen) return 'circuit_open';
        if (modes.length === 0) return 'early_stopping';
      }
      return 'completed';
    });
  }

  /** Batches analyzed in parallel, then one synthesis into failure modes. */
  private async failureModes(
    session: OptimizerSession,
    round: number,
    failures: readonly ScoredFailure[],
  ): Promise<FailureMode[]> {
    const { task, seed } = session.input;
    const prompt = session.bestPrompt ?? '';
    const batches: ScoredFailure[][] = [];
    for (let start = 0; start < failures.length && batches.length < this.config.maxBatches;) {
      batches.push(failures.slice(start, start + this.config.batchSize));
      start += this.config.batchSize;
    }
    const analyses = await session.generateParallel(
      batches.map((batch, index) => ({
        key: `analyze/${round}/${index}`,
        request: this.request(
          fill(BATCH_ANALYSIS_PROMPT, {
            task: task.description,
            prompt,
            failures: formatFailures(batch, batch.length),
          }),
          deriveSeed(seed, 'hrpo-analyze', round, index),
        ),
      })),
    );
    const causes = analyses.flatMap((reply) => (reply === null ? [] : parseRootCauses(reply)));
    if (causes.length === 0) return [];
    const synthesis = await session.generate(
      `synthesize/${round}`,
      this.request(
        fill(SYNTHESIS_PROMPT, {
          task: task.description,
          causes: causes.map((cause) => `- ${cause}`).join('\n'),
          maxModes: String(this.config.maxFailureModes),
        }),
        deriveSeed(seed, 'hrpo-synthesize', round),
      ),
    );
    return synthesis === null ? [] : parseFailureModes(synthesis, this.config.maxFailureModes);
  }

  /** Proposes an edit for one failure mode; returns the new failures when the edit improved the best score. */
  private async targetedEdit(
    session: OptimizerSession,
    round: number,
    index: number,
    mode: FailureMode,
  ): Promise<readonly ScoredFailure[] | null> {
    const { task, seed, valset } = session.input;
    const reply = await session.generate(
      `edit/${round}/${index}`,
      this.request(
        fill(TARGETED_EDIT_PROMPT, {
          task: task.description,
          prompt: session.bestPrompt ?? '',
          mode: `${mode.name}: ${mode.description}`,
        }),
        deriveSeed(seed, 'hrpo-edit', round, index),
      ),
    );
    const candidate = reply === null ? '' : extractPromptBlock(reply);
    const rejection =
      candidate === ''
        ? 'empty edit'
        : session.history.some((entry) => entry.prompt === candidate)
          ? 'duplicate'
          : session.rejectionOf(candidate, this.config.maxPromptChars);
    if (rejection !== undefined) {
      session.record(round, candidate, null, rejection);
      return null;
    }
    const before = session.bestScore;
    const evaluation = await session.evaluate(`evaluate/${round}/${index}`, candidate, valset);
    if (!evaluation) {
      session.record(round, candidate, null, 'evaluation failed');
      return null;
    }
    if (evaluation.score <= before) {
      session.record(round, candidate, evaluation.score, `no improvement for "${mode.name}"`);
      return null;
    }
    session.record(round, candidate, evaluation.score);
    return evaluation.failures;
  }

  private request(content: string, seed: number) {
    return {
      messages: [{ role: 'user' as const, content }],
      temperature: this.config.optimizerTemperature,
      maxTokens: this.config.optimizerMaxTokens,
      seed,
    };
  }
}
