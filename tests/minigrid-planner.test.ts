// The exact planner on hand-made grids with hand-computed distances, and against the shortest paths that a
// breadth-first search over Farama Minigrid found (the fixtures' expert walks).
import { describe, expect, it } from 'vitest';
import { step, type MinigridState, type MinigridTask, type SuccessRule } from '../ts/minigrid/dynamics.js';
import { resetEnvironment } from '../ts/minigrid/environments.js';
import { parseLetterGrid } from '../ts/minigrid/grid-text.js';
import { makeObject, type WorldObject } from '../ts/minigrid/objects.js';
import { MinigridPlanner } from '../ts/minigrid/planner.js';
import { currentSubgoal } from '../ts/minigrid/subgoal.js';
import { environmentFixtures } from './minigrid-fixtures.js';

const INF = Infinity;

type RuleFor = SuccessRule | ((grid: MinigridState['grid']) => SuccessRule);

function handMade(rows: string[], rule: RuleFor = { kind: 'goal' }, carrying: WorldObject | null = null) {
  const { grid, agentX, agentY, agentDir } = parseLetterGrid(rows.join('\n'));
  const success = typeof rule === 'function' ? rule(grid) : rule;
  const task: MinigridTask = { envId: 'hand-made', mission: 'test', maxSteps: 100, seeThroughWalls: false, success };
  const state: MinigridState = { grid, agentX, agentY, agentDir, carrying, stepCount: 0 };
  return { task, state, planner: new MinigridPlanner(task, state) };
}

