// The registered environments (ids and settings as minigrid/__init__.py registers them) and seeded resets.
import { OptNativeError } from '../errors.js';
import type { MinigridState, MinigridTask } from './dynamics.js';
import {
  buildCrossing,
  buildDoorKey,
  buildEmpty,
  buildFourRooms,
  buildLavaGap,
  type BuiltLayout,
} from './envs-basic.js';
import { buildMultiRoom } from './envs-multiroom.js';
import { buildKeyCorridor, buildUnlock, buildUnlockPickup } from './envs-rooms.js';
import { LayoutBuilder } from './layout.js';

interface EnvironmentDefinition {
  readonly width: number;
  readonly height: number;
  readonly maxSteps: number;
  readonly seeThroughWalls: boolean;
  readonly build: (builder: LayoutBuilder) => BuiltLayout;
}

function square(size: number, maxSteps: number, build: EnvironmentDefinition['build'], seeThroughWalls = false) {
  return { width: size, height: size, maxSteps, seeThroughWalls, build };
}

const DEFINITIONS: Record<string, EnvironmentDefinition> = {
  'MiniGrid-Empty-5x5-v0': square(5, 100, (builder) => buildEmpty(builder, false), true),
  'MiniGrid-Empty-8x8-v0': square(8, 256, (builder) => buildEmpty(builder, false), true),
  'MiniGrid-Empty-Random-5x5-v0': square(5, 100, (builder) => buildEmpty(builder, true), true),
  'MiniGrid-FourRooms-v0': square(19, 100, buildFourRooms),
  'MiniGrid-DoorKey-5x5-v0': square(5, 250, buildDoorKey),
  'MiniGrid-DoorKey-8x8-v0': square(8, 640, buildDoorKey),
  'MiniGrid-LavaGapS5-v0': square(5, 100, buildLavaGap),
  'MiniGrid-LavaGapS7-v0': square(7, 196, buildLavaGap),
  'MiniGrid-SimpleCrossingS9N1-v0': square(9, 324, (builder) => buildCrossing(builder, 1, 'wall')),
  'MiniGrid-LavaCrossingS9N1-v0': square(9, 324, (builder) => buildCrossing(builder, 1, 'lava')),
  'MiniGrid-MultiRoom-N2-S4-v0': square(25, 40, (builder) => buildMultiRoom(builder, 2, 2, 4)),
  'MiniGrid-Unlock-v0': { width: 11, height: 6, maxSteps: 288, seeThroughWalls: false, build: buildUnlock },
  'MiniGrid-KeyCorridorS3R1-v0': {
    width: 7,
    height: 3,
    maxSteps: 270,
    seeThroughWalls: false,
    build: (builder) => buildKeyCorridor(builder, 3, 1),
  },
  'MiniGrid-UnlockPickup-v0': { width: 11, height: 6, maxSteps: 288, seeThroughWalls: false, build: buildUnlockPickup },
};

export const ENVIRONMENT_IDS: readonly string[] = Object.keys(DEFINITIONS);

/** The full id for a full or short name (`DoorKey-5x5`, `minigrid-doorkey-5x5-v0`); E_BAD_INPUT when unknown. */
export function resolveEnvironmentId(name: string): string {
  const wanted = name.trim().toLowerCase();
  const found = ENVIRONMENT_IDS.find(
    (id) => id.toLowerCase() === wanted || id.toLowerCase() === `minigrid-${wanted}-v0`,
  );
  if (found === undefined) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `unknown Minigrid environment "${name}"; known: ${ENVIRONMENT_IDS.map((id) => id.slice(9, -3)).join(', ')}`,
    );
  }
  return found;
}

export interface MinigridEpisode {
  readonly task: MinigridTask;
  readonly state: MinigridState;
}

/** `gym.make(id).reset(seed=seed)`: the same layout, agent and mission as Farama Minigrid for the seed. */
export function resetEnvironment(name: string, seed: number): MinigridEpisode {
  const envId = resolveEnvironmentId(name);
  const definition = DEFINITIONS[envId] as EnvironmentDefinition;
  const builder = new LayoutBuilder(seed, definition.width, definition.height);
  const { mission, success } = definition.build(builder);
  const task = { envId, mission, success, maxSteps: definition.maxSteps, seeThroughWalls: definition.seeThroughWalls };
  const state = {
    grid: builder.grid,
    agentX: builder.agentX,
    agentY: builder.agentY,
    agentDir: builder.agentDir,
    carrying: null,
    stepCount: 0,
  };
  return { task, state };
}
