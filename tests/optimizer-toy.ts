/**
 * A toy world for the tests of the meta_prompt, few_shot, evolutionary and hierarchical_reflective optimizers.
 * Each question asks for the code of a word (alpha → 1, …). The scripted task model knows a word's code only when
 * the prompt before the question names the word in capitals (ALPHA) or shows it as a demonstration
 * ("code of alpha?\nA:"); otherwise it answers 0. Scores are plain accuracy (numeric match).
 */
import type { DatasetSplits, Example } from '../ts/datasets/types.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { TextOptimizeInput } from '../ts/optimizers/engine/session.js';
import { createTextTask } from '../ts/tasks/text-task.js';

export const WORDS = ['alpha', 'beta', 'gamma', 'delta'] as const;

function examples(prefix: string): Example[] {
  return WORDS.map((word, index) => ({
    id: `${prefix}-${word}`,
    input: `What is the code of ${word}?`,
    target: String(index + 1),
  }));
}

export const TOY_SPLITS: DatasetSplits = {
  name: 'toy-codes',
  defaultMetric: 'numeric_match',
  train: examples('train'),
  validation: examples('validation'),
  test: examples('test'),
};

export const toyTask = createTextTask(TOY_SPLITS);

/** The instruction part of an evaluation request: everything before the final question. */
export function instructionOf(request: GenerateRequest): string {
  const content = request.messages[request.messages.length - 1]?.content ?? '';
  const cut = content.lastIndexOf('Q: What is the code of');
  return cut < 0 ? '' : content.slice(0, cut);
}

export function toyTaskModel(): ScriptedLanguageModel {
  return new ScriptedLanguageModel({
    modelId: 'toy-task-model',
    respond: (request) => {
      const content = request.messages[request.messages.length - 1]?.content ?? '';
      // The question, the task's answer-format line, then the answer cue.
      const asked = /code of (\w+)\?\n(?:[^\n]*\n)?A:$/.exec(content)?.[1] ?? '';
      const instruction = instructionOf(request);
      const knows = instruction.includes(asked.toUpperCase()) || instruction.includes(`code of ${asked}?\nA:`);
      return `The answer is ${knows ? WORDS.indexOf(asked as (typeof WORDS)[number]) + 1 : 0}.`;
    },
  });
}

/** Capital words named in a text. */
export function keywordsIn(text: string): string[] {
  return WORDS.map((word) => word.toUpperCase()).filter((word) => text.includes(word));
}

/** The text between `<tag>` and `</tag>`. */
export function tagged(content: string, tag: string): string {
  return new RegExp(`<${tag}>\\n?([\\s\\S]*?)\\n?</${tag}>`).exec(content)?.[1] ?? '';
}

export function toyInput(
  model: ScriptedLanguageModel,
  optimizerModel: ScriptedLanguageModel,
  seed = 7,
): TextOptimizeInput {
  return {
    task: toyTask,
    trainset: TOY_SPLITS.train,
    valset: TOY_SPLITS.validation,
    model,
    optimizerModel,
    metric: toyTask.metric,
    seed,
  };
}

export const BASELINE = 'Give the code as a number.';

/**
 * The toy task model, except that two generic seed instructions also teach it codes: OPRO's "Take a deep breath …"
 * alpha and beta (0.5), Kojima's "Let's think step by step." alpha (0.25). The other seeds teach nothing.
 */
export function seedAwareTaskModel(): ScriptedLanguageModel {
  const toy = toyTaskModel();
  return new ScriptedLanguageModel({
    modelId: 'toy-seed-aware-model',
    respond: async (request) => {
      const instruction = instructionOf(request);
      const taught = instruction.includes('Take a deep breath')
        ? ['alpha', 'beta']
        : instruction.includes("Let's think step by step.")
          ? ['alpha']
          : [];
      const asked = /code of (\w+)\?/.exec(request.messages.at(-1)?.content ?? '')?.[1] ?? '';
      if (taught.includes(asked)) return `The answer is ${WORDS.indexOf(asked as (typeof WORDS)[number]) + 1}.`;
      return (await toy.generate(request)).text;
    },
  });
}
