/** Held-out scoring, closed-loop episodes and distillation traces, each a recorded step of the run directory. */
import type { LanguageModel } from '../../llm/types.js';
import type { RunDirectory } from '../../run/run-directory.js';
import {
  agentMessages,
  runEpisode,
  type AgentProgram,
  type AiFeedbackMetric,
  type EpisodeOutcome,
  type NavigationExample,
  type Verdict,
} from '../../tasks/navigation/index.js';
import { promptDigest } from '../engine/steps.js';
import { runProgram } from '../mipro/evaluate.js';
import type { MiproAdapter } from '../mipro/program.js';
import { labeledReply, observationOf } from './adapter.js';
import type { TeacherStudentSettings } from './settings.js';

export interface ScoredState {
  readonly id: string;
  readonly reply: string;
  readonly action: string | null;
  readonly score: number;
  readonly exact: boolean;
  readonly verdict: Verdict | null;
  readonly secondVerdict?: Verdict | null;
}

export interface EvaluationContext {
  readonly runDir: RunDirectory;
  readonly adapter: MiproAdapter<NavigationExample>;
  readonly metric: AiFeedbackMetric;
  readonly settings: TeacherStudentSettings;
  readonly signal?: AbortSignal;
}

function digestOf(parts: unknown): string {
  return promptDigest(JSON.stringify(parts));
}

/**
 * The program on `examples` with `model`: per-state reply, action, score and verdicts. The step records the replies
 * only and the metric grades them each time, so a resumed run follows the current metric (the assessor's verdicts
 * come from the response cache). Run directories written before 2026-12-04 recorded scored states; their replies are
 * read back the same way.
 */
export async function scoreStates(
  context: EvaluationContext,
  label: string,
  model: LanguageModel,
  program: AgentProgram,
  examples: readonly NavigationExample[],
): Promise<ScoredState[]> {
  const key = `teacher-student/eval/${label}/${digestOf([model.modelId, program, examples.map((e) => e.id)])}`;
  const recorded = await context.runDir.runStep(key, async () => {
    const run = await runProgram(context.adapter, model, program, examples, context.signal);
    return examples.map((_, index) => run.replies[index] ?? '');
  });
  const replies = (recorded as readonly RecordedReply[]).map(replyOf);
  return gradeReplies(context.metric, examples, replies, context.signal);
}

/** A recorded held-out reply: the reply itself, or (before 2026-12-04) a scored state that holds it. */
export type RecordedReply = string | { readonly reply: string };

export function replyOf(entry: RecordedReply): string {
  return typeof entry === 'string' ? entry : entry.reply;
}

/** Each example's reply graded by the metric, in order. */
export async function gradeReplies(
  metric: AiFeedbackMetric,
  examples: readonly NavigationExample[],
  replies: readonly string[],
  signal?: AbortSignal,
): Promise<ScoredState[]> {
  const states: ScoredState[] = [];
  for (const [index, example] of examples.entries()) {
    const reply = replies[index] ?? '';
    states.push({ id: example.id, reply, ...(await metric(example, reply, signal)) });
  }
  return states;
}

/** Unique (env, seed) pairs of the held-out states, in order, at most `count`. */
export function heldOutSeeds(examples: readonly NavigationExample[], count: number): { env: string; seed: number }[] {
  const seen = new Map<string, { env: string; seed: number }>();
  for (const { env, seed } of examples) if (!seen.has(`${env}#${seed}`)) seen.set(`${env}#${seed}`, { env, seed });
  return [...seen.values()].slice(0, count);
}

export async function runEpisodes(
  context: EvaluationContext,
  model: LanguageModel,
  program: AgentProgram,
  seeds: readonly { env: string; seed: number }[],
): Promise<EpisodeOutcome[]> {
  const { settings } = context;
  const outcomes: EpisodeOutcome[] = [];
  for (const { env, seed } of seeds) {
    const key = `teacher-student/episode/${env}/${seed}/${digestOf([model.modelId, program, settings.episodeMaxSteps])}`;
    outcomes.push(
      await context.runDir.runStep(key, () =>
        runEpisode(model, program, env, seed, {
          encoding: settings.encodingType,
          hintType: settings.hintType,
          maxSteps: settings.episodeMaxSteps,
          signal: context.signal,
        }),
      ),
    );
  }
  return outcomes;
}

/** Chat-format training rows: the planner's labelled reply on each state, under `program`. */
export function plannerRows(
  settings: TeacherStudentSettings,
  program: AgentProgram,
  examples: readonly NavigationExample[],
): string[] {
  return examples.map((example) =>
    JSON.stringify({
      messages: [
        ...agentMessages(program, observationOf(example, settings.hintType)),
        { role: 'assistant', content: labeledReply(example) },
      ],
    }),
  );
}

/** Chat-format training rows from the student's 1.0-scored traces (any fine-tuning service reads them). */
export function distillationRows(
  settings: TeacherStudentSettings,
  program: AgentProgram,
  examples: readonly NavigationExample[],
  states: readonly ScoredState[],
): string[] {
  return states.flatMap((state, index) => {
    const example = examples[index];
    if (state.score < 1 || example === undefined) return [];
    const messages = [
      ...agentMessages(program, observationOf(example, settings.hintType)),
      { role: 'assistant', content: state.reply },
    ];
    return [JSON.stringify({ messages })];
  });
}
