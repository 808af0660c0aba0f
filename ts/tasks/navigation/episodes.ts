/**
 * Closed-loop evaluation: the agent acts in the environment itself (from `reset(env, seed)`) until the episode ends
 * or `maxSteps` actions; success is Minigrid's (goal reached or the mission's rule met). An unparseable reply ends the
 * episode as a failure.
 */
import type { LanguageModel } from '../../llm/types.js';
import { ACTIONS, step } from '../../minigrid/dynamics.js';
import { hintFor, type HintType } from '../../minigrid/dataset.js';
import type { MinigridTask } from '../../minigrid/dynamics.js';
import { encodeObservation, type Encoding } from '../../minigrid/encodings.js';
import { resetEnvironment } from '../../minigrid/environments.js';
import { MinigridPlanner } from '../../minigrid/planner.js';
import { currentSubgoal } from '../../minigrid/subgoal.js';
import { predictAction, type AgentProgram } from './program.js';

export interface EpisodeOutcome {
  readonly env: string;
  readonly seed: number;
  readonly success: boolean;
  readonly steps: number;
  readonly actions: readonly string[];
}

export interface EpisodeOptions {
  readonly encoding: Encoding;
  /** The hint given with each state, as in the dataset; `none` gives none (and needs no planner). */
  readonly hintType: HintType | 'none';
  readonly maxSteps: number;
  readonly signal?: AbortSignal;
}

export async function runEpisode(
  model: LanguageModel,
  program: AgentProgram,
  env: string,
  seed: number,
  options: EpisodeOptions,
): Promise<EpisodeOutcome> {
  const { task, state: start } = resetEnvironment(env, seed);
  let state = start;
  const planner = options.hintType === 'none' ? undefined : new MinigridPlanner(task as MinigridTask, start);
  const actions: string[] = [];
  while (actions.length < options.maxSteps) {
    const observation = encodeObservation(task, state, options.encoding);
    const hint =
      planner && options.hintType !== 'none'
        ? hintFor(options.hintType, planner.analyze(state).optimalActions, currentSubgoal(planner, state) ?? '')
        : undefined;
    const { action } = await predictAction(model, program, { mission: task.mission, observation, hint }, options);
    if (action === null) break;
    actions.push(action);
    const result = step(task, state, ACTIONS.indexOf(action));
    if (result.terminated || result.truncated) {
      return { env: task.envId, seed, success: result.success, steps: actions.length, actions };
    }
    state = result.state;
  }
  return { env: task.envId, seed, success: false, steps: actions.length, actions };
}
