// MultiRoomEnv (minigrid/envs/multiroom.py): a chain of rooms grown by recursive placement, joined by closed doors.
import type { BuiltLayout } from './envs-basic.js';
import type { LayoutBuilder } from './layout.js';
import { COLOR_NAMES, makeObject } from './objects.js';

interface ChainRoom {
  top: [number, number];
  size: [number, number];
  entryDoor: [number, number];
}

interface RoomLimits {
  minSize: number;
  maxSize: number;
}

/** The room's top-left corner for an entry door on `wall` (0 east … 3 north of the previous room's exit). */
function roomTop(
  builder: LayoutBuilder,
  wall: number,
  door: [number, number],
  size: [number, number],
): [number, number] {
  const [doorX, doorY] = door;
  const [sizeX, sizeY] = size;
  if (wall === 0) return [doorX - sizeX + 1, builder.randInt(doorY - sizeY + 2, doorY)];
  if (wall === 1) return [builder.randInt(doorX - sizeX + 2, doorX), doorY - sizeY + 1];
  if (wall === 2) return [doorX, builder.randInt(doorY - sizeY + 2, doorY)];
  return [builder.randInt(doorX - sizeX + 2, doorX), doorY];
}

function fits(
  builder: LayoutBuilder,
  rooms: readonly ChainRoom[],
  top: [number, number],
  size: [number, number],
): boolean {
  const [topX, topY] = top;
  const [sizeX, sizeY] = size;
  if (topX < 0 || topY < 0) return false;
  if (topX + sizeX > builder.grid.width || topY + sizeY >= builder.grid.height) return false;
  return rooms
    .slice(0, -1)
    .every(
      (room) =>
        topX + sizeX < room.top[0] ||
        room.top[0] + room.size[0] <= topX ||
        topY + sizeY < room.top[1] ||
        room.top[1] + room.size[1] <= topY,
    );
}

function exitDoor(
  builder: LayoutBuilder,
  wall: number,
  top: [number, number],
  size: [number, number],
): [number, number] {
  const [topX, topY] = top;
  const [sizeX, sizeY] = size;
  if (wall === 0) return [topX + sizeX - 1, topY + builder.randInt(1, sizeY - 1)];
  if (wall === 1) return [topX + builder.randInt(1, sizeX - 1), topY + sizeY - 1];
  if (wall === 2) return [topX, topY + builder.randInt(1, sizeY - 1)];
  return [topX + builder.randInt(1, sizeX - 1), topY];
}

/** `_placeRoom`: whether a room (and, recursively, the rooms after it) could be placed. */
function placeRoom(
  builder: LayoutBuilder,
  roomsLeft: number,
  rooms: ChainRoom[],
  limits: RoomLimits,
  entryWall: number,
  entryDoor: [number, number],
): boolean {
  const size: [number, number] = [
    builder.randInt(limits.minSize, limits.maxSize + 1),
    builder.randInt(limits.minSize, limits.maxSize + 1),
  ];
  const top = rooms.length === 0 ? entryDoor : roomTop(builder, entryWall, entryDoor, size);
  if (!fits(builder, rooms, top, size)) return false;
  rooms.push({ top, size, entryDoor });
  if (roomsLeft === 1) return true;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const exitWall = builder.randElement([0, 1, 2, 3].filter((wall) => wall !== entryWall));
    const door = exitDoor(builder, exitWall, top, size);
    if (placeRoom(builder, roomsLeft - 1, rooms, limits, (exitWall + 2) % 4, door)) break;
  }
  return true;
}

function drawRooms(builder: LayoutBuilder, rooms: readonly ChainRoom[]): void {
  const wall = makeObject('wall');
  let previousColor: string | undefined;
  for (const [index, room] of rooms.entries()) {
    const [topX, topY] = room.top;
    const [sizeX, sizeY] = room.size;
    for (let x = 0; x < sizeX; x += 1) {
      builder.grid.set(topX + x, topY, wall);
      builder.grid.set(topX + x, topY + sizeY - 1, wall);
    }
    for (let y = 0; y < sizeY; y += 1) {
      builder.grid.set(topX, topY + y, wall);
      builder.grid.set(topX + sizeX - 1, topY + y, wall);
    }
    if (index === 0) continue;
    const color = builder.randElement(COLOR_NAMES.filter((name) => name !== previousColor));
    builder.grid.set(room.entryDoor[0], room.entryDoor[1], makeObject('door', color));
    previousColor = color;
  }
}

export function buildMultiRoom(
  builder: LayoutBuilder,
  minRooms: number,
  maxRooms: number,
  maxSize: number,
): BuiltLayout {
  const width = builder.grid.width;
  const roomCount = builder.randInt(minRooms, maxRooms + 1);
  let rooms: ChainRoom[] = [];
  while (rooms.length < roomCount) {
    const attempt: ChainRoom[] = [];
    const entryDoor: [number, number] = [builder.randInt(0, width - 2), builder.randInt(0, width - 2)];
    placeRoom(builder, roomCount, attempt, { minSize: 4, maxSize }, 2, entryDoor);
    if (attempt.length > rooms.length) rooms = attempt;
  }
  drawRooms(builder, rooms);
  const first = rooms[0] as ChainRoom;
  const last = rooms[rooms.length - 1] as ChainRoom;
  builder.placeAgent({ top: first.top, size: first.size });
  builder.place(makeObject('goal'), { top: last.top, size: last.size });
  return { mission: 'traverse the rooms to get to the goal', success: { kind: 'goal' } };
}
