import { z } from 'zod';
import { SeededRandom, deriveSeed } from '../../random.js';
import type { TextTask } from '../../tasks/types.js';
import type { OptimizationResult, Optimizer } from '../contract.js';
import { baseConfigShape, parseConfig } from '../engine/config.js';
import { seedInstructionsOf, seedInstructionsShape } from '../engine/seed-instructions.js';
import { defaultBaselinePrompt } from '../opro/config.js';
import { OptimizerSession, extractPromptBlock, type TextOptimizeInput } from '../engine/session.js';
import { paretoRanks, selectSurvivors, type Individual } from './pareto.js';

export const MUTATION_PROMPT = `You improve instructions for a language model. Task:
{task}

Instruction (scores {score}, {length} characters):
<current>
{prompt}
</current>

Write a mutated version: change its wording, strategy or emphasis so it may score higher; shorter is better when it
does not cost accuracy. Keep the answer format. Return it inside <prompt></prompt> tags.`;

export const CROSSOVER_PROMPT = `You combine instructions for a language model. Task:
{task}

Parent A (scores {scoreA}):
<a>
{promptA}
</a>

Parent B (scores {scoreB}):
<b>
{promptB}
</b>

Write one child instruction that keeps the strongest ideas of both parents, as concise as possible. Keep the answer
format. Return it inside <prompt></prompt> tags.`;

export const evolutionaryConfigSchema = z
  .object({
    populationSize: z.number().int().min(2).default(4),
    generations: z.number().int().nonnegative().default(3),
    initialMutationRate: z.number().min(0).max(1).default(0.5),
    minMutationRate: z.number().min(0).max(1).default(0.1),
    maxMutationRate: z.number().min(0).max(1).default(0.9),
    /** The rate is divided by this after a generation that improved the best score, multiplied otherwise. */
    mutationAdaptation: z.number().min(1).default(1.5),
    ...baseConfigShape({ optimizerTemperature: 1.0, optimizerMaxTokens: 1024 }),
    /** `generic`: the generic seed instructions join the first population (the fittest survive). */
    ...seedInstructionsShape,
    maxPromptChars: z.number().int().positive().default(1500),
  })
  .strict();

export type EvolutionaryConfig = z.output<typeof evolutionaryConfigSchema>;

/** Adaptive mutation rate: exploit (more crossover) after progress, explore (more mutation) after stagnation. */
export function adaptMutationRate(rate: number, improved: boolean, config: EvolutionaryConfig): number {
  const next = improved ? rate / config.mutationAdaptation : rate * config.mutationAdaptation;
  return Math.min(config.maxMutationRate, Math.max(config.minMutationRate, next));
}

function fill(template: string, fields: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => fields[name] ?? whole);
}

/** Child of the generation: how it was made, for the history and the tests. */
export interface Offspring extends Individual {
  readonly operator: 'seed' | 'mutation' | 'crossover';
}

/**
 * evolutionary: a population of prompts evolved with LLM-driven mutation and crossover; score and prompt length are
 * two objectives, survivors are chosen by Pareto rank and crowding distance (NSGA-II), parents by binary tournament.
 * The mutation rate adapts: it falls after a generation that improved the best score and rises after one that did
 * not. The best prompt is the highest-scoring one ever evaluated.
 */
export class EvolutionaryOptimizer implements Optimizer<EvolutionaryConfig, TextTask> {
  readonly name = 'evolutionary';
  readonly config: EvolutionaryConfig;
  /** Mutation rate used in each generation of the last run (for inspection). */
  mutationRates: number[] = [];

  constructor(config: z.input<typeof evolutionaryConfigSchema> = {}) {
    this.config = Object.freeze(parseConfig(evolutionaryConfigSchema, config));
  }

  async optimize(input: TextOptimizeInput): Promise<OptimizationResult> {
    const config = this.config;
    const session = new OptimizerSession(input, {
      optimizer: this.name,
      totalIterations: config.generations,
      evalMode: config.evalMode,
    });
    const random = new SeededRandom(deriveSeed(input.seed, 'evolutionary'));
    this.mutationRates = [];
    return session.run(async () => {
      const initial = config.initialPrompt ?? defaultBaselinePrompt(input.task.labels);
      let population = await this.seedPopulation(session, initial);
      let rate = config.initialMutationRate;
      for (let generation = 1; generation <= config.generations && population.length > 0; generation += 1) {
        session.throwIfAborted();
        if (session.breakerOpen) return 'circuit_open';
        this.mutationRates.push(rate);
        const before = session.bestScore;
        const children: Offspring[] = [];
        for (let slot = 0; slot < config.populationSize; slot += 1) {
          const mutate = population.length < 2 || random.integer(0, 999) < rate * 1000;
          const child = mutate
            ? await this.mutate(session, this.tournament(population, random), `mutate/${generation}/${slot}`)
            : await this.crossover(session, population, random, `crossover/${generation}/${slot}`);
          const scored = child && (await this.score(session, child, generation, [...population, ...children]));
          if (scored) children.push(scored);
        }
        population = selectSurvivors([...population, ...children], config.populationSize);
        rate = adaptMutationRate(rate, session.bestScore > before, config);
        session.progress(generation, `generation ${generation}: best ${session.bestScore.toFixed(3)}`, 'iteration');
      }
      return 'completed';
    });
  }

