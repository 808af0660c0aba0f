export * from './answers.js';
export { accuracy, balancedAccuracy } from './metrics.js';
export { createTextTask, extractLabel, loadTextTask, type TextTaskOptions } from './text-task.js';
export {
  DEFAULT_INSTRUCTION_POSITION,
  INSTRUCTION_POSITIONS,
  answerFormatFor,
  formatDemoAnswer,
  formatTaskMessages,
  isInstructionPosition,
  type InstructionPosition,
  type TaskKind,
} from './answer-format.js';
export { evaluateTextPrompt, type EvalMode, type EvaluationReport, type Prediction } from './evaluate.js';
export type { ExampleMetric, MetricResult, TaskScoreKind, TextTask } from './types.js';
