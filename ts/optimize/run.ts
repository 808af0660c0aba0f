/**
 * `optimize.run(task, question, f, x0, options)`: a chat model carries out the optimization of a string x (text,
 * parameters, code) given a task, a question ("what is the next x to try such that …"), an objective
 * f(x) → [score, feedback] and a start x0.
 */
import { OptNativeError } from '../errors.js';
import { checkNumber, checkSeed } from '../numbers.js';
import { createLanguageModel } from '../llm/registry.js';
import type { LanguageModel } from '../llm/types.js';
import { freezeDeep, type OptimizationBudget, type OptimizationRunDirectory } from '../optimizers/contract.js';
import { UsageMeter } from '../optimizers/engine/meter.js';
import { StepRunner } from '../optimizers/engine/steps.js';
import { Budget, type BudgetLimits } from '../run/budget.js';
import { RunDirectory } from '../run/run-directory.js';
import type { Objective } from './objective.js';
import { OptimizeSession, requirePositiveInteger, type SessionSettings } from './session.js';
import type { OptimizeResult, OptimizeRunOptions } from './types.js';

export const DEFAULT_OPTIMIZE_MODEL = 'native:default';
export const OPTIMIZE_DEFAULTS = {
  strategy: 'topk',
  maxSteps: 10,
  proposalsPerStep: 2,
  topK: 5,
  temperature: 0.8,
  maxTokens: 1024,
  seed: 0,
} as const;

/** Throws E_BAD_INPUT for settings `run` would refuse, before anything runs (the CLI checks before its first write). */
export function checkOptimizeOptions(options: OptimizeRunOptions): void {
  settingsOf(options);
}

function settingsOf(options: OptimizeRunOptions): SessionSettings {
  const strategy = options.strategy ?? OPTIMIZE_DEFAULTS.strategy;
  if (strategy !== 'topk' && strategy !== 'chat')
    throw new OptNativeError('E_BAD_INPUT', `optimize: unknown strategy ${JSON.stringify(strategy)} (topk or chat)`);
  if (options.stopScore !== undefined && !Number.isFinite(options.stopScore))
    throw new OptNativeError('E_BAD_INPUT', `optimize: stopScore must be a finite number`);
  const maxSteps = options.maxSteps ?? OPTIMIZE_DEFAULTS.maxSteps;
  if (!Number.isInteger(maxSteps) || maxSteps < 0)
    throw new OptNativeError('E_BAD_INPUT', `optimize: maxSteps must be a non-negative integer, got ${maxSteps}`);
  return {
    strategy,
    maxSteps,
    proposalsPerStep: requirePositiveInteger(
      'proposalsPerStep',
      options.proposalsPerStep ?? OPTIMIZE_DEFAULTS.proposalsPerStep,
    ),
    topK: requirePositiveInteger('topK', options.topK ?? OPTIMIZE_DEFAULTS.topK),
    temperature: checkNumber('optimize: temperature', options.temperature ?? OPTIMIZE_DEFAULTS.temperature, {
      min: 0,
      max: 2,
    }),
    maxTokens: requirePositiveInteger('maxTokens', options.maxTokens ?? OPTIMIZE_DEFAULTS.maxTokens),
    seed: checkSeed('optimize: seed', options.seed ?? OPTIMIZE_DEFAULTS.seed),
    stopScore: options.stopScore,
    signal: options.signal,
    onProgress: options.onProgress,
  };
}

function budgetOf(budget: OptimizationBudget | BudgetLimits | undefined): OptimizationBudget | undefined {
  if (budget === undefined) return undefined;
  return 'check' in budget && typeof budget.check === 'function' ? budget : new Budget(budget as BudgetLimits);
}

async function modelOf(model: LanguageModel | string | undefined): Promise<{ model: LanguageModel; owned: boolean }> {
  if (model !== undefined && typeof model !== 'string') return { model, owned: false };
  const modelString = model ?? DEFAULT_OPTIMIZE_MODEL;
  // Registers the native loader; loading the addon itself waits for the first native call.
  if (modelString.startsWith('native:')) await import('../llm/native-provider.js');
  return { model: await createLanguageModel(modelString), owned: true };
}

function runDirOf(runDir: OptimizationRunDirectory | string | undefined) {
  if (typeof runDir !== 'string') return { runDir, owned: undefined };
  const opened = RunDirectory.openOrCreate(runDir);
  return { runDir: opened, owned: opened };
}

function checkInputs(task: string, question: string, f: Objective, x0: string): void {
  if (typeof task !== 'string' || task.trim() === '')
    throw new OptNativeError('E_BAD_INPUT', 'optimize: the task description is empty');
  if (typeof question !== 'string' || question.trim() === '')
    throw new OptNativeError('E_BAD_INPUT', 'optimize: the question is empty');
  if (typeof f !== 'function') throw new OptNativeError('E_BAD_INPUT', 'optimize: f must be a function');
  if (typeof x0 !== 'string') throw new OptNativeError('E_BAD_INPUT', 'optimize: x0 must be a string');
}

export async function run(
  task: string,
  question: string,
  f: Objective,
  x0: string,
  options: OptimizeRunOptions = {},
): Promise<OptimizeResult> {
  checkInputs(task, question, f, x0);
  const settings = settingsOf(options);
  const budget = budgetOf(options.budget);
  const { model, owned: ownsModel } = await modelOf(options.model);
  const { runDir, owned: ownedRunDir } = runDirOf(options.runDir);
  const started = Date.now();
  try {
    const lanes = Array.from({ length: settings.proposalsPerStep }, () => {
      const meter = new UsageMeter(budget);
      return { steps: new StepRunner(meter, runDir, Date.now, options.signal), model: meter.wrap(model) };
    });
    const framing = { task, question, minimize: options.minimize ?? false };
    const session = new OptimizeSession(framing, f, lanes, settings);
    const stopReason = await session.run(x0);
    const best = session.best();
    return freezeDeep({
      bestX: best?.x ?? x0,
      bestScore: best?.score ?? null,
      history: session.history,
      usage: session.usage,
      evaluations: session.evaluationCount,
      steps: session.stepsDone,
      stopReason,
      wallMs: Date.now() - started,
    });
  } finally {
    ownedRunDir?.close();
    if (ownsModel) await model.dispose?.();
  }
}
