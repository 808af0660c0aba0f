export {
  CROSSOVER_PROMPT,
  EvolutionaryOptimizer,
  MUTATION_PROMPT,
  adaptMutationRate,
  evolutionaryConfigSchema,
  type EvolutionaryConfig,
  type Offspring,
} from './optimizer.js';
export {
  crowdingDistances,
  dominates,
  nonDominatedFronts,
  paretoRanks,
  selectSurvivors,
  type Individual,
} from './pareto.js';
