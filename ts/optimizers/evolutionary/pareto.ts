/**
 * Two-objective selection for the evolutionary optimizer: maximize the score, minimize the prompt length.
 * Non-dominated sorting (NSGA-II) with crowding distance to keep the front spread out.
 */
export interface Individual {
  readonly prompt: string;
  readonly score: number;
}

/** a dominates b: no worse on both objectives and better on one. */
export function dominates(a: Individual, b: Individual): boolean {
  const noWorse = a.score >= b.score && a.prompt.length <= b.prompt.length;
  return noWorse && (a.score > b.score || a.prompt.length < b.prompt.length);
}

/** Fronts of indices: front 0 is non-dominated, front 1 is dominated only by front 0, and so on. */
export function nonDominatedFronts(population: readonly Individual[]): number[][] {
  const dominatedBy = population.map(() => 0);
  const dominating = population.map(() => [] as number[]);
  population.forEach((a, i) => {
    population.forEach((b, j) => {
      if (i === j) return;
      if (dominates(a, b)) dominating[i]?.push(j);
      else if (dominates(b, a)) dominatedBy[i] = (dominatedBy[i] ?? 0) + 1;
    });
  });
  const fronts: number[][] = [];
  let current = population.map((_, index) => index).filter((index) => dominatedBy[index] === 0);
  while (current.length > 0) {
    fronts.push(current);
    const next: number[] = [];
    for (const index of current) {
      for (const dominated of dominating[index] ?? []) {
        dominatedBy[dominated] = (dominatedBy[dominated] ?? 0) - 1;
        if (dominatedBy[dominated] === 0) next.push(dominated);
      }
    }
    current = next.sort((a, b) => a - b);
  }
  return fronts;
}

/** NSGA-II crowding distance of the members of one front (boundary points get Infinity). */
export function crowdingDistances(population: readonly Individual[], front: readonly number[]): Map<number, number> {
  const distance = new Map(front.map((index) => [index, 0]));
  const objectives: ((individual: Individual) => number)[] = [(i) => i.score, (i) => i.prompt.length];
  for (const objective of objectives) {
    const sorted = [...front].sort(
      (a, b) => objective(population[a] as Individual) - objective(population[b] as Individual),
    );
    const low = objective(population[sorted[0] as number] as Individual);
    const high = objective(population[sorted[sorted.length - 1] as number] as Individual);
    distance.set(sorted[0] as number, Infinity);
    distance.set(sorted[sorted.length - 1] as number, Infinity);
    if (high === low) continue;
    for (let k = 1; k < sorted.length - 1; k += 1) {
      const gap =
        objective(population[sorted[k + 1] as number] as Individual) -
        objective(population[sorted[k - 1] as number] as Individual);
      distance.set(sorted[k] as number, (distance.get(sorted[k] as number) ?? 0) + gap / (high - low));
    }
  }
  return distance;
}

/** Keeps `size` individuals: whole fronts first, the last one cut by crowding distance, then score, then order. */
export function selectSurvivors<T extends Individual>(population: readonly T[], size: number): T[] {
  const survivors: T[] = [];
  for (const front of nonDominatedFronts(population)) {
    if (survivors.length >= size) break;
    const distance = crowdingDistances(population, front);
    const ordered = [...front].sort(
      (a, b) =>
        (distance.get(b) ?? 0) - (distance.get(a) ?? 0) ||
        (population[b] as T).score - (population[a] as T).score ||
        a - b,
    );
    for (const index of ordered.slice(0, size - survivors.length)) survivors.push(population[index] as T);
  }
  return survivors;
}

/** Pareto rank of every individual (0 = non-dominated). */
export function paretoRanks(population: readonly Individual[]): number[] {
  const ranks = population.map(() => 0);
  nonDominatedFronts(population).forEach((front, rank) => front.forEach((index) => (ranks[index] = rank)));
  return ranks;
}
