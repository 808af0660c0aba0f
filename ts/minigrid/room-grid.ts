// RoomGrid (minigrid/core/roomgrid.py): a lattice of square rooms sharing walls, with doors, objects placed away from
// the agent's start, and connect_all's random doors; the base of Unlock, KeyCorridor and UnlockPickup.
import { DIRECTION_VECTORS } from './dynamics.js';
import type { LayoutBuilder } from './layout.js';
import { COLOR_NAMES, makeObject, type Color, type WorldObject } from './objects.js';

interface Room {
  readonly top: [number, number];
  readonly size: [number, number];
  /** Per wall (0 east, 1 south, 2 west, 3 north): the door, `true` for a removed wall, undefined for none. */
  readonly doors: (WorldObject | true | undefined)[];
  readonly doorPositions: ([number, number] | undefined)[];
  readonly neighbors: (Room | undefined)[];
  locked: boolean;
}

export class RoomGrid {
  readonly rooms: Room[][] = [];

  constructor(
    readonly builder: LayoutBuilder,
    readonly roomSize: number,
    readonly rows: number,
    readonly columns: number,
  ) {
    for (let row = 0; row < rows; row += 1) {
      const line: Room[] = [];
      for (let column = 0; column < columns; column += 1) {
        const top: [number, number] = [column * (roomSize - 1), row * (roomSize - 1)];
        line.push({ top, size: [roomSize, roomSize], doors: [], doorPositions: [], neighbors: [], locked: false });
        builder.grid.wallRect(top[0], top[1], roomSize, roomSize);
      }
      this.rooms.push(line);
    }
    this.chooseDoorPositions();
    builder.agentX = Math.floor(columns / 2) * (roomSize - 1) + Math.floor(roomSize / 2);
    builder.agentY = Math.floor(rows / 2) * (roomSize - 1) + Math.floor(roomSize / 2);
    builder.agentDir = 0;
  }

  room(column: number, row: number): Room {
    const room = this.rooms[row]?.[column];
    if (room === undefined) throw new RangeError(`no room (${column}, ${row})`);
    return room;
  }

  private chooseDoorPositions(): void {
    for (let row = 0; row < this.rows; row += 1) {
      for (let column = 0; column < this.columns; column += 1) {
        const room = this.room(column, row);
        const [left, top] = [room.top[0] + 1, room.top[1] + 1];
        const [right, bottom] = [room.top[0] + room.size[0] - 1, room.top[1] + room.size[1] - 1];
        if (column < this.columns - 1) {
          room.neighbors[0] = this.room(column + 1, row);
          room.doorPositions[0] = [right, this.builder.randInt(top, bottom)];
        }
        if (row < this.rows - 1) {
          room.neighbors[1] = this.room(column, row + 1);
          room.doorPositions[1] = [this.builder.randInt(left, right), bottom];
        }
        if (column > 0) {
          room.neighbors[2] = this.room(column - 1, row);
          room.doorPositions[2] = this.room(column - 1, row).doorPositions[0];
        }
        if (row > 0) {
          room.neighbors[3] = this.room(column, row - 1);
          room.doorPositions[3] = this.room(column, row - 1).doorPositions[1];
        }
      }
    }
  }

  /** `add_object`: a key, ball or box in the room, at least two steps from the agent's (provisional) start. */
  addObject(
    column: number,
    row: number,
    kind?: 'key' | 'ball' | 'box',
    color?: Color,
  ): [WorldObject, [number, number]] {
    const type = kind ?? this.builder.randElement(['key', 'ball', 'box'] as const);
    const objectColor = color ?? this.builder.randColor();
    const object = makeObject(type, objectColor, type === 'box' ? { contains: null } : {});
    const room = this.room(column, row);
    const position = this.builder.place(object, {
      top: room.top,
      size: room.size,
      reject: (builder, x, y) => Math.abs(builder.agentX - x) + Math.abs(builder.agentY - y) < 2,
      maxTries: 1000,
    });
    return [object, position];
  }

