/** The Farama Minigrid fixtures made by scripts/make_minigrid_fixture.py (minigrid 3.2.0, numpy 2.x). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURE_DIR = join(import.meta.dirname, 'fixtures', 'minigrid');

export interface FixtureStep {
  action: number;
  obs: string;
  agent: [number, number];
  dir: number;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  carrying: string;
}

export interface FixtureLayout {
  seed: number;
  grid: string;
  agent: [number, number];
  dir: number;
  mission: string;
  obs?: string;
}

export interface FixtureWalk extends FixtureLayout {
  obs: string;
  steps: FixtureStep[];
  optimalSteps?: number;
}

export interface EnvironmentFixture {
  env: string;
  maxSteps: number;
  seeThroughWalls: boolean;
  walks: FixtureWalk[];
  layouts: FixtureLayout[];
}

export function environmentFixtures(): EnvironmentFixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((name) => name.startsWith('MiniGrid-'))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(FIXTURE_DIR, name), 'utf8')) as EnvironmentFixture);
}
