// Minigrid's Grid: cells indexed (x, y) with x the column, plus the slicing, rotation and visibility that the
// agent's egocentric view is made from (minigrid/core/grid.py).
import { canOverlap, encodeObject, makeObject, seeBehind, type ObjectType, type WorldObject } from './objects.js';

export type Cell = WorldObject | null;

export class Grid {
  readonly cells: Cell[];

  constructor(
    readonly width: number,
    readonly height: number,
    cells?: Cell[],
  ) {
    this.cells = cells ?? new Array<Cell>(width * height).fill(null);
  }

  get(x: number, y: number): Cell {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) throw new RangeError(`(${x}, ${y}) is off the grid`);
    return this.cells[y * this.width + x] ?? null;
  }

  set(x: number, y: number, cell: Cell): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) throw new RangeError(`(${x}, ${y}) is off the grid`);
    this.cells[y * this.width + x] = cell;
  }

  /** A copy with one cell replaced; the original is left alone (states share grids until one changes). */
  with(x: number, y: number, cell: Cell): Grid {
    const copy = new Grid(this.width, this.height, this.cells.slice());
    copy.set(x, y, cell);
    return copy;
  }

  /** A fresh object per cell, as Minigrid's walls take `obj_type()` per cell. */
  horizontalWall(x: number, y: number, length = this.width - x, type: ObjectType = 'wall'): void {
    for (let offset = 0; offset < length; offset += 1) this.set(x + offset, y, makeObject(type));
  }

  verticalWall(x: number, y: number, length = this.height - y, type: ObjectType = 'wall'): void {
    for (let offset = 0; offset < length; offset += 1) this.set(x, y + offset, makeObject(type));
  }

  wallRect(x: number, y: number, width: number, height: number): void {
    this.horizontalWall(x, y, width);
    this.horizontalWall(x, y + height - 1, width);
    this.verticalWall(x, y, height);
    this.verticalWall(x + width - 1, y, height);
  }

  /** The sub-grid from (left, top); cells off the grid read as walls. */
  slice(left: number, top: number, width: number, height: number): Grid {
    const sliced = new Grid(width, height);
    const offGridWall = makeObject('wall');
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const [sourceX, sourceY] = [left + x, top + y];
        const inside = sourceX >= 0 && sourceY >= 0 && sourceX < this.width && sourceY < this.height;
        sliced.set(x, y, inside ? this.get(sourceX, sourceY) : offGridWall);
      }
    }
    return sliced;
  }

  /** Rotated a quarter turn counter-clockwise. */
  rotateLeft(): Grid {
    const rotated = new Grid(this.height, this.width);
    for (let x = 0; x < this.width; x += 1) {
      for (let y = 0; y < this.height; y += 1) rotated.set(y, rotated.height - 1 - x, this.get(x, y));
    }
    return rotated;
  }

  /** Minigrid's `process_vis`: which cells the agent at `(agentX, agentY)` sees; the hidden ones are emptied. */
  processVisibility(agentX: number, agentY: number): boolean[] {
    const mask = new Array<boolean>(this.width * this.height).fill(false);
    const seen = (x: number, y: number): boolean => mask[y * this.width + x] ?? false;
    const show = (x: number, y: number): void => {
      mask[y * this.width + x] = true;
    };
    show(agentX, agentY);
    for (let y = this.height - 1; y >= 0; y -= 1) {
      for (let x = 0; x < this.width - 1; x += 1) this.spreadVisibility(x, y, 1, seen, show);
      for (let x = this.width - 1; x > 0; x -= 1) this.spreadVisibility(x, y, -1, seen, show);
    }
    for (let index = 0; index < mask.length; index += 1) if (!mask[index]) this.cells[index] = null;
    return mask;
  }

  private spreadVisibility(
    x: number,
    y: number,
    step: 1 | -1,
    seen: (x: number, y: number) => boolean,
    show: (x: number, y: number) => void,
  ): void {
    if (!seen(x, y) || !seeBehind(this.get(x, y))) return;
    show(x + step, y);
    if (y > 0) {
      show(x + step, y - 1);
      show(x, y - 1);
    }
  }

  /** `Grid.encode(vis_mask)` as rows of triples: `result[y][x]`, hidden cells (0, 0, 0). */
  encodeRows(visible?: readonly boolean[]): [number, number, number][][] {
    return Array.from({ length: this.height }, (_, y) =>
      Array.from({ length: this.width }, (_, x): [number, number, number] =>
        visible === undefined || visible[y * this.width + x] ? encodeObject(this.get(x, y)) : [0, 0, 0],
      ),
    );
  }

  /** Whether the agent may stand on (x, y). */
  walkable(x: number, y: number): boolean {
    return canOverlap(this.get(x, y));
  }
}

/** A grid as one string: per row, per cell, three base-16 digits (object, colour, state); rows joined by '/'. */
export function encodeTriplesText(rows: readonly (readonly (readonly number[])[])[]): string {
  return rows.map((row) => row.map((triple) => triple.map((value) => value.toString(16)).join('')).join('')).join('/');
}
