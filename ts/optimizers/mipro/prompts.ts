/**
 * The meta-prompts of MIPROv2's grounded proposer and dataset summarizer, written after DSPy's signatures
 * (dspy/propose/grounded_proposer.py, dataset_summary_generator.py); each asks for its answer after a field marker.
 */

/** DSPy's TIPS: one is drawn at random for each proposed instruction ("none" adds nothing). */
export const PROPOSER_TIPS = {
  none: '',
  creative: "Don't be afraid to be creative when creating the new instruction!",
  simple: 'Keep the instruction clear and concise.',
  description: 'Make sure your instruction is very informative and descriptive.',
  high_stakes: 'The instruction should include a high stakes scenario in which the LM must solve the task!',
  persona: 'Include a persona that is relevant to the task in the instruction (ie. "You are a ...")',
} as const;

export type TipName = keyof typeof PROPOSER_TIPS;

export const DATASET_DESCRIPTOR_PROMPT = `Given several examples from a dataset please write observations about trends that hold for most or all of the samples. Some areas you may consider in your observations: topics, content, syntax, conciseness, etc. It will be useful to make an educated guess as to the nature of the task this dataset will enable. Don't be afraid to be creative.

Examples:
{examples}

Reply with your observations after the line [[ ## observations ## ]].`;

export const DATASET_DESCRIPTOR_WITH_PRIOR_PROMPT = `Given several examples from a dataset please write observations about trends that hold for most or all of the samples. I will also provide you with a few observations I have already made. Please add your own observations or if you feel the observations are comprehensive say 'COMPLETE'. Some areas you may consider in your observations: topics, content, syntax, conciseness, etc. It will be useful to make an educated guess as to the nature of the task this dataset will enable. Don't be afraid to be creative.

Examples:
{examples}

Prior observations:
{prior}

Reply with your observations, or COMPLETE, after the line [[ ## observations ## ]].`;

export const OBSERVATION_SUMMARIZER_PROMPT = `Given a series of observations I have made about my dataset, please summarize them into a brief 2-3 sentence summary which highlights only the most important details.

Observations:
{observations}

Reply with the summary after the line [[ ## summary ## ]].`;

export const DESCRIBE_PROGRAM_PROMPT = `Below is some pseudo-code for a pipeline that solves tasks with calls to language models. Please describe what type of task this program appears to be designed to solve, and how it appears to work.

Program code:
{program}

Example of the program in use:
{example}

Reply with the description after the line [[ ## program_description ## ]].`;

export const DESCRIBE_MODULE_PROMPT = `Below is some pseudo-code for a pipeline that solves tasks with calls to language models. Please describe the purpose of one of the specified module in this pipeline.

Program code:
{program}

Example of the program in use:
{example}

Summary of the program:
{description}

Module:
{module}

Reply with the module's role after the line [[ ## module_description ## ]].`;

export const GENERATE_INSTRUCTION_PROMPT = `Use the information below to learn about a task that we are trying to solve using calls to an LM, then generate a new instruction that will be used to prompt a Language Model to better solve the task.

Dataset description:
{dataset}

Program code:
{program}

Program description:
{description}

Module:
{module}

Module description:
{moduleDescription}

Example inputs/outputs of our module:
{demos}

Basic instruction:
{basic}

Tip:
{tip}

Reply with only the new instruction after the line [[ ## proposed_instruction ## ]].`;

/** Fills `{name}` placeholders; unknown ones stay as they are. */
export function fillPrompt(template: string, fields: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => fields[name] ?? whole);
}

const ANY_MARKER = /\[\[\s*##[^\]]*\]\]/g;

/** Other markers, a leading "Label:" prefix and quotes removed, as DSPy's strip_prefix does. */
function cleanField(text: string): string {
  return text
    .replace(ANY_MARKER, ' ')
    .trim()
    .replace(/^[.\s]+$/, '')
    .replace(/^[*\s]*(([\w'-]+\s+){0,4}[\w'-]+):\s*/, '')
    .replace(/^"+|"+$/g, '')
    .trim();
}

/**
 * The text after the `[[ ## field ## ]]` marker (spacing as small models write it), else the whole reply, cleaned.
 * Small models often write the field first and end with its marker: then the text before the marker (after any
 * earlier marker) is the field, unless it is only a lead-in ending in ":" ("…could be:"). A reply that is only the
 * marker gives ''.
 */
export function replyField(reply: string, field: string): string {
  const marker = new RegExp(`\\[\\[\\s*##\\s*${field}\\s*##\\s*\\]\\]`, 'gi');
  const last = [...reply.matchAll(marker)].at(-1);
  if (last === undefined) return cleanField(reply);
  const after = cleanField(reply.slice((last.index ?? 0) + last[0].length));
  if (after !== '') return after;
  const before = (reply.slice(0, last.index).split(ANY_MARKER).at(-1) ?? '').trim();
  return before.endsWith(':') ? '' : cleanField(before);
}
