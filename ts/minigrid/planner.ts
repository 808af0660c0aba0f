// An exact planner: breadth-first exploration of every state reachable from a start (agent pose, carried object,
// object positions, door states), then shortest distances to success by a backward sweep. From them, per state, the
// distance of each action (1 + the distance after it), the set of optimal actions and each action's regret.
import { OptNativeError } from '../errors.js';
import { ACTIONS, step, type Action, type MinigridState, type MinigridTask } from './dynamics.js';
import { stateKey } from './state-key.js';

/** A successor code: the state's index, or one of these outcomes. */
const SUCCESS = -1;
const DEAD = -2;
const ACTION_COUNT = ACTIONS.length;
export const DEFAULT_MAX_STATES = 2_000_000;

export interface ActionAnalysis {
  /** Steps to success from this state when acting optimally; Infinity when success is out of reach. */
  readonly distance: number;
  /** Per action id: steps to success taking that action first, then acting optimally (Infinity: never). */
  readonly actionDistances: readonly number[];
  /** The actions whose distance is the minimum (ties are common); empty when success is out of reach. */
  readonly optimalActions: readonly Action[];
  /** Per action id: its distance minus the optimum (0 for optimal actions; Infinity for fatal ones). */
  readonly regrets: readonly number[];
  /** The actions that leave the state as it was (a wall ahead, nothing to pick up): each loses exactly one step. */
  readonly noOpActions: readonly Action[];
}

export class MinigridPlanner {
  private readonly states: MinigridState[] = [];
  private readonly indexByKey = new Map<string, number>();
  private readonly successors: number[] = [];
  private distances: Int32Array = new Int32Array(0);

  constructor(
    readonly task: MinigridTask,
    start: MinigridState,
    readonly maxStates = DEFAULT_MAX_STATES,
  ) {
    this.explore(start);
    this.sweepBackward();
  }

  get stateCount(): number {
    return this.states.length;
  }

  private intern(state: MinigridState): number {
    const key = stateKey(state);
    const known = this.indexByKey.get(key);
    if (known !== undefined) return known;
    if (this.states.length >= this.maxStates) {
      throw new OptNativeError(
        'E_BUDGET',
        `${this.task.envId}: more than ${this.maxStates} reachable states to plan over`,
      );
    }
    this.indexByKey.set(key, this.states.length);
    this.states.push(state);
    return this.states.length - 1;
  }

  private explore(start: MinigridState): void {
    this.intern(start);
    for (let index = 0; index < this.states.length; index += 1) {
      const state = this.states[index] as MinigridState;
      for (let action = 0; action < ACTION_COUNT; action += 1) {
        const result = step(this.task, state, action);
        const outcome = result.success ? SUCCESS : result.terminated ? DEAD : this.intern(result.state);
        this.successors.push(outcome);
      }
    }
  }

  /** Multi-source BFS on reversed edges from the states one action away from success. */
  private sweepBackward(): void {
    const count = this.states.length;
    const predecessorStart = new Int32Array(count + 1);
    for (const next of this.successors)
      if (next >= 0) predecessorStart[next + 1] = (predecessorStart[next + 1] ?? 0) + 1;
    for (let index = 0; index < count; index += 1) {
      predecessorStart[index + 1] = (predecessorStart[index + 1] ?? 0) + (predecessorStart[index] ?? 0);
    }
    const fill = predecessorStart.slice(0, count);
    const predecessors = new Int32Array(predecessorStart[count] ?? 0);
    this.successors.forEach((next, edge) => {
      if (next >= 0) predecessors[(fill[next] as number)++] = Math.floor(edge / ACTION_COUNT);
    });
    this.distances = new Int32Array(count).fill(-1);
    const queue: number[] = [];
    for (let index = 0; index < count; index += 1) {
      if (this.outcomes(index).includes(SUCCESS)) {
        this.distances[index] = 1;
        queue.push(index);
      }
    }
    for (let head = 0; head < queue.length; head += 1) {
      const current = queue[head] as number;
      for (let edge = predecessorStart[current] ?? 0; edge < (predecessorStart[current + 1] ?? 0); edge += 1) {
        const previous = predecessors[edge] as number;
        if (this.distances[previous] !== -1) continue;
        this.distances[previous] = (this.distances[current] ?? 0) + 1;
        queue.push(previous);
      }
    }
  }

  private outcomes(index: number): number[] {
    return this.successors.slice(index * ACTION_COUNT, (index + 1) * ACTION_COUNT);
  }

  private distanceOf(index: number): number {
    const distance = this.distances[index] ?? -1;
    return distance < 0 ? Infinity : distance;
  }

  private indexOf(state: MinigridState): number {
    const index = this.indexByKey.get(stateKey(state));
    if (index === undefined)
      throw new OptNativeError('E_BAD_INPUT', 'the state is not reachable from the planner start');
    return index;
  }

  /** Distances, optimal set and regrets of the seven actions in `state` (a state reachable from the start). */
  analyze(state: MinigridState): ActionAnalysis {
    const index = this.indexOf(state);
    const actionDistances = this.outcomes(index).map((next) =>
      next === SUCCESS ? 1 : next === DEAD ? Infinity : 1 + this.distanceOf(next),
    );
    const distance = this.distanceOf(index);
    const optimalActions =
      distance === Infinity ? [] : actionDistances.flatMap((value, action) => (value === distance ? [action] : []));
    const regrets = actionDistances.map((value) => (distance === Infinity ? Infinity : value - distance));
    const noOpActions = this.outcomes(index).flatMap((next, action) => (next === index ? [action] : []));
    return { distance, actionDistances, optimalActions, regrets, noOpActions };
  }

  /** The shortest action sequence to success, taking the lowest-numbered optimal action at each step. */
  optimalPath(state: MinigridState): Action[] {
    const path: Action[] = [];
    let current = state;
    for (;;) {
      const [action] = this.analyze(current).optimalActions;
      if (action === undefined) return path;
      path.push(action);
      const result = step(this.task, current, action);
      if (result.success) return path;
      current = result.state;
    }
  }
}
