// The RoomGrid environments (minigrid/envs/unlock.py, keycorridor.py, unlockpickup.py).
import type { BuiltLayout } from './envs-basic.js';
import type { LayoutBuilder } from './layout.js';
import { RoomGrid } from './room-grid.js';

/** Two rooms; success is toggling while the locked door (whose key lies in the agent's room) is open. */
export function buildUnlock(builder: LayoutBuilder): BuiltLayout {
  const rooms = new RoomGrid(builder, 6, 1, 2);
  const [door, [doorX, doorY]] = rooms.addDoor(0, 0, 0, undefined, true);
  rooms.addObject(0, 0, 'key', door.color);
  rooms.placeAgent(0, 0);
  return { mission: 'open the door', success: { kind: 'open-door', doorX, doorY } };
}

/** A corridor of rooms; the ball sits behind a locked door whose key is in a side room. */
export function buildKeyCorridor(builder: LayoutBuilder, roomSize: number, rows: number): BuiltLayout {
  const rooms = new RoomGrid(builder, roomSize, rows, 3);
  for (let row = 1; row < rows; row += 1) rooms.removeWall(1, row, 3);
  const roomIndex = builder.randInt(0, rows);
  const [door] = rooms.addDoor(2, roomIndex, 2, undefined, true);
  const [ball] = rooms.addObject(2, roomIndex, 'ball');
  rooms.addObject(0, builder.randInt(0, rows), 'key', door.color);
  rooms.placeAgent(1, Math.floor(rows / 2));
  rooms.connectAll();
  return { mission: `pick up the ${ball.color} ball`, success: { kind: 'pickup', objectId: ball.id } };
}

/** Two rooms; the box is behind a locked door whose key is in the agent's room. */
export function buildUnlockPickup(builder: LayoutBuilder): BuiltLayout {
  const rooms = new RoomGrid(builder, 6, 1, 2);
  const [box] = rooms.addObject(1, 0, 'box');
  const [door] = rooms.addDoor(0, 0, 0, undefined, true);
  rooms.addObject(0, 0, 'key', door.color);
  rooms.placeAgent(0, 0);
  return { mission: `pick up the ${box.color} box`, success: { kind: 'pickup', objectId: box.id } };
}
