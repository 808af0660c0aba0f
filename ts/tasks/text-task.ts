import { loadDataset } from '../datasets/registry.js';
import type { DatasetLoadOptions, DatasetSplits, Example } from '../datasets/types.js';
import {
  exactAnswersMatch,
  extractNumericAnswer,
  isMultipleChoiceTarget,
  normalizeExactAnswer,
  numbersMatch,
} from './answers.js';
import {
  DEFAULT_ANSWER_FORMAT_POSITION,
  DEFAULT_INSTRUCTION_POSITION,
  answerFormatFor,
  formatDemoAnswer,
  formatTaskMessages,
  type AnswerFormatPosition,
  type InstructionPosition,
  type TaskKind,
} from './answer-format.js';
import { DEFAULT_SCORE_CALIBRATION, type CalibrationMode } from './calibration.js';
import type { ExampleMetric, TextTask } from './types.js';

export interface TextTaskOptions {
  /** Where the instruction goes around the question (default: before it). */
  instructionPosition?: InstructionPosition;
  /** Score mode's label calibration (default: DEFAULT_SCORE_CALIBRATION). */
  scoreCalibration?: CalibrationMode;
  /** Whether the answer format ends the user turn or opens it (default: DEFAULT_ANSWER_FORMAT_POSITION). */
  answerFormatPosition?: AnswerFormatPosition;
}

/** At most this many distinct word targets make a task a classification task (navigate: Yes/No). */
const MAX_CLASSIFICATION_LABELS = 10;

const TASK_DESCRIPTIONS: Record<string, string> = {
  gsm8k: 'Solve grade-school math word problems; the answer is a single number.',
};

function describe(splits: DatasetSplits, labels: readonly string[] | undefined): string {
  const known = TASK_DESCRIPTIONS[splits.name];
  if (known) return known;
  const title = splits.name.replace(/^bbh:/, 'BIG-Bench Hard task ').replace(/_/g, ' ');
  if (labels && labels.length > 0) return `${title}: answer each problem with one of ${labels.join(', ')}.`;
  return `${title}: answer each problem exactly.`;
}

function allExamples(splits: DatasetSplits): Example[] {
  return [...splits.train, ...splits.validation, ...splits.test];
}

/** Distinct targets, when they form a small closed set of words (not multiple-choice letters). */
function wordLabels(splits: DatasetSplits): string[] | undefined {
  if (splits.defaultMetric !== 'exact_match') return undefined;
  const targets = [...new Set(allExamples(splits).map((example) => example.target.trim()))].sort();
  if (targets.length < 2 || targets.length > MAX_CLASSIFICATION_LABELS) return undefined;
  if (targets.some((target) => isMultipleChoiceTarget(target) || !/^[\p{L}-]+$/u.test(target))) return undefined;
  return targets;
}