  /** `add_door` on wall `wall` of the room (random free wall, colour and lock when not given). */
  addDoor(
    column: number,
    row: number,
    wall?: number,
    color?: Color,
    locked?: boolean,
  ): [WorldObject, [number, number]] {
    const room = this.room(column, row);
    let doorWall = wall;
    while (doorWall === undefined) {
      const candidate = this.builder.randInt(0, 4);
      if (room.neighbors[candidate] && room.doors[candidate] === undefined) doorWall = candidate;
    }
    const doorColor = color ?? this.builder.randColor();
    const isLocked = locked ?? this.builder.randBool();
    const position = room.doorPositions[doorWall];
    const neighbor = room.neighbors[doorWall];
    if (room.doors[doorWall] !== undefined || position === undefined || neighbor === undefined) {
      throw new Error(`no door can go on wall ${doorWall} of room (${column}, ${row})`);
    }
    room.locked = isLocked;
    const door = makeObject('door', doorColor, { doorState: isLocked ? 'locked' : 'closed' });
    this.builder.grid.set(position[0], position[1], door);
    room.doors[doorWall] = door;
    neighbor.doors[(doorWall + 2) % 4] = door;
    return [door, position];
  }

  /** `remove_wall`: open the whole wall between the room and its neighbour (corners stay). */
  removeWall(column: number, row: number, wall: number): void {
    const room = this.room(column, row);
    const neighbor = room.neighbors[wall];
    if (neighbor === undefined || room.doors[wall] !== undefined) throw new Error(`cannot remove wall ${wall}`);
    const [topX, topY] = room.top;
    const [width, height] = room.size;
    for (let offset = 1; offset < (wall % 2 === 0 ? height : width) - 1; offset += 1) {
      if (wall === 0) this.builder.grid.set(topX + width - 1, topY + offset, null);
      if (wall === 1) this.builder.grid.set(topX + offset, topY + height - 1, null);
      if (wall === 2) this.builder.grid.set(topX, topY + offset, null);
      if (wall === 3) this.builder.grid.set(topX + offset, topY, null);
    }
    room.doors[wall] = true;
    neighbor.doors[(wall + 2) % 4] = true;
  }

  /** RoomGrid's `place_agent`: redraw until the agent does not face an object other than a wall. */
  placeAgent(column: number, row: number): void {
    const room = this.room(column, row);
    for (;;) {
      this.builder.placeAgent({ top: room.top, size: room.size, maxTries: 1000 });
      const [dx, dy] = DIRECTION_VECTORS[this.builder.agentDir] ?? [0, 0];
      const front = this.builder.grid.get(this.builder.agentX + dx, this.builder.agentY + dy);
      if (front === null || front.type === 'wall') return;
    }
  }

  private roomAt(x: number, y: number): Room {
    return this.room(Math.floor(x / (this.roomSize - 1)), Math.floor(y / (this.roomSize - 1)));
  }

  private reachableRooms(start: Room): Set<Room> {
    const reached = new Set<Room>();
    const stack = [start];
    for (let room = stack.pop(); room !== undefined; room = stack.pop()) {
      if (reached.has(room)) continue;
      reached.add(room);
      for (let wall = 0; wall < 4; wall += 1) {
        const neighbor = room.neighbors[wall];
        if (room.doors[wall] && neighbor) stack.push(neighbor);
      }
    }
    return reached;
  }

  /** `connect_all`: random unlocked doors until every room is reachable from the agent's room. */
  connectAll(maxIterations = 5000): void {
    const start = this.roomAt(this.builder.agentX, this.builder.agentY);
    for (let iteration = 0; ; iteration += 1) {
      if (iteration > maxIterations) throw new Error('connect_all failed');
      if (this.reachableRooms(start).size === this.rows * this.columns) return;
      const column = this.builder.randInt(0, this.columns);
      const row = this.builder.randInt(0, this.rows);
      const wall = this.builder.randInt(0, 4);
      const room = this.room(column, row);
      const neighbor = room.neighbors[wall];
      if (room.doorPositions[wall] === undefined || room.doors[wall] !== undefined || neighbor === undefined) continue;
      if (room.locked || neighbor.locked) continue;
      this.addDoor(column, row, wall, this.builder.randElement(COLOR_NAMES), false);
    }
  }
}
