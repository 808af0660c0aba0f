// The agent's egocentric partial view (MiniGridEnv.gen_obs_grid / gen_obs): a 7×7 window in front of the agent,
// rotated so the agent looks up from the bottom-middle cell, walls hiding what is behind them.
import type { MinigridState, MinigridTask } from './dynamics.js';
import type { Grid } from './grid.js';

export const VIEW_SIZE = 7;

/** The top-left corner of the view window in grid coordinates (`get_view_exts`). */
function viewTopLeft(state: MinigridState, size: number): [number, number] {
  const half = Math.floor(size / 2);
  const { agentX: x, agentY: y } = state;
  switch (state.agentDir) {
    case 0:
      return [x, y - half];
    case 1:
      return [x - half, y];
    case 2:
      return [x - size + 1, y - half];
    default:
      return [x - half, y - size + 1];
  }
}

export interface ObservedView {
  /** The view grid: the agent stands at (3, 6) facing up (-y); it holds what the agent carries. */
  readonly grid: Grid;
  /** Visible cells, indexed y * size + x. */
  readonly visible: readonly boolean[];
}

export function observeView(task: MinigridTask, state: MinigridState, size = VIEW_SIZE): ObservedView {
  const [left, top] = viewTopLeft(state, size);
  let grid = state.grid.slice(left, top, size, size);
  for (let turn = 0; turn < state.agentDir + 1; turn += 1) grid = grid.rotateLeft();
  const [agentX, agentY] = [Math.floor(size / 2), size - 1];
  const visible = task.seeThroughWalls
    ? new Array<boolean>(size * size).fill(true)
    : grid.processVisibility(agentX, agentY);
  grid.set(agentX, agentY, state.carrying);
  return { grid, visible };
}

/** The observation image, `obs["image"]` as rows: `rows[y][x]` = (object, colour, state); unseen is (0, 0, 0). */
export function observationImage(task: MinigridTask, state: MinigridState): [number, number, number][][] {
  const view = observeView(task, state);
  return view.grid.encodeRows(view.visible);
}
