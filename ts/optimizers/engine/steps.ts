import { createHash } from 'node:crypto';
import { OptNativeError, errorText } from '../../errors.js';
import type { LanguageModel } from '../../llm/types.js';
import { addUsage, EMPTY_USAGE, type OptimizationRunDirectory, type OptimizationUsage } from '../contract.js';
import type { PromptEvaluator, PromptScore } from '../../tasks/prompt-evaluator.js';
import type { UsageMeter } from './meter.js';

/** What every recorded step carries besides its result, so that a replayed run adds up to the same totals. */
interface StepCost {
  readonly usage: OptimizationUsage;
  readonly wallMs: number;
}

export type GenerationStep = StepCost & ({ ok: true; text: string } | { ok: false; error: string });

export type EvaluationStep = StepCost &
  ({ ok: true; score: PromptScore; timestamp: number } | { ok: false; error: string });

/** Aborts and exhausted budgets stop the run; they are not recorded, so a resumed run retries the step. */
export function isStopError(error: unknown): error is OptNativeError {
  return error instanceof OptNativeError && (error.code === 'E_ABORTED' || error.code === 'E_BUDGET');
}

export function promptDigest(prompt: string): string {
  return createHash('sha256').update(prompt).digest('hex').slice(0, 16);
}

/** Carries a failed step's outcome out of `runStep`, so that the run directory records nothing for it. */
class UnrecordedFailure extends Error {
  constructor(readonly step: StepCost & { ok: false; error: string }) {
    super(step.error);
  }
}

/**
 * Runs model work as recorded steps: through the run directory when there is one (replayed on resume), directly
 * otherwise. Failures other than stop errors come back as `{ ok: false }` results (the circuit breaker counts them)
 * but are never recorded: a resumed run retries what failed (the provider may be back) and replays every success.
 */
export class StepRunner {
  private totalUsage: OptimizationUsage = EMPTY_USAGE;
  private totalWallMs = 0;

  constructor(
    private readonly meter: UsageMeter,
    private readonly runDir: OptimizationRunDirectory | undefined,
    private readonly now: () => number = Date.now,
    private readonly signal?: AbortSignal,
  ) {}

  get usage(): OptimizationUsage {
    return this.totalUsage;
  }

  get wallMs(): number {
    return this.totalWallMs;
  }

  private async run<T extends StepCost>(key: string, work: () => Promise<Record<string, unknown>>): Promise<T> {
    const execute = async (): Promise<T> => {
      const before = this.meter.snapshot();
      const started = this.now();
      try {
        const outcome = { ok: true, ...(await work()) };
        return { ...outcome, usage: this.meter.since(before), wallMs: this.now() - started } as unknown as T;
      } catch (error) {
        if (isStopError(error)) throw error;
        // A provider may report a cancelled call as some other error: never record what an abort caused.
        if (this.signal?.aborted)
          throw new OptNativeError('E_ABORTED', 'the optimization was aborted', { cause: error });
        const usage = this.meter.since(before);
        throw new UnrecordedFailure({ ok: false, error: errorText(error), usage, wallMs: this.now() - started });
      }
    };
    let step: T;
    try {
      step = this.runDir ? await this.runDir.runStep(key, execute) : await execute();
    } catch (error) {
      if (!(error instanceof UnrecordedFailure)) throw error;
      step = error.step as unknown as T;
    }
    this.totalUsage = addUsage(this.totalUsage, step.usage);
    this.totalWallMs += step.wallMs;
    return step;
  }

  generate(
    key: string,
    model: LanguageModel,
    request: Parameters<LanguageModel['generate']>[0],
  ): Promise<GenerationStep> {
    return this.run<GenerationStep>(key, async () => ({ text: (await model.generate(request)).text }));
  }

  evaluate(key: string, evaluator: PromptEvaluator, prompt: string, signal?: AbortSignal): Promise<EvaluationStep> {
    return this.run<EvaluationStep>(key, async () => ({
      score: await evaluator.evaluate(prompt, signal),
      timestamp: this.now() / 1000,
    }));
  }
}
