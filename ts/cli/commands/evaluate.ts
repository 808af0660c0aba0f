// `opt-native evaluate`: score one prompt on a split; predictions to CSV, metrics to stdout (and optionally JSON).
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { evaluateTextPrompt, type EvaluationReport, type Prediction } from '../../tasks/evaluate.js';
import { audioMetricsReport, audioPredictionsCsv } from '../../audio/target.js';
import { addAudioEvaluatorOptions, openAudioTarget, type AudioEvaluatorValues } from '../audio-target.js';
import { LanguageModelResolver } from '../../llm/resolver.js';
import {
  addEvaluatorOptions,
  addTaskOptions,
  loadTaskFromOptions,
  requireTextTask,
  splitName,
  withConfigFile,
  type TaskOptionValues,
} from '../task-options.js';
import { DEFAULT_MODEL } from './opro.js';

interface EvaluateOptionValues extends TaskOptionValues, AudioEvaluatorValues {
  promptFile?: string;
  prompt?: string;
  evaluator: string;
  evalMode: 'generate' | 'score';
  outputCsv?: string;
  metricsJson?: string;
  config?: string;
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export const PREDICTION_CSV_HEADER = ['id', 'raw_output', 'normalized_answer', 'target', 'correct'] as const;

export function predictionsCsv(predictions: readonly Prediction[]): string {
  const rows = predictions.map((prediction) =>
    [prediction.id, prediction.raw, prediction.answer ?? '', prediction.target, prediction.correct ? '1' : '0']
      .map(csvField)
      .join(','),
  );
  return `${[PREDICTION_CSV_HEADER.join(','), ...rows].join('\n')}\n`;
}

function readPrompt(values: EvaluateOptionValues): string {
  if (values.prompt !== undefined) return values.prompt;
  if (values.promptFile === undefined) throw new OptNativeError('E_BAD_INPUT', 'pass --prompt-file (or --prompt)');
  try {
    return readFileSync(values.promptFile, 'utf8').trim();
  } catch (error) {
    throw new OptNativeError('E_FILE_NOT_FOUND', `cannot read --prompt-file ${values.promptFile}`, { cause: error });
  }
}

function metricsReport(task: string, split: string, report: EvaluationReport): Record<string, unknown> {
  return {
    task,
    split,
    score: report.score,
    accuracy: report.accuracy,
    balanced_accuracy: report.balancedAccuracy,
    n_samples: report.examples,
    failures: report.failures,
    usage: report.usage,
  };
}

/** Audio manifests: native Qwen2-Audio predictions per clip, metrics overall and per condition value. */
async function runAudioEvaluate(values: EvaluateOptionValues): Promise<void> {
  const prompt = readPrompt(values);
  const split = splitName(values.split);
  const audio = await openAudioTarget(values);
  try {
    const clips = audio.clips(split);
    const { predictions, scores } = await audio.predict(split, prompt);
    if (values.outputCsv) {
      writeFileSync(values.outputCsv, audioPredictionsCsv(clips, predictions, audio.dataset.conditionColumns));
    }
    const metrics = audioMetricsReport(values.manifest as string, split, clips, predictions, scores);
    if (values.metricsJson) writeFileSync(values.metricsJson, `${JSON.stringify(metrics, null, 2)}\n`);
    console.log(JSON.stringify(metrics, null, 2));
    if (values.outputCsv) console.log(`predictions: ${values.outputCsv}`);
  } finally {
    await audio.dispose();
  }
}

async function runEvaluate(values: EvaluateOptionValues): Promise<void> {
  if (values.manifest !== undefined) return runAudioEvaluate(values);
  const taskSpec = requireTextTask(values);
  const instruction = readPrompt(values);
  const task = await loadTaskFromOptions(taskSpec, values);
  const split = splitName(values.split);
  const examples = task.splits[split];
  const resolver = new LanguageModelResolver();
  try {
    const model = await resolver.resolve(values.evaluator);
    const report = await evaluateTextPrompt({ task, examples, model, instruction, mode: values.evalMode });
    if (values.outputCsv) writeFileSync(values.outputCsv, predictionsCsv(report.predictions));
    const metrics = metricsReport(task.name, split, report);
    if (values.metricsJson) writeFileSync(values.metricsJson, `${JSON.stringify(metrics, null, 2)}\n`);
    console.log(`${task.name} ${split}: ${task.scoreKind} ${report.score.toFixed(4)} on ${report.examples} examples`);
    console.log(
      `accuracy ${report.accuracy.toFixed(4)}, balanced accuracy ${report.balancedAccuracy.toFixed(4)}, failures ${report.failures}`,
    );
    if (values.outputCsv) console.log(`predictions: ${values.outputCsv}`);
  } finally {
    await resolver.disposeAll();
  }
}

export function registerEvaluate(program: Command): void {
  const command = program.command('evaluate').description('score a prompt on a task split and write its predictions');
  addAudioEvaluatorOptions(addEvaluatorOptions(addTaskOptions(command, 'test'), DEFAULT_MODEL))
    .option('--prompt-file <file>', 'file holding the prompt (e.g. best_prompt.txt of an opro run)')
    .option('--prompt <text>', 'the prompt itself, instead of --prompt-file')
    .option('--output-csv <file>', 'predictions: id, raw_output, normalized_answer, target, correct')
    .option('--metrics-json <file>', 'the metrics report as JSON')
    .action(withConfigFile<EvaluateOptionValues>(runEvaluate));
}
