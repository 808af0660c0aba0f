// Minigrid's world objects and their integer encoding (minigrid/core/constants.py, world_object.py).

export const OBJECT_TYPES = ['unseen', 'empty', 'wall', 'floor', 'door', 'key', 'ball', 'box', 'goal', 'lava', 'agent'];
export type ObjectType = 'wall' | 'floor' | 'door' | 'key' | 'ball' | 'box' | 'goal' | 'lava';
/** The colour index order of the encoding (COLOR_TO_IDX). */
export const COLORS = ['red', 'green', 'blue', 'purple', 'yellow', 'grey'] as const;
export type Color = (typeof COLORS)[number];
/** Colours in the order Minigrid draws random ones from (COLOR_NAMES is sorted). */
export const COLOR_NAMES: readonly Color[] = [...COLORS].sort();
export const DOOR_STATES = ['open', 'closed', 'locked'] as const;
export type DoorState = (typeof DOOR_STATES)[number];

/**
 * One object on the grid. Objects are immutable: a toggled door is a new record with the same `id`, and a carried
 * key dropped elsewhere is the same record, so the planner can follow objects by id.
 */
export interface WorldObject {
  readonly id: number;
  readonly type: ObjectType;
  readonly color: Color;
  /** Doors only. */
  readonly doorState?: DoorState;
  /** Boxes only: what toggling the box leaves in its place. */
  readonly contains?: WorldObject | null;
}

const DEFAULT_COLORS: Record<ObjectType, Color> = {
  wall: 'grey',
  floor: 'blue',
  door: 'blue',
  key: 'blue',
  ball: 'blue',
  box: 'blue',
  goal: 'green',
  lava: 'red',
};

let nextObjectId = 1;

/** A new object with a fresh id (Minigrid's constructors, with their default colours). */
export function makeObject(
  type: ObjectType,
  color: Color = DEFAULT_COLORS[type],
  extra: { doorState?: DoorState; contains?: WorldObject | null } = {},
): WorldObject {
  const object: WorldObject = { id: nextObjectId, type, color, ...extra };
  nextObjectId += 1;
  if (type === 'door' && object.doorState === undefined) return { ...object, doorState: 'closed' };
  return object;
}

export function canOverlap(object: WorldObject | null): boolean {
  if (object === null) return true;
  if (object.type === 'door') return object.doorState === 'open';
  return object.type === 'goal' || object.type === 'floor' || object.type === 'lava';
}

export function canPickup(object: WorldObject | null): boolean {
  return object !== null && (object.type === 'key' || object.type === 'ball' || object.type === 'box');
}

export function seeBehind(object: WorldObject | null): boolean {
  if (object === null) return true;
  if (object.type === 'wall') return false;
  if (object.type === 'door') return object.doorState === 'open';
  return true;
}

/** The (object index, colour index, state) triple of `Grid.encode`; an empty cell is (1, 0, 0). */
export function encodeObject(object: WorldObject | null): [number, number, number] {
  if (object === null) return [1, 0, 0];
  const state = object.doorState === undefined ? 0 : DOOR_STATES.indexOf(object.doorState);
  return [OBJECT_TYPES.indexOf(object.type), COLORS.indexOf(object.color), state];
}

/** The object a triple stands for (`WorldObj.decode`): null for unseen, empty and agent. */
export function decodeObject(typeIndex: number, colorIndex: number, state: number): WorldObject | null {
  const type = OBJECT_TYPES[typeIndex];
  const color = COLORS[colorIndex];
  if (type === undefined || color === undefined) throw new RangeError(`no object ${typeIndex}/${colorIndex}`);
  if (type === 'unseen' || type === 'empty' || type === 'agent') return null;
  if (type === 'door') return makeObject('door', color, { doorState: DOOR_STATES[state] ?? 'closed' });
  if (type === 'box') return makeObject('box', color, { contains: null });
  return makeObject(type as ObjectType, color);
}
