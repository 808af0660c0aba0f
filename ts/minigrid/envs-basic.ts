// Layouts of the single-room and crossing environments (minigrid/envs/empty.py, fourrooms.py, doorkey.py,
// lavagap.py, crossing.py), drawing in Python's order.
import type { SuccessRule } from './dynamics.js';
import type { LayoutBuilder } from './layout.js';
import { makeObject, type ObjectType } from './objects.js';

export interface BuiltLayout {
  mission: string;
  success: SuccessRule;
}

const REACH_GOAL: SuccessRule = { kind: 'goal' };

export function buildEmpty(builder: LayoutBuilder, randomStart: boolean): BuiltLayout {
  const { width, height } = builder.grid;
  builder.grid.wallRect(0, 0, width, height);
  builder.put(makeObject('goal'), width - 2, height - 2);
  if (randomStart) builder.placeAgent();
  else [builder.agentX, builder.agentY, builder.agentDir] = [1, 1, 0];
  return { mission: 'get to the green goal square', success: REACH_GOAL };
}

export function buildFourRooms(builder: LayoutBuilder): BuiltLayout {
  const { grid } = builder;
  const { width, height } = grid;
  grid.horizontalWall(0, 0);
  grid.horizontalWall(0, height - 1);
  grid.verticalWall(0, 0);
  grid.verticalWall(width - 1, 0);
  const [roomWidth, roomHeight] = [Math.floor(width / 2), Math.floor(height / 2)];
  for (let row = 0; row < 2; row += 1) {
    for (let column = 0; column < 2; column += 1) {
      const [left, top] = [column * roomWidth, row * roomHeight];
      const [right, bottom] = [left + roomWidth, top + roomHeight];
      if (column + 1 < 2) {
        grid.verticalWall(right, top, roomHeight);
        grid.set(right, builder.randInt(top + 1, bottom), null);
      }
      if (row + 1 < 2) {
        grid.horizontalWall(left, bottom, roomWidth);
        grid.set(builder.randInt(left + 1, right), bottom, null);
      }
    }
  }
  builder.placeAgent();
  builder.place(makeObject('goal'));
  return { mission: 'reach the goal', success: REACH_GOAL };
}

export function buildDoorKey(builder: LayoutBuilder): BuiltLayout {
  const { width, height } = builder.grid;
  builder.grid.wallRect(0, 0, width, height);
  builder.put(makeObject('goal'), width - 2, height - 2);
  const splitIndex = builder.randInt(2, width - 2);
  builder.grid.verticalWall(splitIndex, 0);
  builder.placeAgent({ size: [splitIndex, height] });
  const doorIndex = builder.randInt(1, height - 2);
  builder.put(makeObject('door', 'yellow', { doorState: 'locked' }), splitIndex, doorIndex);
  builder.place(makeObject('key', 'yellow'), { top: [0, 0], size: [splitIndex, height] });
  return { mission: 'use the key to open the door and then get to the goal', success: REACH_GOAL };
}

export function buildLavaGap(builder: LayoutBuilder): BuiltLayout {
  const { width, height } = builder.grid;
  builder.grid.wallRect(0, 0, width, height);
  [builder.agentX, builder.agentY, builder.agentDir] = [1, 1, 0];
  builder.put(makeObject('goal'), width - 2, height - 2);
  const gapX = builder.randInt(2, width - 2);
  const gapY = builder.randInt(1, height - 1);
  builder.grid.verticalWall(gapX, 1, height - 2, 'lava');
  builder.grid.set(gapX, gapY, null);
  return { mission: 'avoid the lava and get to the green goal square', success: REACH_GOAL };
}

type River = readonly ['vertical' | 'horizontal', number];

function range(from: number, to: number, step = 1): number[] {
  const values: number[] = [];
  for (let value = from; value < to; value += step) values.push(value);
  return values;
}

/** CrossingEnv: rivers of `obstacle` (lava or wall) with one opening per river on a random monotone path. */
export function buildCrossing(builder: LayoutBuilder, crossings: number, obstacle: ObjectType): BuiltLayout {
  const { grid } = builder;
  const { width, height } = grid;
  grid.wallRect(0, 0, width, height);
  [builder.agentX, builder.agentY, builder.agentDir] = [1, 1, 0];
  builder.put(makeObject('goal'), width - 2, height - 2);
  const rivers: River[] = [
    ...range(2, height - 2, 2).map((x): River => ['vertical', x]),
    ...range(2, width - 2, 2).map((y): River => ['horizontal', y]),
  ];
  builder.random.shuffle(rivers);
  const chosen = rivers.slice(0, crossings);
  const columns = chosen
    .filter(([kind]) => kind === 'vertical')
    .map(([, at]) => at)
    .sort((a, b) => a - b);
  const rows = chosen
    .filter(([kind]) => kind === 'horizontal')
    .map(([, at]) => at)
    .sort((a, b) => a - b);
  for (const y of rows) for (const x of range(1, width - 1)) builder.put(makeObject(obstacle), x, y);
  for (const x of columns) for (const y of range(1, height - 1)) builder.put(makeObject(obstacle), x, y);
  openCrossings(builder, columns, rows);
  const mission =
    obstacle === 'lava'
      ? 'avoid the lava and get to the green goal square'
      : 'find the opening and get to the green goal square';
  return { mission, success: REACH_GOAL };
}

/** One opening per river: a shuffled path of moves across vertical ('h' steps) and horizontal ('v' steps) rivers. */
function openCrossings(builder: LayoutBuilder, columns: readonly number[], rows: readonly number[]): void {
  const { width, height } = builder.grid;
  const path: ('h' | 'v')[] = [...columns.map(() => 'h' as const), ...rows.map(() => 'v' as const)];
  builder.random.shuffle(path);
  const limitsX = [0, ...columns, height - 1];
  const limitsY = [0, ...rows, width - 1];
  let [roomX, roomY] = [0, 0];
  for (const direction of path) {
    if (direction === 'h') {
      const x = limitsX[roomX + 1] ?? 0;
      const y = builder.random.choice(range((limitsY[roomY] ?? 0) + 1, limitsY[roomY + 1] ?? 0));
      builder.grid.set(x, y, null);
      roomX += 1;
    } else {
      const x = builder.random.choice(range((limitsX[roomX] ?? 0) + 1, limitsX[roomX + 1] ?? 0));
      const y = limitsY[roomY + 1] ?? 0;
      builder.grid.set(x, y, null);
      roomY += 1;
    }
  }
}
