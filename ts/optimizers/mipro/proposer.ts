/**
 * MIPROv2's grounded instruction proposer (DSPy's GroundedProposer): a dataset summary written by the prompt model
 * over batches of train examples, a description of the program and of its module, up to three bootstrapped demos
 * from the candidate's demo set (and the sets after it), and a tip drawn at random. Candidate 0 is always the
 * program's own instruction; DSPy proposes one for it and then overwrites it, we do not pay for that call.
 */
import { SeededRandom, deriveSeed } from '../../random.js';
import type { OptimizerSession, SessionInput } from '../engine/session.js';
import { DEMOS_IN_PROPOSER_CONTEXT } from './config.js';
import type { MiproAdapter, MiproDemo } from './program.js';
import {
  DATASET_DESCRIPTOR_PROMPT,
  DATASET_DESCRIPTOR_WITH_PRIOR_PROMPT,
  DESCRIBE_MODULE_PROMPT,
  DESCRIBE_PROGRAM_PROMPT,
  GENERATE_INSTRUCTION_PROMPT,
  OBSERVATION_SUMMARIZER_PROMPT,
  PROPOSER_TIPS,
  fillPrompt,
  replyField,
  type TipName,
} from './prompts.js';

/** DSPy's summarizer reads at most this many batches and stops after this many "COMPLETE" replies. */
const MAX_SUMMARY_CALLS = 10;
const MAX_COMPLETE_SKIPS = 5;
const MODULE_SIGNATURE = 'Predict(observation) -> reply';

export interface ProposerOptions {
  readonly count: number;
  readonly viewDataBatchSize: number;
  readonly programAware: boolean;
  readonly dataAware: boolean;
  readonly tipAware: boolean;
  readonly fewshotAware: boolean;
  readonly temperature: number;
  readonly maxTokens: number;
  readonly seed: number;
}

export interface ProposedInstruction {
  readonly instruction: string;
  readonly tip: TipName | null;
  readonly demoSet: number;
}

interface ProposerContext<TExample> {
  readonly session: OptimizerSession<SessionInput>;
  readonly adapter: MiproAdapter<TExample>;
  readonly options: ProposerOptions;
}

async function ask<TExample>(
  context: ProposerContext<TExample>,
  key: string,
  content: string,
  field: string,
): Promise<string | null> {
  const { options } = context;
  const reply = await context.session.generate(key, {
    messages: [{ role: 'user', content }],
    temperature: options.temperature,
    maxTokens: options.maxTokens,
    seed: deriveSeed(options.seed, 'mipro-proposer', key),
  });
  const text = reply === null ? '' : replyField(reply, field);
  // An empty field (the model echoed the marker and stopped) counts as no answer: the caller's fallback applies.
  return text === '' ? null : text;
}

/** DSPy's create_dataset_summary: observations over batches of examples, then a 2–3 sentence summary. */
export async function datasetSummary<TExample>(
  context: ProposerContext<TExample>,
  trainset: readonly TExample[],
): Promise<string> {
  const size = context.options.viewDataBatchSize;
  const batch = (start: number) =>
    trainset
      .slice(start, start + size)
      .map((example) => context.adapter.describeExample(example))
      .join('\n\n');
  let observations =
    (await ask(
      context,
      'summary/observe/0',
      fillPrompt(DATASET_DESCRIPTOR_PROMPT, { examples: batch(0) }),
      'observations',
    )) ?? '';
  let [calls, skips] = [0, 0];
  for (let start = size; start < trainset.length; start += size) {
    calls += 1;
    if (calls >= MAX_SUMMARY_CALLS) break;
    const content = fillPrompt(DATASET_DESCRIPTOR_WITH_PRIOR_PROMPT, { examples: batch(start), prior: observations });
    const more = (await ask(context, `summary/observe/${start}`, content, 'observations')) ?? '';
    if (more.toUpperCase().startsWith('COMPLETE')) {
      skips += 1;
      if (skips >= MAX_COMPLETE_SKIPS) break;
      continue;
    }
    observations += more;
  }
  const content = fillPrompt(OBSERVATION_SUMMARIZER_PROMPT, { observations });
  return (await ask(context, 'summary/final', content, 'summary')) ?? observations;
}

/** Up to three bootstrapped demos from set `index`, then the sets after it, then those before (DSPy's order). */
export function demosInContext(demoSets: readonly (readonly MiproDemo[])[], index: number): string {
  const ordered = [...demoSets.slice(index), ...demoSets.slice(0, index)];
  const shown = ordered
    .flat()
    .filter((demo) => demo.augmented)
    .slice(0, DEMOS_IN_PROPOSER_CONTEXT)
    .map((demo) => `Input: ${demo.input}\nOutput: ${demo.output}`);
  return index === 0 || shown.length === 0 ? 'No task demos provided.' : shown.join('\n\n');
}

async function describeProgram<TExample>(
  context: ProposerContext<TExample>,
  index: number,
  demos: string,
): Promise<{ description: string; moduleDescription: string }> {
  if (!context.options.programAware) return { description: 'Not available', moduleDescription: 'Not provided' };
  const program = context.adapter.programSummary;
  const description =
    (await ask(
      context,
      `describe/program/${index}`,
      fillPrompt(DESCRIBE_PROGRAM_PROMPT, { program, example: demos }),
      'program_description',
    )) ?? 'Not available';
  const moduleDescription =
    (await ask(
      context,
      `describe/module/${index}`,
      fillPrompt(DESCRIBE_MODULE_PROMPT, { program, example: demos, description, module: MODULE_SIGNATURE }),
      'module_description',
    )) ?? 'Not provided';
  return { description, moduleDescription };
}

/** Instruction candidates: the basic instruction, then one proposal per demo set 1 … count-1. */
export async function proposeInstructions<TExample>(
  session: OptimizerSession<SessionInput>,
  adapter: MiproAdapter<TExample>,
  trainset: readonly TExample[],
  demoSets: readonly (readonly MiproDemo[])[],
  options: ProposerOptions,
): Promise<ProposedInstruction[]> {
  const context = { session, adapter, options };
  const dataset = options.dataAware ? await datasetSummary(context, trainset) : 'Not available';
  const tipRandom = new SeededRandom(deriveSeed(options.seed, 'mipro-tips'));
  const tipNames = Object.keys(PROPOSER_TIPS) as TipName[];
  const proposals: ProposedInstruction[] = [{ instruction: adapter.basicInstruction, tip: null, demoSet: 0 }];
  const available = Math.max(demoSets.length, 1);
  for (let index = 1; index < Math.min(options.count, available); index += 1) {
    session.throwIfAborted();
    const tip = options.tipAware ? (tipNames[tipRandom.integer(0, tipNames.length - 1)] ?? 'none') : null;
    const demos =
      options.fewshotAware && demoSets.length > 0 ? demosInContext(demoSets, index) : 'No task demos provided.';
    const { description, moduleDescription } = await describeProgram(context, index, demos);
    const content = fillPrompt(GENERATE_INSTRUCTION_PROMPT, {
      dataset,
      program: options.programAware ? adapter.programSummary : 'Not provided',
      description,
      module: options.programAware ? MODULE_SIGNATURE : 'Not provided',
      moduleDescription,
      demos,
      basic: adapter.basicInstruction,
      tip: tip === null ? '' : PROPOSER_TIPS[tip],
    });
    const instruction = await ask(context, `instruction/${index}`, content, 'proposed_instruction');
    if (instruction !== null && instruction !== '') proposals.push({ instruction, tip, demoSet: index });
  }
  return proposals;
}
