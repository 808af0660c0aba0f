/**
 * The meta-prompts of `optimize.run`, as named constants. `{placeholders}` are filled by `fillTemplate`; the
 * candidates and feedback shown are data the model reads, never instructions to it.
 */

export const OPTIMIZER_SYSTEM_PROMPT =
  'You are an optimizer. You propose the next value of a variable x to try, learning from the scores and ' +
  'feedback of earlier values. Answer with a short reasoning, then the complete new x in one fenced block ' +
  '(```), and nothing after that block.';

/** Closes every request: shows the shape of the answer instead of only describing it. */
export const ANSWER_FORMAT = `Reply in exactly this format:
Reasoning: <one or two sentences>
\`\`\`
<the complete new x>
\`\`\``;

/** `topk`: OPRO-style scored history of the best k (worst first, best last) plus the latest feedback. */
export const TOPK_META_PROMPT = `# Task
{task}

# Earlier values of x and their scores ({direction}), worst first
{history}

# Feedback on the most recent value
{latest}

# Question
{question}

Propose one new x that differs from every value above.
{format}`;

/** `chat`: the first turn of the growing conversation (the original's strategy). */
export const CHAT_FIRST_PROMPT = `# Task
{task}

# The current x
{candidate}

# Its result
{result}

# Question
{question}

{format}`;

/** `chat`: every later turn reports how the proposed x did and asks again. */
export const CHAT_FEEDBACK_PROMPT = `# Result of your x
{result}

# Question
{question}

{format}`;

/** Sent once when a reply held no fenced block. */
export const REASK_PROMPT = `Your reply had no fenced block. Reply again with only the complete new x inside one
fenced block, like this:
\`\`\`
<the complete new x>
\`\`\``;

export const NO_HISTORY = '(none yet)';

/** Fills `{name}` placeholders in one pass, so that braces inside the values are left alone. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** A candidate shown as a fenced block; the fence is longer than any backtick run inside it. */
export function fenced(text: string): string {
  const longestRun = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longestRun + 1);
  return `${fence}\n${text}\n${fence}`;
}
