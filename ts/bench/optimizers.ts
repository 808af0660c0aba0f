/**
 * Manifest parameters for the optimizer registry (ts/optimizers/registry.ts): the snake_case `optimizer_params` and
 * `optimizer_prompt_params` of the original tool become a camelCase config, with `max_trials` mapped to each
 * optimizer's iteration count and the runner's own parameters split off.
 */
import { OptNativeError } from '../errors.js';
import { checkInteger } from '../numbers.js';
import { OPTIMIZERS, type OptimizerName } from '../optimizers/registry.js';
import {
  ANSWER_FORMAT_POSITIONS,
  INSTRUCTION_POSITIONS,
  type AnswerFormatPosition,
  type InstructionPosition,
} from '../tasks/answer-format.js';
import { CALIBRATION_MODES, type CalibrationMode } from '../tasks/calibration.js';
import type { TextTask } from '../tasks/types.js';
import type { PromptMessage } from './types.js';

export {
  OPTIMIZER_NAMES,
  canonicalOptimizerName,
  createOptimizer,
  type OptimizerName,
} from '../optimizers/registry.js';

/** Iterations (`max_trials`, `num_iterations`, …) and samples a manifest may ask for: more is a typo, not a plan. */
const MAX_ITERATIONS = 10_000;
const MAX_SAMPLES = 1_000;

/** The original tool's parameter names that mean something else here. */
const RENAMED: Readonly<Record<string, string>> = { numGenerations: 'generations' };

/**
 * Parameters the runner itself reads (not passed to the optimizer): the valset cap, score-mode calibration, and
 * the task's message layout (so the held-out split is prompted as the optimizer's candidates were).
 */
export const RUNNER_PARAMS = ['nSamples', 'calibration', 'instructionPosition', 'answerFormatPosition'] as const;

export interface RunnerParams {
  nSamples?: number;
  calibration?: CalibrationMode;
  instructionPosition?: InstructionPosition;
  answerFormatPosition?: AnswerFormatPosition;
}

function oneOf<T extends string>(allowed: readonly T[], key: string, value: unknown): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new OptNativeError('E_BAD_INPUT', `${key} must be one of ${allowed.join(', ')}, got ${String(value)}`);
}

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** Merged, camel-cased parameters with `max_trials` mapped; runner parameters are split off. */
export function optimizerConfigOf(
  name: OptimizerName,
  optimizerParams: Readonly<Record<string, unknown>>,
  promptParams: Readonly<Record<string, unknown>>,
): { config: Record<string, unknown>; runner: RunnerParams } {
  const config: Record<string, unknown> = {};
  const runner: RunnerParams = {};
  /** The name each parameter had in the manifest, for error messages. */
  const manifestKeys: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...optimizerParams, ...promptParams })) {
    let camel = camelCase(key);
    camel = RENAMED[camel] ?? camel;
    if (camel === 'maxTrials') camel = OPTIMIZERS[name].maxTrialsKey;
    if (camel === 'nSamples') {
      runner.nSamples = checkInteger(key, value as number, { min: 1, max: MAX_SAMPLES });
    } else if (camel === 'calibration') {
      runner.calibration = oneOf(CALIBRATION_MODES, key, value);
    } else if (camel === 'instructionPosition') {
      runner.instructionPosition = oneOf(INSTRUCTION_POSITIONS, key, value);
    } else if (camel === 'answerFormatPosition') {
      runner.answerFormatPosition = oneOf(ANSWER_FORMAT_POSITIONS, key, value);
    } else {
      config[camel] = value;
      manifestKeys[camel] = key;
    }
  }
  const iterations = OPTIMIZERS[name].maxTrialsKey;
  if (config[iterations] !== undefined) {
    checkInteger(manifestKeys[iterations] ?? iterations, config[iterations] as number, {
      min: 1,
      max: MAX_ITERATIONS,
    });
  }
  return { config, runner };
}

/** The initial instruction of a manifest prompt: the system message, else the first message. */
export function initialInstruction(prompt: readonly PromptMessage[] | undefined): string | undefined {
  return (prompt?.find((message) => message.role === 'system') ?? prompt?.[0])?.content;
}

/** The task as the optimizer prompts the evaluated model (see OptimizerEntry.evaluationTask). */
export function evaluationTaskOf(name: OptimizerName, config: Record<string, unknown>, task: TextTask): TextTask {
  return OPTIMIZERS[name].evaluationTask(config, task);
}
