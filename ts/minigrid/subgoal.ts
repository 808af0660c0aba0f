// The current subgoal in words: the first interaction on the optimal path from a state ("pick up the yellow key",
// "open the yellow door", "go to the green goal").
import { ACTIONS, frontPosition, step, type MinigridState } from './dynamics.js';
import type { WorldObject } from './objects.js';
import type { MinigridPlanner } from './planner.js';

function named(object: WorldObject): string {
  return `the ${object.color} ${object.type}`;
}

/** What the step from `before` by `action` achieves, or undefined when it only moves or turns the agent. */
function eventOf(planner: MinigridPlanner, before: MinigridState, action: number): string | undefined {
  const result = step(planner.task, before, action);
  const [frontX, frontY] = frontPosition(before);
  const front = before.grid.get(frontX, frontY);
  const name = ACTIONS[action];
  if (name === 'forward' && result.success && front !== null) return `go to ${named(front)}`;
  if (name === 'pickup' && result.state.carrying !== before.carrying && front !== null)
    return `pick up ${named(front)}`;
  if (name === 'drop' && before.carrying !== null && result.state.carrying === null)
    return `drop ${named(before.carrying)}`;
  if (name === 'toggle' && front !== null && (result.state.grid !== before.grid || result.success)) {
    if (front.type === 'door' && front.doorState === 'open')
      return result.success ? `open ${named(front)}` : `close ${named(front)}`;
    return `open ${named(front)}`;
  }
  return undefined;
}

/** The subgoal at `state`; undefined when success is out of reach. */
export function currentSubgoal(planner: MinigridPlanner, state: MinigridState): string | undefined {
  let current = state;
  for (const action of planner.optimalPath(state)) {
    const event = eventOf(planner, current, action);
    if (event !== undefined) return event;
    current = step(planner.task, current, action).state;
  }
  return undefined;
}
