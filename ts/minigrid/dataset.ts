// Navigation data from the planner: expert rollouts plus rollouts with random (never fatal) detours, each state
// labelled with its optimal action set, per-action regrets and subgoal; split by environment seed.
import { SeededRandom, deriveSeed } from '../random.js';
import { OptNativeError } from '../errors.js';
import { ACTIONS, step, type Action, type MinigridState, type MinigridTask } from './dynamics.js';
import { encodeObservation, type Encoding } from './encodings.js';
import { resetEnvironment } from './environments.js';
import { MinigridPlanner } from './planner.js';
import { stateKey } from './state-key.js';
import { currentSubgoal } from './subgoal.js';

export type HintType = 'action' | 'subgoal';
export const SPLITS = ['train', 'dev', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface MinigridSample {
  env: string;
  seed: number;
  episode: number;
  step: number;
  /** `expert` while every action so far was optimal; `off-path` after a detour. */
  source: 'expert' | 'off-path';
  mission: string;
  direction: number;
  encoding: Encoding;
  observation: string;
  optimal_actions: string[];
  optimal_action_ids: Action[];
  /** The expert's action (the lowest optimal id): the sample's category. */
  category: Action;
  /** Per action name: steps lost against the optimum; null when the action makes success impossible (lava). */
  regrets: Record<string, number | null>;
  /** The actions that change nothing here; a judge does not count them as reasonable alternatives. Absent in data
   * written before 2026-12-04. */
  no_op_actions?: string[];
  distance: number;
  subgoal: string;
  hint: string;
}

export interface RolloutOptions {
  encoding: Encoding;
  hintType: HintType;
  episodes: number;
  /** Chance per step, in detour episodes, of a random action with finite regret instead of the expert's. */
  detourProbability: number;
}

export function hintFor(hintType: HintType, optimal: readonly Action[], subgoal: string): string {
  if (hintType === 'subgoal') return subgoal;
  const names = optimal.map((action) => ACTIONS[action] ?? '');
  return names.length === 1 ? `${names[0]}` : `any of: ${names.join(', ')}`;
}

function sampleOf(
  planner: MinigridPlanner,
  state: MinigridState,
  context: { seed: number; episode: number; offPath: boolean; options: RolloutOptions },
): MinigridSample {
  const { task } = planner;
  const analysis = planner.analyze(state);
  const subgoal = currentSubgoal(planner, state) ?? '';
  const optimal = [...analysis.optimalActions];
  return {
    env: task.envId,
    seed: context.seed,
    episode: context.episode,
    step: state.stepCount,
    source: context.offPath ? 'off-path' : 'expert',
    mission: task.mission,
    direction: state.agentDir,
    encoding: context.options.encoding,
    observation: encodeObservation(task, state, context.options.encoding),
    optimal_actions: optimal.map((action) => ACTIONS[action] ?? ''),
    optimal_action_ids: optimal,
    category: optimal[0] ?? 0,
    regrets: Object.fromEntries(
      analysis.regrets.map((regret, action) => [ACTIONS[action], Number.isFinite(regret) ? regret : null]),
    ),
    no_op_actions: analysis.noOpActions.map((action) => ACTIONS[action] ?? ''),
    distance: analysis.distance,
    subgoal,
    hint: hintFor(context.options.hintType, optimal, subgoal),
  };
}

function chooseAction(planner: MinigridPlanner, state: MinigridState, random: SeededRandom, detour: number): Action {
  const analysis = planner.analyze(state);
  const expert = analysis.optimalActions[0] ?? 0;
  if (detour <= 0 || random.integer(0, 999) >= detour * 1000) return expert;
  const safe = analysis.regrets.flatMap((regret, action) => (Number.isFinite(regret) ? [action] : []));
  return safe[random.integer(0, safe.length - 1)] ?? expert;
}

/** One episode's labelled states: episode 0 follows the planner; later ones take random detours. */
function rollout(
  planner: MinigridPlanner,
  start: MinigridState,
  seed: number,
  episode: number,
  options: RolloutOptions,
) {
  const random = new SeededRandom(deriveSeed(seed, planner.task.envId, episode));
  const detour = episode === 0 ? 0 : options.detourProbability;
  const samples: { key: string; sample: MinigridSample }[] = [];
  let [state, offPath] = [start, false];
  while (state.stepCount < planner.task.maxSteps && planner.analyze(state).distance < Infinity) {
    samples.push({ key: stateKey(state), sample: sampleOf(planner, state, { seed, episode, offPath, options }) });
    const action = chooseAction(planner, state, random, detour);
    offPath ||= !planner.analyze(state).optimalActions.includes(action);
    const result = step(planner.task, state, action);
    if (result.terminated || result.truncated) break;
    state = result.state;
  }
  return samples;
}

/** Every distinct labelled state of `episodes` rollouts from `reset(envId, seed)`. */
export function samplesForSeed(envId: string, seed: number, options: RolloutOptions): MinigridSample[] {
  const { task, state } = resetEnvironment(envId, seed);
  const planner = new MinigridPlanner(task as MinigridTask, state);
  const byKey = new Map<string, MinigridSample>();
  for (let episode = 0; episode < options.episodes; episode += 1) {
    for (const { key, sample } of rollout(planner, state, seed, episode, options))
      if (!byKey.has(key)) byKey.set(key, sample);
  }
  return [...byKey.values()];
}

/**
 * Seeds `first … first + count - 1` split in order by the weights; every split with a weight gets at least one seed
 * (E_BAD_INPUT when there are too few seeds for that), so no seed is in two splits.
 */
export function splitSeeds(
  first: number,
  count: number,
  weights: readonly [number, number, number],
): Record<SplitName, number[]> {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const wanted = weights.filter((weight) => weight > 0).length;
  if (total <= 0 || count < wanted) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `${count} seeds cannot fill ${wanted} splits; use --seeds ${wanted} or more`,
    );
  }
  const share = (weight: number): number => (weight > 0 ? Math.max(1, Math.round((count * weight) / total)) : 0);
  const [dev, test] = [share(weights[1]), share(weights[2])];
  const train = weights[0] > 0 ? Math.max(1, count - dev - test) : 0;
  const seeds = Array.from({ length: count }, (_, index) => first + index);
  return {
    train: seeds.slice(0, train),
    dev: seeds.slice(train, train + dev),
    test: seeds.slice(train + dev, weights[2] > 0 ? count : train + dev),
  };
}

/** Up to `perCategory` samples per category (seeded choice, original order kept), with the counts kept. */
export function samplePerCategory(
  samples: readonly MinigridSample[],
  perCategory: number | undefined,
  seed: number,
): { samples: MinigridSample[]; counts: Record<string, number> } {
  const random = new SeededRandom(seed);
  const chosen = new Set<MinigridSample>();
  for (const action of ACTIONS.keys()) {
    const inCategory = samples.filter((sample) => sample.category === action);
    const kept = perCategory === undefined ? inCategory : random.sample(inCategory, perCategory);
    for (const sample of kept) chosen.add(sample);
  }
  const kept = samples.filter((sample) => chosen.has(sample));
  const counts = Object.fromEntries(
    ACTIONS.map((name, action) => [name, kept.filter((sample) => sample.category === action).length]),
  );
  return { samples: kept, counts };
}
