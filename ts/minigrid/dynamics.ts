// One Minigrid step (MiniGridEnv.step plus the success rules Unlock, KeyCorridor and UnlockPickup add), on immutable
// states so that the planner can branch from any state.
import { Grid } from './grid.js';
import { canOverlap, canPickup, type WorldObject } from './objects.js';

export const ACTIONS = ['left', 'right', 'forward', 'pickup', 'drop', 'toggle', 'done'] as const;
export type ActionName = (typeof ACTIONS)[number];
/** An action id, 0..6 in ACTIONS order (Minigrid's Actions enum). */
export type Action = number;
/** Forward moves per direction: 0 east (+x), 1 south (+y), 2 west, 3 north. */
export const DIRECTION_VECTORS: readonly (readonly [number, number])[] = [
  [1, 0],
  [0, 1],
  [-1, 0],
  [0, -1],
];

/** What ends an episode with a reward, besides stepping onto the goal. */
export type SuccessRule =
  | { readonly kind: 'goal' }
  | { readonly kind: 'open-door'; readonly doorX: number; readonly doorY: number }
  | { readonly kind: 'pickup'; readonly objectId: number };

export interface MinigridTask {
  readonly envId: string;
  readonly mission: string;
  readonly maxSteps: number;
  readonly seeThroughWalls: boolean;
  readonly success: SuccessRule;
}

export interface MinigridState {
  readonly grid: Grid;
  readonly agentX: number;
  readonly agentY: number;
  readonly agentDir: number;
  readonly carrying: WorldObject | null;
  readonly stepCount: number;
}

export interface StepResult {
  readonly state: MinigridState;
  readonly reward: number;
  readonly terminated: boolean;
  readonly truncated: boolean;
  /** Terminated by reaching the goal or the environment's rule (not by lava); the planner's goal test. */
  readonly success: boolean;
}

export function frontPosition(state: MinigridState): [number, number] {
  const [dx, dy] = DIRECTION_VECTORS[state.agentDir] ?? [0, 0];
  return [state.agentX + dx, state.agentY + dy];
}

/** Minigrid's `_reward`: 1 at step 0, falling linearly to 0.1 at the step limit. */
export function successReward(stepCount: number, maxSteps: number): number {
  return 1 - 0.9 * (stepCount / maxSteps);
}

/** `Door.toggle` / `Box.toggle`: the cell after toggling it, or undefined when nothing happens. */
function toggled(cell: WorldObject, carrying: WorldObject | null): WorldObject | null | undefined {
  if (cell.type === 'box') return cell.contains ?? null;
  if (cell.type !== 'door') return undefined;
  if (cell.doorState === 'locked') {
    const matchingKey = carrying?.type === 'key' && carrying.color === cell.color;
    return matchingKey ? { ...cell, doorState: 'open' } : undefined;
  }
  return { ...cell, doorState: cell.doorState === 'open' ? 'closed' : 'open' };
}

interface Moved {
  state: MinigridState;
  reachedGoal: boolean;
  fellInLava: boolean;
}

/** The base step's effect on the state, before rewards. */
function applyAction(before: MinigridState, action: Action): Moved {
  const state = { ...before, stepCount: before.stepCount + 1 };
  const [frontX, frontY] = frontPosition(before);
  const front = before.grid.get(frontX, frontY);
  const unchanged: Moved = { state, reachedGoal: false, fellInLava: false };
  switch (ACTIONS[action]) {
    case 'left':
      return { ...unchanged, state: { ...state, agentDir: (before.agentDir + 3) % 4 } };
    case 'right':
      return { ...unchanged, state: { ...state, agentDir: (before.agentDir + 1) % 4 } };
    case 'forward': {
      const moved = canOverlap(front) ? { ...state, agentX: frontX, agentY: frontY } : state;
      return { state: moved, reachedGoal: front?.type === 'goal', fellInLava: front?.type === 'lava' };
    }
    case 'pickup':
      if (!canPickup(front) || before.carrying !== null) return unchanged;
      return { ...unchanged, state: { ...state, carrying: front, grid: before.grid.with(frontX, frontY, null) } };
    case 'drop':
      if (front !== null || before.carrying === null) return unchanged;
      return {
        ...unchanged,
        state: { ...state, carrying: null, grid: before.grid.with(frontX, frontY, before.carrying) },
      };
    case 'toggle': {
      const after = front === null ? undefined : toggled(front, before.carrying);
      if (after === undefined) return unchanged;
      return { ...unchanged, state: { ...state, grid: before.grid.with(frontX, frontY, after) } };
    }
    case 'done':
      return unchanged;
    default:
      throw new RangeError(`unknown Minigrid action ${action}`);
  }
}

/** Whether the environment's own rule (Unlock: the door is open after a toggle; pickup the target) fires. */
function ruleSucceeds(task: MinigridTask, state: MinigridState, action: Action): boolean {
  const rule = task.success;
  if (rule.kind === 'open-door') {
    return ACTIONS[action] === 'toggle' && state.grid.get(rule.doorX, rule.doorY)?.doorState === 'open';
  }
  if (rule.kind === 'pickup') return ACTIONS[action] === 'pickup' && state.carrying?.id === rule.objectId;
  return false;
}

export function step(task: MinigridTask, before: MinigridState, action: Action): StepResult {
  const { state, reachedGoal, fellInLava } = applyAction(before, action);
  const succeeded = reachedGoal || ruleSucceeds(task, state, action);
  return {
    state,
    reward: succeeded ? successReward(state.stepCount, task.maxSteps) : 0,
    terminated: succeeded || fellInLava,
    truncated: state.stepCount >= task.maxSteps,
    success: succeeded,
  };
}
