// Our Minigrid against Farama Minigrid 3.2.0: the layout reset(seed) builds, and step by step the 7×7 observation,
// agent pose, reward, terminated/truncated and carried object of recorded walks
// (tests/fixtures/minigrid, made by scripts/make_minigrid_fixture.py).
import { describe, expect, it } from 'vitest';
import { step, type MinigridState, type MinigridTask } from '../ts/minigrid/dynamics.js';
import { resetEnvironment } from '../ts/minigrid/environments.js';
import { encodeTriplesText } from '../ts/minigrid/grid.js';
import { parseTriplesText } from '../ts/minigrid/grid-text.js';
import { encodeObject } from '../ts/minigrid/objects.js';
import { observationImage } from '../ts/minigrid/observation.js';
import { environmentFixtures, type FixtureLayout, type FixtureWalk } from './minigrid-fixtures.js';

const FIXTURES = environmentFixtures();

function layoutOf(state: MinigridState, task: MinigridTask): FixtureLayout {
  return {
    seed: 0,
    grid: encodeTriplesText(state.grid.encodeRows()),
    agent: [state.agentX, state.agentY],
    dir: state.agentDir,
    mission: task.mission,
  };
}

function carryingText(state: MinigridState): string {
  return state.carrying === null
    ? ''
    : encodeObject(state.carrying)
        .map((value) => value.toString(16))
        .join('');
}

/** Replays the walk from `start`, comparing every step; returns the number of steps compared. */
function replay(task: MinigridTask, start: MinigridState, walk: FixtureWalk): number {
  let state = start;
  expect(encodeTriplesText(observationImage(task, state))).toBe(walk.obs);
  for (const [index, expected] of walk.steps.entries()) {
    const result = step(task, state, expected.action);
    state = result.state;
    const actual = {
      obs: encodeTriplesText(observationImage(task, state)),
      agent: [state.agentX, state.agentY],
      dir: state.agentDir,
      terminated: result.terminated,
      truncated: result.truncated,
      carrying: carryingText(state),
    };
    const { action, reward, ...recorded } = expected;
    expect(actual, `step ${index} (action ${action})`).toEqual(recorded);
    expect(result.reward).toBeCloseTo(reward, 10);
  }
  return walk.steps.length;
}

describe.each(FIXTURES.map((fixture) => [fixture.env, fixture] as const))('%s', (envId, fixture) => {
  it('reset(seed) builds the same grid, agent and mission as Minigrid', () => {
    for (const expected of [...fixture.walks, ...fixture.layouts]) {
      const { task, state } = resetEnvironment(envId, expected.seed);
      expect(task.maxSteps).toBe(fixture.maxSteps);
      expect(task.seeThroughWalls).toBe(fixture.seeThroughWalls);
      const { seed: _seed, obs: _obs, steps: _steps, optimalSteps: _optimal, ...layout } = expected as FixtureWalk;
      expect({ ...layoutOf(state, task), seed: expected.seed }, `seed ${expected.seed}`).toEqual({
        ...layout,
        seed: expected.seed,
      });
    }
  });

  it('steps like Minigrid from our reset: observations, pose, rewards, termination, carrying', () => {
    let compared = 0;
    for (const walk of fixture.walks) {
      const { task, state } = resetEnvironment(envId, walk.seed);
      compared += replay(task, state, walk);
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('steps like Minigrid from the recorded grid itself (dynamics apart from generation)', () => {
    for (const walk of fixture.walks) {
      const { task } = resetEnvironment(envId, walk.seed);
      const grid = parseTriplesText(walk.grid);
      const start = {
        grid,
        agentX: walk.agent[0],
        agentY: walk.agent[1],
        agentDir: walk.dir,
        carrying: null,
        stepCount: 0,
      };
      const decodedTask = { ...task, success: successOnDecodedGrid(task, grid) };
      replay(decodedTask, start, walk);
    }
  });
});

/** A decoded grid has fresh object ids: point a pickup rule at the decoded object of the mission's kind. */
function successOnDecodedGrid(task: MinigridTask, grid: MinigridState['grid']) {
  if (task.success.kind !== 'pickup') return task.success;
  const [, color, type] = /pick up the (\w+) (\w+)/.exec(task.mission) ?? [];
  const target = grid.cells.find((cell) => cell?.type === type && cell?.color === color);
  return { kind: 'pickup' as const, objectId: target?.id ?? -1 };
}

describe('success rewards', () => {
  it('the expert walks end rewarded at 1 - 0.9 * steps / max_steps', () => {
    const expert = FIXTURES.flatMap((fixture) =>
      fixture.walks.filter((walk) => walk.optimalSteps !== undefined).map((walk) => ({ fixture, walk })),
    );
    expect(expert.length).toBe(10);
    for (const { fixture, walk } of expert) {
      const last = walk.steps[walk.steps.length - 1];
      expect(last?.terminated).toBe(true);
      expect(last?.reward).toBeCloseTo(1 - (0.9 * walk.steps.length) / fixture.maxSteps, 10);
    }
  });
});
