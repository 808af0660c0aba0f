/**
 * A toy world for the balanced optimizer's orchestration tests: addition problems, a scripted "task model" whose
 * correctness and length depend on phrases in its system prompt, and a scripted optimizer model that answers the
 * three TextGrad steps by recognizing their named meta-prompts. Token counts are whitespace tokens.
 */
import type { Example } from '../ts/datasets/types.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import { GRADIENT_SYSTEM_PROMPT, LOSS_SYSTEM_PROMPT, UPDATE_SYSTEM_PROMPT } from '../ts/optimizers/balanced/prompts.js';
import { balancedTaskFromText, type BalancedTask } from '../ts/optimizers/balanced/task.js';
import { createTextTask } from '../ts/tasks/text-task.js';

export const STEP_BY_STEP = 'Think step by step.';
export const CONCISE = 'Be concise.';
export const CARELESS = 'Answer immediately.';

/** 20 filler tokens + "The answer is N." (4 tokens) = 24 tokens. */
export const VERBOSE_TOKENS = 24;
/** 2 filler tokens + 4 = 6 tokens. */
export const CONCISE_TOKENS = 6;
/** "The answer is N+1." = 4 tokens, wrong. */
export const WRONG_TOKENS = 4;

function additions(prefix: string, count: number, offset: number): Example[] {
  return Array.from({ length: count }, (_, index) => {
    const a = index + offset;
    const b = 2 * index + 1;
    return { id: `${prefix}-${index}`, input: `What is ${a} + ${b}?`, target: String(a + b) };
  });
}

export function toyTask(): BalancedTask {
  const task = createTextTask({
    name: 'toy-addition',
    defaultMetric: 'numeric_match',
    train: additions('train', 6, 10),
    validation: additions('validation', 4, 100),
    test: additions('test', 4, 1000),
  });
  // 512 instead of the GSM8K-sized 400: the tests check that the cap reaches the model.
  return { ...balancedTaskFromText(task), maxAnswerTokens: 512 };
}

function systemPrompt(request: GenerateRequest): string {
  return request.messages.find((message) => message.role === 'system')?.content ?? '';
}

/** Correct only with "step by step" in the prompt; short when it also says "concise". */
export function toyTaskModel(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId: 'toy-task-model',
    respond: (request) => {
      const prompt = systemPrompt(request);
      const question = request.messages.find((message) => message.role === 'user')?.content ?? '';
      const [a, b] = (question.match(/\d+/g) ?? []).map(Number);
      const sum = (a ?? 0) + (b ?? 0);
      if (!prompt.includes('step by step')) return `The answer is ${sum + 1}.`;
      const filler = prompt.includes('concise') ? 2 : 20;
      return `${'step '.repeat(filler)}The answer is ${sum}.`;
    },
  });
}

/**
 * Accuracy updates add "Think step by step."; efficiency updates add "Be concise." once, and after that throw the
 * reasoning away ("Answer immediately."), which validation must catch.
 */
export function toyOptimizerModel(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId: 'toy-optimizer-model',
    respond: (request) => {
      const system = systemPrompt(request);
      const user = request.messages.find((message) => message.role === 'user')?.content ?? '';
      if (system === LOSS_SYSTEM_PROMPT) return user.includes('INCORRECT') ? 'wrong final answer' : 'correct but long';
      if (system === GRADIENT_SYSTEM_PROMPT) return 'feedback: act on the critiques';
      if (system !== UPDATE_SYSTEM_PROMPT) throw new Error(`unexpected optimizer request: ${system}`);
      const current = /<VARIABLE>\n([\s\S]*?)\n<\/VARIABLE>/.exec(user)?.[1] ?? '';
      const efficiency = user.includes('should average at most');
      if (!efficiency) return `<IMPROVED_VARIABLE>${current} ${STEP_BY_STEP}</IMPROVED_VARIABLE>`;
      if (!current.includes(CONCISE)) return `Sure.\n<IMPROVED_VARIABLE>\n${current} ${CONCISE}\n</IMPROVED_VARIABLE>`;
      return `<IMPROVED_VARIABLE>${CARELESS}</IMPROVED_VARIABLE>`;
    },
  });
}
