/**
 * What MIPROv2 optimizes: a one-predictor program (an instruction and its demos) and the adapter that tells the
 * optimizer how to prompt a model with it for one example, how to score the reply, and how examples and traces become
 * demos. Text tasks get `textTaskAdapter`; the Minigrid agent (ts/tasks/navigation) brings its own.
 */
import type { Example } from '../../datasets/types.js';
import type { ChatMessage } from '../../llm/types.js';
import type { MetricResult, TextTask } from '../../tasks/types.js';
import { renderFewShotPrompt } from '../few-shot/optimizer.js';

/** One demonstration: the user turn and the assistant turn, as the prompted model reads them. */
export interface MiproDemo {
  readonly input: string;
  readonly output: string;
  /** A trace of the teacher (DSPy's `augmented`), not a labelled example. */
  readonly augmented: boolean;
}

export interface MiproProgram {
  readonly instruction: string;
  readonly demos: readonly MiproDemo[];
}

export interface MiproAdapter<TExample> {
  /** The program's own instruction: instruction candidate 0. */
  readonly basicInstruction: string;
  /** Pseudo-code of the program, for the program-aware proposer (DSPy reads the module's source). */
  readonly programSummary: string;
  /** Completion budget of the prompted model. */
  readonly maxTokens: number;
  exampleId(example: TExample): string;
  messages(program: MiproProgram, example: TExample): ChatMessage[];
  /** The metric on the model's reply (may call a model: an AI-feedback judge). */
  score(example: TExample, reply: string, signal?: AbortSignal): Promise<MetricResult>;
  labeledDemo(example: TExample): MiproDemo;
  tracedDemo(example: TExample, reply: string): MiproDemo;
  /** One example as the dataset summarizer reads it. */
  describeExample(example: TExample): string;
  /** The program as one prompt text (the result's `bestPrompt`). */
  render(program: MiproProgram): string;
}

/** A text task as a MIPROv2 program: demos become Q/A pairs before the question, as few_shot renders them. */
export function textTaskAdapter(task: TextTask): MiproAdapter<Example> {
  const asExample = (demo: MiproDemo): Example => ({ id: '', input: demo.input, target: demo.output });
  const render = (program: MiproProgram) => renderFewShotPrompt(program.instruction, program.demos.map(asExample));
  return {
    basicInstruction: task.description,
    programSummary: 'answer = Predict("question -> answer", instruction)(question)',
    maxTokens: task.maxAnswerTokens,
    exampleId: (example) => example.id,
    messages: (program, example) => task.formatMessages(render(program), example),
    score: async (example, reply) => task.metric(task.extractAnswer(reply), example),
    labeledDemo: (example) => ({ input: example.input, output: example.target, augmented: false }),
    // The extracted answer, not the whole reply: the rendered demo must stay in the task's answer format.
    tracedDemo: (example, reply) => ({
      input: example.input,
      output: task.extractAnswer(reply) ?? example.target,
      augmented: true,
    }),
    describeExample: (example) => `Input: ${example.input}\nAnswer: ${example.target}`,
    render,
  };
}
