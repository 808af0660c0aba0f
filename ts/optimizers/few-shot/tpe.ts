/**
 * A seeded Tree-structured Parzen Estimator over categorical parameters (Bergstra et al. 2011, as Optuna's
 * TPESampler does for categorical distributions): after `startupTrials` random trials, observations are split into
 * the best `gamma` fraction (l) and the rest (g); each parameter gets a smoothed frequency estimate in both, and
 * the next trial is the one of `candidates` draws from l that maximizes l(x)/g(x).
 */
import { SeededRandom } from '../../random.js';

/** Number of choices per parameter name. */
export type CategoricalSpace = Readonly<Record<string, number>>;
export type Trial = Readonly<Record<string, number>>;

export interface Observation {
  readonly params: Trial;
  /** Higher is better. */
  readonly value: number;
}

export interface TpeOptions {
  readonly seed: number;
  readonly startupTrials?: number;
  readonly gamma?: number;
  readonly candidates?: number;
  /** Weight of the uniform prior in each Parzen estimate. */
  readonly priorWeight?: number;
}

const RESOLUTION = 1_000_000;

export class CategoricalTpe {
  private readonly random: SeededRandom;
  private readonly startupTrials: number;
  private readonly gamma: number;
  private readonly candidates: number;
  private readonly priorWeight: number;

  constructor(
    private readonly space: CategoricalSpace,
    options: TpeOptions,
  ) {
    for (const [name, size] of Object.entries(space)) {
      if (!Number.isInteger(size) || size < 1) throw new RangeError(`parameter ${name} needs at least one choice`);
    }
    this.random = new SeededRandom(options.seed);
    this.startupTrials = options.startupTrials ?? 3;
    this.gamma = options.gamma ?? 0.25;
    this.candidates = options.candidates ?? 24;
    this.priorWeight = options.priorWeight ?? 1;
  }

  private uniform(): number {
    return this.random.integer(0, RESOLUTION - 1) / RESOLUTION;
  }

  private randomTrial(): Trial {
    return Object.fromEntries(
      Object.entries(this.space).map(([name, size]) => [name, this.random.integer(0, size - 1)]),
    );
  }

  /** Smoothed categorical density of each choice of `name` among `observations`. */
  density(name: string, observations: readonly Observation[]): number[] {
    const size = this.space[name] ?? 1;
    const counts = new Array<number>(size).fill(this.priorWeight / size);
    for (const observation of observations) {
      const choice = observation.params[name];
      if (choice !== undefined && choice < size) counts[choice] = (counts[choice] ?? 0) + 1;
    }
    const total = observations.length + this.priorWeight;
    return counts.map((count) => count / total);
  }

  /** Best `gamma` fraction (at least one) first by value; ties keep observation order. */
  split(observations: readonly Observation[]): { good: Observation[]; bad: Observation[] } {
    const ranked = observations
      .map((observation, index) => ({ observation, index }))
      .sort((a, b) => b.observation.value - a.observation.value || a.index - b.index)
      .map(({ observation }) => observation);
    const goodCount = Math.max(1, Math.ceil(this.gamma * observations.length));
    return { good: ranked.slice(0, goodCount), bad: ranked.slice(goodCount) };
  }

  private draw(weights: readonly number[]): number {
    let point = this.uniform() * weights.reduce((a, b) => a + b, 0);
    for (const [index, weight] of weights.entries()) {
      point -= weight;
      if (point < 0) return index;
    }
    return weights.length - 1;
  }

  /** The next trial to evaluate given what was observed so far. */
  suggest(observations: readonly Observation[]): Trial {
    if (observations.length < this.startupTrials) return this.randomTrial();
    const { good, bad } = this.split(observations);
    const names = Object.keys(this.space);
    const estimates = names.map((name) => ({ name, l: this.density(name, good), g: this.density(name, bad) }));
    let best: { trial: Trial; ratio: number } | undefined;
    for (let draw = 0; draw < this.candidates; draw += 1) {
      const trial: Record<string, number> = {};
      let logRatio = 0;
      for (const { name, l, g } of estimates) {
        const choice = this.draw(l);
        trial[name] = choice;
        logRatio += Math.log(l[choice] ?? 1) - Math.log(g[choice] ?? 1);
      }
      if (best === undefined || logRatio > best.ratio) best = { trial, ratio: logRatio };
    }
    return best?.trial ?? this.randomTrial();
  }
}
