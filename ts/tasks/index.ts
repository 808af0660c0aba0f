export * from './answers.js';
export { accuracy, balancedAccuracy } from './metrics.js';
export { createTextTask, extractLabel, formatQuestion, loadTextTask } from './text-task.js';
export { evaluateTextPrompt, type EvalMode, type EvaluationReport, type Prediction } from './evaluate.js';
export type { ExampleMetric, MetricResult, TaskScoreKind, TextTask } from './types.js';
