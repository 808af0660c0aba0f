import type { Example } from '../../datasets/types.js';

/*
 * The meta-prompt follows the OPRO paper's layout (Yang et al. 2023, "Large Language Models as Optimizers", Fig. 3):
 * task description, past instructions with their scores in ascending order (best last, where the model reads it
 * most recently), a few exemplars with <INS> where the instruction goes, then the request for a new, better
 * instruction between <INS> and </INS>.
 */

export const META_PROMPT_INTRO =
  'Your task is to generate the instruction <INS>. Below are some previous instructions with their scores. ' +
  'The score is a reward: higher is better.';

export const META_PROMPT_TASK_HEADER = 'The task the instruction is for:';

export const META_PROMPT_EXEMPLARS_HEADER =
  'Below are some problems. The instruction <INS> is placed before each question; the output is the correct answer.';

export const META_PROMPT_REQUEST =
  'Generate an instruction that is different from all the instructions <INS> above, and has a higher score than ' +
  'all the instructions <INS> above. The instruction should begin with <INS> and end with </INS>. The instruction ' +
  'should be concise, effective, and generally applicable to all problems above. It must be plain text: no special ' +
  'tokens, no markup, no placeholders.';

/*
 * The variation layout (APE's resampling step, Zhou et al. 2022): one instruction in, one rewritten instruction out,
 * with no exemplars and no score table. Small optimizer models (0.5B-1.5B) copy the exemplar questions of the full
 * layout instead of writing an instruction; shown only an instruction, they rewrite it.
 */
export const VARIATION_PROMPT_INTRO = 'Here is an instruction that an AI assistant follows when it solves a task.';

export const VARIATION_PROMPT_REQUEST =
  'Write one new instruction for the same task that is clearer and more helpful than the one above: say how to ' +
  'approach the problem and what to check before answering. Use one to three plain sentences. Do not include an ' +
  'example question or an answer. Write the new instruction between <INS> and </INS>.';

/** How OPRO asks for candidates: the paper's full meta-prompt, or a variation of one instruction. */
export type ProposalStyle = 'opro' | 'variation';

export const PROPOSAL_STYLES: readonly ProposalStyle[] = ['opro', 'variation'];

export interface VariationPromptInput {
  readonly taskDescription: string;
  readonly instruction: string;
  readonly maxChars: number;
}

/** Builds the variation request for one instruction. */
export function buildVariationPrompt(input: VariationPromptInput): string {
  return [
    `${META_PROMPT_TASK_HEADER} ${input.taskDescription}`,
    VARIATION_PROMPT_INTRO,
    `<INS>${input.instruction}</INS>`,
    `${VARIATION_PROMPT_REQUEST} Keep it under ${input.maxChars} characters.`,
  ].join('\n\n');
}

export interface ScoredInstruction {
  readonly prompt: string;
  readonly reward: number;
}

export interface MetaPromptInput {
  readonly taskDescription: string;
  /** Any order; shown ascending by reward, the best last. */
  readonly scoredInstructions: readonly ScoredInstruction[];
  readonly exemplars: readonly Example[];
  /** Answer words the instruction must name (classification tasks). */
  readonly requiredWords: readonly string[];
  readonly maxChars: number;
}

function formatScore(reward: number): string {
  return reward.toFixed(3);
}

/** Builds the OPRO meta-prompt text. */
export function buildMetaPrompt(input: MetaPromptInput): string {
  const ascending = [...input.scoredInstructions].sort((a, b) => a.reward - b.reward);
  const history = ascending.map((entry) => `text:\n${entry.prompt}\nscore:\n${formatScore(entry.reward)}`);
  const exemplars = input.exemplars.map(
    (example) => `input:\nQ: <INS>\n${example.input}\nA:\noutput:\n${example.target}`,
  );
  const constraints = [`Keep it under ${input.maxChars} characters.`];
  if (input.requiredWords.length > 0) {
    constraints.push(`It must tell the model to answer with one of: ${input.requiredWords.join(', ')}.`);
  }
  const sections = [
    `${META_PROMPT_TASK_HEADER} ${input.taskDescription}`,
    META_PROMPT_INTRO,
    history.join('\n\n'),
    exemplars.length > 0 ? `${META_PROMPT_EXEMPLARS_HEADER}\n\n${exemplars.join('\n\n')}` : '',
    `${META_PROMPT_REQUEST} ${constraints.join(' ')}`,
  ];
  return sections.filter((section) => section !== '').join('\n\n');
}

/**
 * The instructions in an optimizer reply: every <INS>…</INS> block; an opened but unclosed block runs to the next
 * marker or the end;
 * with no markers at all, the whole reply is one candidate (the sanitizer judges it).
 */
export function parseCandidates(reply: string): string[] {
  const blocks = [...reply.matchAll(/<INS>([\s\S]*?)<\/INS>/gi)].map((match) => match[1] ?? '');
  if (blocks.length > 0) return blocks.map((block) => block.trim()).filter((block) => block !== '');
  const opened = reply.search(/<INS>/i);
  const tail = opened >= 0 ? reply.slice(opened + '<INS>'.length) : reply;
  // Small models close a block with a second <INS>: the candidate ends at the next marker of either kind.
  const nextMarker = tail.search(/<\/?INS>/i);
  const trimmed = (nextMarker >= 0 ? tail.slice(0, nextMarker) : tail).trim();
  return trimmed === '' ? [] : [trimmed];
}