/** The option letters of a multiple-choice task: every letter its questions offer, not only those that are answers. */
function multipleChoiceLabels(splits: DatasetSplits): string[] | undefined {
  const examples = allExamples(splits);
  const targets = [...new Set(examples.map((example) => example.target.trim()))];
  if (targets.length === 0 || !targets.every(isMultipleChoiceTarget)) return undefined;
  const offered = examples.flatMap((example) => optionLettersIn(example.input));
  return [...new Set([...targets, ...offered])].sort();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** For closed label sets: the label named after the last "answer is" cue, else the first label on the last line naming one. */
export function extractLabel(reply: string, labels: readonly string[]): string | null {
  const lower = reply.toLowerCase();
  const cue = lower.lastIndexOf('answer is');
  if (cue >= 0) {
    const cued = firstLabelIn(reply.slice(cue), labels);
    if (cued) return cued;
  }
  // No cue: a reasoned reply ends with its conclusion, so the last line that names a label decides.
  const lines = reply.split('\n').reverse();
  for (const line of lines) {
    const found = firstLabelIn(line, labels);
    if (found) return found;
  }
  return null;
}

function firstLabelIn(region: string, labels: readonly string[]): string | null {
  let best: { label: string; index: number } | undefined;
  for (const label of labels) {
    const match = new RegExp(`(?<![\\p{L}])${escapeRegExp(label)}(?![\\p{L}])`, 'iu').exec(region);
    if (match && (best === undefined || match.index < best.index)) best = { label, index: match.index };
  }
  return best?.label ?? null;
}

/** Multiple choice: the normalized answer when it is a letter, else the last "(X)" in the reply. */
function extractChoice(reply: string): string | null {
  const normalized = normalizeExactAnswer(reply);
  if (/^\([a-r]\)$/.test(normalized)) return normalized.toUpperCase();
  const letters = [...reply.matchAll(/\(([A-R])\)/g)];
  const last = letters[letters.length - 1];
  return last?.[1] ? `(${last[1]})` : null;
}

const numericMetric: ExampleMetric = (prediction, example) =>
  numbersMatch(prediction, example.target)
    ? { score: 1 }
    : { score: 0, feedback: `expected ${example.target}, got ${prediction ?? 'no number'}` };

const exactMetric: ExampleMetric = (prediction, example) =>
  exactAnswersMatch(prediction, example.target)
    ? { score: 1 }
    : {
        score: 0,
        feedback: `expected "${example.target}", got ${prediction === null ? 'no answer' : `"${prediction}"`}`,
      };

/** The option letters a multiple-choice question lists, e.g. ["(A)", "(B)", "(C)"] for "(A) … (B) … (C) …". */
export function optionLettersIn(input: string): string[] {
  return [...new Set([...input.matchAll(/^\(([A-R])\)/gm)].map((match) => `(${match[1]})`))];
}

/** Builds the task for loaded splits: extraction and metric follow the dataset's metric and label set. */
export function createTextTask(splits: DatasetSplits, options: TextTaskOptions = {}): TextTask {
  const labels = wordLabels(splits);
  const choices = labels ? undefined : multipleChoiceLabels(splits);
  const numeric = splits.defaultMetric === 'numeric_match';
  const kind: TaskKind = labels ? 'classification' : choices ? 'multiple_choice' : numeric ? 'numeric' : 'free_form';
  const formatPosition = options.answerFormatPosition ?? DEFAULT_ANSWER_FORMAT_POSITION;
  const layout = {
    answerFormat: answerFormatFor(kind, labels ?? choices, formatPosition),
    position: options.instructionPosition ?? DEFAULT_INSTRUCTION_POSITION,
    formatPosition,
  };
  const extractAnswer = (reply: string): string | null => {
    if (numeric) return extractNumericAnswer(reply);
    if (labels) return extractLabel(reply, labels);
    if (choices) return extractChoice(reply);
    const normalized = normalizeExactAnswer(reply);
    return normalized === '' ? null : normalized;
  };
  return {
    name: splits.name,
    description: describe(splits, labels ?? choices),
    metricName: splits.defaultMetric,
    scoreKind: labels ? 'balanced_accuracy' : 'accuracy',
    kind,
    answerFormat: layout.answerFormat,
    instructionPosition: layout.position,
    answerFormatPosition: layout.formatPosition,
    scoreCalibration: options.scoreCalibration ?? DEFAULT_SCORE_CALIBRATION,
    labels: labels ?? choices,
    ...(choices ? { choicesOf: (example: Example) => optionLettersIn(example.input) } : {}),
    requiredLabelWords: [],
    maxAnswerTokens: numeric ? 400 : 200,
    splits,
    formatMessages: (instruction, example) => formatTaskMessages(instruction, example, layout),
    demoAnswer: (example) => formatDemoAnswer(kind, formatPosition, example),
    extractAnswer,
    metric: numeric ? numericMetric : exactMetric,
  };
}

/** Loads a dataset by spec (`bbh:navigate`, `gsm8k`, `jsonl:PATH`) and wraps it as a text task. */
export async function loadTextTask(
  spec: string,
  options: DatasetLoadOptions & TextTaskOptions = {},
): Promise<TextTask> {
  return createTextTask(await loadDataset(spec, options), options);
}
