import { describe, expect, it } from 'vitest';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import {
  EvolutionaryOptimizer,
  adaptMutationRate,
  crowdingDistances,
  evolutionaryConfigSchema,
  nonDominatedFronts,
  selectSurvivors,
} from '../ts/optimizers/evolutionary/index.js';
import { GENERIC_SEED_INSTRUCTIONS } from '../ts/optimizers/engine/seed-instructions.js';
import { BASELINE, WORDS, keywordsIn, seedAwareTaskModel, tagged, toyInput, toyTaskModel } from './optimizer-toy.js';

const individual = (score: number, length: number) => ({ score, prompt: 'x'.repeat(length) });
// A dominates B and E; D dominates E; A, C and D are non-dominated.
const POPULATION = [
  individual(0.5, 10),
  individual(0.5, 20),
  individual(0.75, 30),
  individual(0.25, 5),
  individual(0.25, 15),
];

/** Mutation adds the first missing keyword; crossover writes the union of both parents' keywords. */
function evolutionModel(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    respond: (request) => {
      const content = request.messages[0]?.content ?? '';
      if (content.includes('Parent A')) {
        const union = [...new Set([...keywordsIn(tagged(content, 'a')), ...keywordsIn(tagged(content, 'b'))])];
        return `<prompt>Codes: ${union.join(' ')}.</prompt>`;
      }
      const current = tagged(content, 'current');
      const missing = WORDS.map((word) => word.toUpperCase()).find((word) => !current.includes(word));
      return `<prompt>${current} ${missing ?? ''}</prompt>`;
    },
  });
}

describe('Pareto selection (score up, length down)', () => {
  it('sorts into non-dominated fronts', () => {
    expect(nonDominatedFronts(POPULATION)).toEqual([
      [0, 2, 3],
      [1, 4],
    ]);
  });

  it('computes crowding distances with infinite boundaries', () => {
    const distances = crowdingDistances(POPULATION, [0, 2, 3]);
    // A: (0.75 - 0.25) / 0.5 on score + (30 - 5) / 25 on length.
    expect(distances.get(0)).toBe(2);
    expect(distances.get(2)).toBe(Infinity);
    expect(distances.get(3)).toBe(Infinity);
  });

  it('keeps whole fronts, then cuts the last one by crowding and score', () => {
    const survivors = selectSurvivors(POPULATION, 4);
    expect(survivors.map((member) => POPULATION.indexOf(member))).toEqual([2, 3, 0, 1]);
  });
});

describe('adaptive mutation rate', () => {
  const config = evolutionaryConfigSchema.parse({});
  it('falls after an improving generation and rises after a stale one, within bounds', () => {
    expect(adaptMutationRate(0.5, true, config)).toBeCloseTo(1 / 3, 10);
    expect(adaptMutationRate(0.5, false, config)).toBe(0.75);
    expect(adaptMutationRate(0.75, false, config)).toBe(0.9);
    expect(adaptMutationRate(0.12, true, config)).toBe(0.1);
  });
});

describe('evolutionary optimizer', () => {
  const config = { populationSize: 3, generations: 3, initialPrompt: BASELINE };

  it('evolves the population and adapts the mutation rate to progress', async () => {
    const optimizer = new EvolutionaryOptimizer(config);
    const result = await optimizer.optimize(toyInput(toyTaskModel(), evolutionModel()));
    // The seed population: the baseline and two mutations of it (ALPHA added; the second is a duplicate).
    expect(result.history[0]).toEqual({ iteration: 0, prompt: BASELINE, score: 0 });
    expect(result.history[1]).toEqual({ iteration: 0, prompt: `${BASELINE} ALPHA`, score: 0.25 });
    expect(result.history[2]?.rejectionReason).toBe('duplicate (seed)');
    const scores = result.history.map((entry) => entry.score ?? -1);
    expect(result.score).toBe(Math.max(...scores));
    expect(result.score).toBeGreaterThanOrEqual(0.5);
    expect(optimizer.mutationRates).toHaveLength(3);
    expect(optimizer.mutationRates[0]).toBe(0.5);
    // Each rate follows from whether the previous generation beat every earlier score.
    for (let generation = 1; generation < 3; generation += 1) {
      const bestBefore = Math.max(...result.history.filter((e) => e.iteration < generation).map((e) => e.score ?? -1));
      const bestIn = Math.max(...result.history.filter((e) => e.iteration === generation).map((e) => e.score ?? -1));
      const expected = adaptMutationRate(
        optimizer.mutationRates[generation - 1]!,
        bestIn > bestBefore,
        optimizer.config,
      );
      expect(optimizer.mutationRates[generation]).toBeCloseTo(expected, 12);
    }
  });

  it('refuses children over max_prompt_chars instead of cutting them short', async () => {
    // The baseline fits; its mutations (BASELINE + " ALPHA") do not.
    const maxPromptChars = BASELINE.length;
    const config = { populationSize: 4, generations: 2, initialPrompt: BASELINE, maxPromptChars };
    const result = await new EvolutionaryOptimizer(config).optimize(toyInput(toyTaskModel(), evolutionModel()));
    const long = result.history.filter((entry) => entry.prompt.length > maxPromptChars);
    expect(long.length).toBeGreaterThan(0);
    for (const entry of long) {
      expect(entry.score).toBeNull();
      expect(entry.rejectionReason).toMatch(
        new RegExp(`^too long \\(${entry.prompt.length} chars, maximum ${maxPromptChars}\\)`),
      );
    }
    // Nothing scored was cut to the limit: every scored prompt is one the model wrote whole.
    const scored = result.history.filter((entry) => entry.score !== null).map((entry) => entry.prompt);
    expect(scored.every((prompt) => prompt.length <= maxPromptChars)).toBe(true);
    // The mutation was refused whole; before, it was cut to its first 26 characters, the baseline again.
    expect(long.map((entry) => entry.prompt)).toContain(`${BASELINE} ALPHA`);
  });

  it('makes the same decisions for the same seed', async () => {
    const run = () => new EvolutionaryOptimizer(config).optimize(toyInput(toyTaskModel(), evolutionModel(), 5));
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.history).toEqual(b.history);
  });

  it('with generic seeds, the first population is the fittest of the baseline and seeds, topped up by mutation', async () => {
    const seeded = (populationSize: number) =>
      new EvolutionaryOptimizer({
        populationSize,
        generations: 0,
        initialPrompt: BASELINE,
        seedInstructions: 'generic',
      });
    const small = evolutionModel();
    const two = await seeded(2).optimize(toyInput(seedAwareTaskModel(), small));
    expect(two.history.map((entry) => entry.score)).toEqual([0, 0.25, 0.5, 0, 0, 0]);
    expect(two.history.slice(1).map((entry) => entry.prompt)).toEqual(GENERIC_SEED_INSTRUCTIONS);
    // Two of six fit a population of two: no mutation is needed.
    expect(small.calls).toHaveLength(0);
    expect(two.bestPrompt).toBe('Take a deep breath and work on this problem step-by-step.');

    const large = evolutionModel();
    const eight = await seeded(8).optimize(toyInput(seedAwareTaskModel(), large));
    // Six starts, then two mutations of the best start fill the population.
    expect(large.calls).toHaveLength(2);
    expect(tagged(large.calls[0]?.messages[0]?.content ?? '', 'current')).toBe(
      'Take a deep breath and work on this problem step-by-step.',
    );
    expect(eight.history[6]?.prompt).toBe('Take a deep breath and work on this problem step-by-step. ALPHA');
  });
});
