// What identifies a planning state: the agent's pose, what it carries and where every movable or openable object is
// (by id, with door states). The step count is left out: the planner ignores the step limit.
import type { MinigridState } from './dynamics.js';
import { DOOR_STATES } from './objects.js';

const DYNAMIC_TYPES = new Set(['door', 'key', 'ball', 'box']);

export function stateKey(state: MinigridState): string {
  const { grid } = state;
  let key = `${(state.agentY * grid.width + state.agentX) * 4 + state.agentDir},${state.carrying?.id ?? 0}`;
  const cells = grid.cells;
  for (let index = 0; index < cells.length; index += 1) {
    const cell = cells[index];
    if (cell === null || cell === undefined || !DYNAMIC_TYPES.has(cell.type)) continue;
    key += `;${index}:${cell.id}`;
    if (cell.doorState !== undefined) key += `:${DOOR_STATES.indexOf(cell.doorState)}`;
  }
  return key;
}