  /**
   * The first population: the initial prompt and any seed instructions (cut to the fittest by Pareto rank), then
   * mutations of the best until it is full. EvoPrompt likewise starts from hand-written prompts.
   */
  private async seedPopulation(session: OptimizerSession, initial: string): Promise<Offspring[]> {
    const seeds = seedInstructionsOf(this.config.seedInstructions);
    const { starts, best } = await session.evaluateStartingPrompts(initial, seeds);
    const scored = starts.map(({ prompt, evaluation }): Offspring => ({
      prompt,
      score: evaluation.score,
      operator: 'seed',
    }));
    const population = selectSurvivors(scored, this.config.populationSize);
    if (!best) return population;
    const parent = { prompt: best.prompt, score: best.evaluation.score };
    for (let slot = population.length; slot < this.config.populationSize; slot += 1) {
      const child = await this.mutate(session, parent, `seed/${slot}`);
      const scored = child && (await this.score(session, { ...child, operator: 'seed' }, 0, population));
      if (scored) population.push(scored);
    }
    return population;
  }

  /** Binary tournament: lower Pareto rank wins, then higher score, then the first drawn. */
  private tournament(population: readonly Offspring[], random: SeededRandom): Offspring {
    const ranks = paretoRanks(population);
    const a = random.integer(0, population.length - 1);
    const b = random.integer(0, population.length - 1);
    const rankA = ranks[a] ?? 0;
    const rankB = ranks[b] ?? 0;
    const pickB = rankB < rankA || (rankB === rankA && (population[b]?.score ?? 0) > (population[a]?.score ?? 0));
    return population[pickB ? b : a] as Offspring;
  }

  private async mutate(
    session: OptimizerSession,
    parent: Individual,
    key: string,
  ): Promise<{ prompt: string; operator: Offspring['operator'] } | null> {
    const content = fill(MUTATION_PROMPT, {
      task: session.input.task.description,
      score: parent.score.toFixed(3),
      length: String(parent.prompt.length),
      prompt: parent.prompt,
    });
    return this.ask(session, key, content, 'mutation');
  }

  private async crossover(
    session: OptimizerSession,
    population: readonly Offspring[],
    random: SeededRandom,
    key: string,
  ): Promise<{ prompt: string; operator: Offspring['operator'] } | null> {
    const a = this.tournament(population, random);
    let b = this.tournament(population, random);
    if (b === a) b = population.find((individual) => individual !== a) ?? a;
    const content = fill(CROSSOVER_PROMPT, {
      task: session.input.task.description,
      scoreA: a.score.toFixed(3),
      promptA: a.prompt,
      scoreB: b.score.toFixed(3),
      promptB: b.prompt,
    });
    return this.ask(session, key, content, 'crossover');
  }

  private async ask(
    session: OptimizerSession,
    key: string,
    content: string,
    operator: Offspring['operator'],
  ): Promise<{ prompt: string; operator: Offspring['operator'] } | null> {
    const reply = await session.generate(key, {
      messages: [{ role: 'user', content }],
      temperature: this.config.optimizerTemperature,
      maxTokens: this.config.optimizerMaxTokens,
      seed: deriveSeed(session.input.seed, 'evolutionary', key),
    });
    const prompt = reply === null ? '' : extractPromptBlock(reply);
    return prompt === '' ? null : { prompt, operator };
  }

  /** Scores a child on the valset; duplicates of living individuals are recorded and dropped. */
  private async score(
    session: OptimizerSession,
    child: { prompt: string; operator: Offspring['operator'] },
    generation: number,
    living: readonly Offspring[],
  ): Promise<Offspring | null> {
    if (living.some((individual) => individual.prompt === child.prompt)) {
      session.record(generation, child.prompt, null, `duplicate (${child.operator})`);
      return null;
    }
    const rejection =
      generation === 0 && living.length === 0
        ? undefined
        : session.rejectionOf(child.prompt, this.config.maxPromptChars);
    if (rejection !== undefined) {
      session.record(generation, child.prompt, null, `${rejection} (${child.operator})`);
      return null;
    }
    const key = `evaluate/${generation}/${session.history.length}`;
    const evaluation = await session.evaluate(key, child.prompt, session.input.valset);
    session.record(generation, child.prompt, evaluation?.score ?? null, evaluation ? undefined : 'evaluation failed');
    return evaluation ? { ...child, score: evaluation.score } : null;
  }
}
