// The placement helpers every Minigrid environment builds its layout with (MiniGridEnv._rand_*, place_obj,
// place_agent), drawing from numpy's generator in the same order as Python so that a seed gives the same layout.
import { Grid } from './grid.js';
import { NumpyGenerator } from './numpy-random.js';
import { COLOR_NAMES, type Color, type WorldObject } from './objects.js';

export type RejectPosition = (builder: LayoutBuilder, x: number, y: number) => boolean;

export interface PlaceOptions {
  top?: readonly [number, number];
  size?: readonly [number, number];
  reject?: RejectPosition;
  maxTries?: number;
}

export class LayoutBuilder {
  readonly random: NumpyGenerator;
  grid: Grid;
  agentX = -1;
  agentY = -1;
  agentDir = -1;

  constructor(seed: number, width: number, height: number) {
    this.random = new NumpyGenerator(seed);
    this.grid = new Grid(width, height);
  }

  /** `_rand_int`: uniform in [low, high). */
  randInt(low: number, high: number): number {
    return this.random.integers(low, high);
  }

  randBool(): boolean {
    return this.randInt(0, 2) === 0;
  }

  randElement<T>(items: readonly T[]): T {
    return items[this.randInt(0, items.length)] as T;
  }

  randColor(): Color {
    return this.randElement(COLOR_NAMES);
  }

  /** `put_obj`. */
  put(object: WorldObject, x: number, y: number): void {
    this.grid.set(x, y, object);
  }

  /** `place_obj`: rejection-sample an empty cell (not the agent's) in the rectangle and put `object` there. */
  place(object: WorldObject | null, options: PlaceOptions = {}): [number, number] {
    const top = options.top ? [Math.max(options.top[0], 0), Math.max(options.top[1], 0)] : [0, 0];
    const size = options.size ?? [this.grid.width, this.grid.height];
    const [left, upper] = top as [number, number];
    for (let tries = 0; ; tries += 1) {
      if (tries > (options.maxTries ?? Infinity)) throw new Error('rejection sampling failed in place_obj');
      const x = this.randInt(left, Math.min(left + size[0], this.grid.width));
      const y = this.randInt(upper, Math.min(upper + size[1], this.grid.height));
      if (this.grid.get(x, y) !== null) continue;
      if (x === this.agentX && y === this.agentY) continue;
      if (options.reject?.(this, x, y)) continue;
      this.grid.set(x, y, object);
      return [x, y];
    }
  }

  /** `place_agent`: an empty cell in the rectangle, then (by default) a random direction. */
  placeAgent(options: PlaceOptions & { randomDirection?: boolean } = {}): [number, number] {
    this.agentX = -1;
    this.agentY = -1;
    const [x, y] = this.place(null, options);
    this.agentX = x;
    this.agentY = y;
    if (options.randomDirection ?? true) this.agentDir = this.randInt(0, 4);
    return [x, y];
  }
}