describe('planner on hand-made grids', () => {
  it('a corridor: forward twice; turning costs a turn back, no-ops one step', () => {
    const { state, planner } = handMade(['WGWGWGWGWG', 'WG>>  GGWG', 'WGWGWGWGWG']);
    const analysis = planner.analyze(state);
    expect(analysis.distance).toBe(2);
    // left/right: 1 + (turn back 1 + 2); pickup/drop/toggle/done change nothing: 1 + 2.
    expect(analysis.actionDistances).toEqual([4, 4, 2, 3, 3, 3, 3]);
    expect(analysis.optimalActions).toEqual([2]);
    expect(analysis.regrets).toEqual([2, 2, 0, 1, 1, 1, 1]);
    expect(analysis.noOpActions).toEqual([3, 4, 5, 6]);
    expect(currentSubgoal(planner, state)).toBe('go to the green goal');
  });

  it('facing away from the goal: turning either way is optimal (a tie)', () => {
    // Agent at (2, 3) facing south; goal at (2, 1): two turns, two steps.
    const { state, planner } = handMade(['WGWGWGWGWG', 'WG  GG  WG', 'WG      WG', 'WG  VV  WG', 'WGWGWGWGWG']);
    const analysis = planner.analyze(state);
    expect(analysis.distance).toBe(4);
    expect(analysis.optimalActions).toEqual([0, 1]);
    expect(analysis.regrets).toEqual([0, 0, 1, 1, 1, 1, 1]);
    // Facing the wall: forward changes nothing, like the object actions with nothing ahead.
    expect(analysis.noOpActions).toEqual([2, 3, 4, 5, 6]);
  });

  it('lava ahead: forward is fatal; the way round the lava takes 7 steps', () => {
    const { state, planner } = handMade(['WGWGWGWGWG', 'WG>>VRGGWG', 'WG      WG', 'WGWGWGWGWG']);
    const analysis = planner.analyze(state);
    // right, forward, left, forward, forward, left, forward.
    expect(analysis.distance).toBe(7);
    // left faces north: two turns to face south, then the 6 steps after `right`.
    expect(analysis.actionDistances).toEqual([9, 7, INF, 8, 8, 8, 8]);
    expect(analysis.regrets).toEqual([2, 0, INF, 1, 1, 1, 1]);
    expect(planner.optimalPath(state)).toEqual([1, 2, 0, 2, 2, 0, 2]);
  });

  it('key, locked door, goal: the subgoals follow pickup → open → goal', () => {
    const { task, state, planner } = handMade(['WGWGWGWGWGWG', 'WG>>KYLYGGWG', 'WGWGWGWGWGWG']);
    const analysis = planner.analyze(state);
    // pickup, forward, toggle, forward (onto the open door), forward (goal).
    expect(analysis.distance).toBe(5);
    expect(analysis.actionDistances).toEqual([7, 7, 6, 5, 6, 6, 6]);
    expect(analysis.optimalActions).toEqual([3]);
    // The key blocks forward; toggling a key, dropping nothing and done change nothing either.
    expect(analysis.noOpActions).toEqual([2, 4, 5, 6]);
    expect(currentSubgoal(planner, state)).toBe('pick up the yellow key');
    const holding = step(task, state, 3).state;
    expect(currentSubgoal(planner, holding)).toBe('open the yellow door');
    const opened = step(task, step(task, holding, 2).state, 5).state;
    expect(planner.analyze(opened).distance).toBe(2);
    expect(currentSubgoal(planner, opened)).toBe('go to the green goal');
  });

  it("Unlock's rule: success is the toggle that opens the door", () => {
    const { state, planner } = handMade(['WGWGWGWGWG', 'WG>>KYLYWG', 'WGWGWGWGWG'], {
      kind: 'open-door',
      doorX: 3,
      doorY: 1,
    });
    expect(planner.analyze(state).distance).toBe(3);
    expect(planner.optimalPath(state)).toEqual([3, 2, 5]);
  });

  it('carrying a key in front of the target ball: drop it first (one object at a time)', () => {
    const rows = ['WGWGWGWGWG', 'WG>>ARWGWG', 'WG      WG', 'WGWGWGWGWG'];
    const ballRule = (grid: MinigridState['grid']): SuccessRule => ({
      kind: 'pickup',
      objectId: grid.get(2, 1)?.id ?? 0,
    });
    const { state, planner } = handMade(rows, ballRule, makeObject('key', 'yellow'));
    const analysis = planner.analyze(state);
    // right, drop (below the agent), left, pickup.
    expect(analysis.distance).toBe(4);
    expect(analysis.actionDistances).toEqual([6, 4, 5, 5, 5, 5, 5]);
    expect(currentSubgoal(planner, state)).toBe('drop the yellow key');
    expect(planner.optimalPath(state)).toEqual([1, 4, 0, 3]);
  });

  it('refuses a state it cannot reach and a search beyond its state budget', () => {
    const { task, state, planner } = handMade(['WGWGWGWGWG', 'WG>>  GGWG', 'WGWGWGWGWG']);
    const elsewhere = { ...state, agentX: 3 };
    expect(() => planner.analyze(elsewhere)).toThrow(expect.objectContaining({ code: 'E_BAD_INPUT' }));
    expect(() => new MinigridPlanner(task, state, 3)).toThrow(expect.objectContaining({ code: 'E_BUDGET' }));
  });
});

describe('planner against Minigrid shortest paths', () => {
  const expertWalks = environmentFixtures().flatMap((fixture) =>
    fixture.walks.filter((walk) => walk.optimalSteps !== undefined).map((walk) => [fixture.env, walk] as const),
  );

  it.each(expertWalks)('%s: the distance is the BFS length and every expert action is optimal', (envId, walk) => {
    const { task, state } = resetEnvironment(envId, walk.seed);
    const planner = new MinigridPlanner(task, state);
    let current = state;
    expect(planner.analyze(current).distance).toBe(walk.optimalSteps);
    for (const [index, recorded] of walk.steps.entries()) {
      const analysis = planner.analyze(current);
      expect(analysis.distance).toBe(walk.steps.length - index);
      expect(analysis.optimalActions).toContain(recorded.action);
      current = step(task, current, recorded.action).state;
    }
  });
});
