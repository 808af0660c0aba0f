import type { DatasetMetricName, DatasetSplits, Example } from '../datasets/types.js';
import type { ChatMessage } from '../llm/types.js';
import type { AnswerFormatPosition, InstructionPosition, TaskKind } from './answer-format.js';
import type { CalibrationMode } from './calibration.js';

/** What a metric says about one prediction (DSPy style): a score in [0, 1] and optional feedback for optimizers. */
export interface MetricResult {
  score: number;
  feedback?: string;
}

/** Scores one normalized prediction (null when no answer could be extracted) against an example. */
export type ExampleMetric = (prediction: string | null, example: Example) => MetricResult;

/** How per-example scores become the task score: plain accuracy or balanced accuracy over target classes. */
export type TaskScoreKind = 'accuracy' | 'balanced_accuracy';

/** A text task: a dataset plus how to prompt the model, read its answers and score them. */
export interface TextTask {
  readonly name: string;
  /** One or two sentences for the optimizer's meta-prompt. */
  readonly description: string;
  readonly metricName: DatasetMetricName;
  readonly scoreKind: TaskScoreKind;
  readonly kind: TaskKind;
  /** The answer format the evaluator adds after each question (empty when the instruction must carry it). */
  readonly answerFormat: string;
  readonly instructionPosition: InstructionPosition;
  /** Whether the answer format ends the user turn or opens it (ts/tasks/answer-format.ts). */
  readonly answerFormatPosition: AnswerFormatPosition;
  /** How score mode reads label scores: raw, or corrected by a content-free prior (ts/tasks/calibration.ts). */
  readonly scoreCalibration: CalibrationMode;
  /** The closed set of answers for classification tasks (also the choices of score mode); absent otherwise. */
  readonly labels?: readonly string[];
  /** The labels one example offers (a multiple-choice question's own options); absent: all labels. */
  readonly choicesOf?: (example: Example) => readonly string[];
  /**
   * Words a candidate instruction must mention. Empty where the task supplies the answer format or labels are
   * scored; the audio job in generate mode keeps its answer words (the original tool's rule).
   */
  readonly requiredLabelWords: readonly string[];
  /** Completion budget of the evaluated model in generate mode. */
  readonly maxAnswerTokens: number;
  readonly splits: DatasetSplits;
  formatMessages(instruction: string, example: Example): ChatMessage[];
  /** How a demonstration of this example answers (ts/tasks/answer-format.ts); absent: its bare target. */
  demoAnswer?(example: Example): string;
  extractAnswer(reply: string): string | null;
  readonly metric: ExampleMetric;
}
