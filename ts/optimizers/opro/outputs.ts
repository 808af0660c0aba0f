import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OptimizationUsage } from '../contract.js';
import type { EvaluatedCandidate } from './memory.js';

export type CandidateStatus = 'evaluated' | 'rejected' | 'evaluation_failed';

/** One line of opro_prompts.jsonl: every candidate, evaluated or not, with why it was refused. */
export interface CandidateRecord {
  readonly prompt: string;
  readonly reward: number | null;
  readonly ba_clip: number | null;
  readonly ba_conditions: number | null;
  readonly prompt_length: number;
  readonly iteration: number;
  readonly timestamp: number | null;
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly status: CandidateStatus;
  readonly rejection_reason: string | null;
}

/** Token usage and time of one iteration (iteration 0 = baseline and initial prompts). */
export interface IterationStats {
  readonly iteration: number;
  readonly candidates: number;
  readonly evaluated: number;
  readonly rejected: number;
  readonly calls: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cache_hits: number;
  readonly cost: number;
  readonly wall_time_s: number;
  readonly best_reward: number | null;
}

export interface OproOutputState {
  readonly records: readonly CandidateRecord[];
  readonly memory: readonly EvaluatedCandidate[];
  readonly iterationStats: readonly IterationStats[];
  readonly usage: OptimizationUsage;
  readonly wallTimeMs: number;
  readonly stopReason: string | null;
}

export const OUTPUT_FILES = {
  bestPrompt: 'best_prompt.txt',
  bestMetrics: 'best_metrics.json',
  summary: 'best_prompt_summary.json',
  prompts: 'opro_prompts.jsonl',
  memory: 'opro_memory.json',
  history: 'opro_history.json',
} as const;

/** Write-then-rename, so a kill mid-write leaves the previous complete file, never a torn one. */
export function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** opro_history.json: rewards of evaluated candidates in order, best-so-far per iteration, per-iteration stats. */
export function historySummary(state: OproOutputState): Record<string, unknown> {
  const evaluated = state.records.filter((record) => record.status === 'evaluated');
  const bestSoFar: number[] = [];
  let best = -Infinity;
  for (const iteration of [...new Set(evaluated.map((record) => record.iteration))].sort((a, b) => a - b)) {
    for (const record of evaluated) if (record.iteration === iteration) best = Math.max(best, record.reward ?? best);
    bestSoFar.push(best);
  }
  return {
    iterations: evaluated.map((record) => record.iteration),
    rewards: evaluated.map((record) => record.reward),
    best_reward_per_iteration: bestSoFar,
    iteration_stats: state.iterationStats,
    usage: state.usage,
    wall_time_s: state.wallTimeMs / 1000,
    stop_reason: state.stopReason,
    usable_candidates: usableCandidates(state.records),
  };
}

/**
 * How many of the optimizer model's candidates (iterations 1..) passed screening and were worth an evaluation; the
 * baseline and initial prompts of iteration 0 are not the optimizer's and are left out.
 */
export function usableCandidates(records: readonly CandidateRecord[]): {
  proposed: number;
  usable: number;
  share: number | null;
} {
  const proposed = records.filter((record) => record.iteration > 0);
  const usable = proposed.filter((record) => record.status !== 'rejected').length;
  return { proposed: proposed.length, usable, share: proposed.length === 0 ? null : usable / proposed.length };
}

/** best_prompt_summary.json, as the original tool wrote it plus usage and why the run stopped. */
export function bestSummary(state: OproOutputState, best: EvaluatedCandidate): Record<string, unknown> {
  return {
    best_prompt: best.prompt,
    reward: best.reward,
    ba_clip: best.ba_clip,
    ba_conditions: best.ba_conditions,
    prompt_length: best.prompt_length,
    iteration: best.iteration,
    stop_reason: state.stopReason,
    usage: state.usage,
    wall_time_s: state.wallTimeMs / 1000,
  };
}

/** Writes the six files of the original OPRO Classic tool into `dir`. */
export function writeOproOutputs(
  dir: string,
  state: OproOutputState,
  extraSummary: Record<string, unknown> = {},
): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(
    join(dir, OUTPUT_FILES.prompts),
    state.records.map((record) => `${JSON.stringify(record)}\n`).join(''),
  );
  writeFileAtomic(join(dir, OUTPUT_FILES.memory), json(state.memory));
  writeFileAtomic(join(dir, OUTPUT_FILES.history), json(historySummary(state)));
  const best = state.memory[0];
  if (best) {
    writeFileAtomic(join(dir, OUTPUT_FILES.bestPrompt), best.prompt);
    writeFileAtomic(join(dir, OUTPUT_FILES.bestMetrics), json(best));
    writeFileAtomic(join(dir, OUTPUT_FILES.summary), json({ ...bestSummary(state, best), ...extraSummary }));
  }
}
