// Options shared by `opro` and `evaluate`: which task, which split, how many examples, and a --config file.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { DatasetLoadOptions, SplitName } from '../datasets/types.js';
import { OptNativeError } from '../errors.js';
import { oneLineParseError } from '../parse-error-message.js';
import {
  ANSWER_FORMAT_POSITIONS,
  DEFAULT_ANSWER_FORMAT_POSITION,
  DEFAULT_INSTRUCTION_POSITION,
  INSTRUCTION_POSITIONS,
  type AnswerFormatPosition,
  type InstructionPosition,
} from '../tasks/answer-format.js';
import { CALIBRATION_MODES, DEFAULT_SCORE_CALIBRATION, type CalibrationMode } from '../tasks/calibration.js';
import { integerFlag, numberFlag, seedFlag, type NumberRange } from '../numbers.js';
import { loadTextTask } from '../tasks/text-task.js';
import type { TextTask } from '../tasks/types.js';
import { commandValues } from './flag-aliases.js';

export interface TaskOptionValues {
  task?: string;
  manifest?: string;
  split: string;
  trainSize?: number;
  evalSize?: number;
  testSize?: number;
  testMode?: boolean;
  datasetsRoot?: string;
  inputField?: string;
  targetField?: string;
  idField?: string;
  seed: number;
  evalMaxNewTokens?: number;
  instructionPosition?: InstructionPosition;
  answerFormatPosition?: AnswerFormatPosition;
  calibration?: CalibrationMode;
}

/** A non-negative integer flag (default range 0..2^32-1), with a coded error naming the flag. */
export function integerOption(flag: string, range: NumberRange = {}): (value: string) => number {
  return integerFlag(flag, range);
}

/** A number flag (any finite number unless a range is given). */
export function numberOption(flag: string, range: NumberRange = {}): (value: string) => number {
  return numberFlag(flag, range);
}

export function addTaskOptions(command: Command, defaultSplit: string): Command {
  return command
    .option('--task <spec>', 'text task: bbh:<task> (e.g. bbh:navigate), gsm8k or jsonl:PATH')
    .option('--manifest <path>', 'audio manifest (Parquet/CSV/JSONL with clip id, audio path, label, conditions)')
    .option('--split <name>', 'split to use: train, validation (alias dev) or test', defaultSplit)
    .option('--train-size <n>', 'training examples (exemplars for the optimizer)', integerOption('--train-size'))
    .option('--eval-size <n>', 'validation examples candidates are scored on', integerOption('--eval-size'))
    .option('--test-size <n>', 'held-out test examples', integerOption('--test-size'))
    .option('--test-mode', '5 examples per split, for smoke tests')
    .option('--datasets-root <dir>', 'folder with gsm8k/ and bbh/ (default $OPT_NATIVE_DATASETS or ../shared/datasets)')
    .option('--input-field <name>', 'jsonl: field holding the input', undefined)
    .option('--target-field <name>', 'jsonl: field holding the target', undefined)
    .option('--id-field <name>', 'jsonl: field holding a stable id', undefined)
    .addOption(
      new Option('--seed <n>', 'seed of splits, sampling and the optimizer').default(42).argParser(seedFlag('--seed')),
    );
}

/** `dev` is the original tool's name for the validation split. */
export function splitName(split: string): SplitName {
  const name = split === 'dev' ? 'validation' : split;
  if (name !== 'train' && name !== 'validation' && name !== 'test') {
    throw new OptNativeError('E_BAD_INPUT', `--split must be train, validation (dev) or test, got "${split}"`);
  }
  return name;
}

export function datasetLoadOptions(values: TaskOptionValues): DatasetLoadOptions {
  return {
    seed: values.seed,
    sizes: { train: values.trainSize, validation: values.evalSize, test: values.testSize },
    testMode: values.testMode,
    datasetsRoot: values.datasetsRoot,
    inputField: values.inputField,
    targetField: values.targetField,
    idField: values.idField,
  };
}

/** The --task of a text run; `--manifest` (audio) runs take the audio path instead, and both at once is refused. */
export function requireTextTask(values: TaskOptionValues): string {
  if (values.manifest !== undefined) {
    throw new OptNativeError('E_BAD_INPUT', 'pass either --task (text) or --manifest (audio), not both');
  }
  if (values.task === undefined) throw new OptNativeError('E_BAD_INPUT', 'pass --task (bbh:<task>, gsm8k, jsonl:PATH)');
  return values.task;
}

const camelCase = (key: string) => key.replace(/[-_]([a-z])/g, (_match, letter: string) => letter.toUpperCase());

/**
 * Applies a --config file (JSON or YAML; keys as the long flags, kebab-case, snake_case or camelCase) to the options
 * the command line left at their defaults: flags given explicitly win over the file.
 */
export function applyConfigFile(command: Command, path: string): void {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new OptNativeError('E_BAD_INPUT', `cannot read --config ${path}: ${oneLineParseError(error)}`, {
      cause: error,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OptNativeError('E_BAD_INPUT', `--config ${path} must hold an object of option names to values`);
  }
  for (const [rawKey, value] of Object.entries(parsed)) {
    const key = camelCase(rawKey);
    const option = command.options.find((candidate) => candidate.attributeName() === key);
    if (!option || key === 'config') {
      throw new OptNativeError('E_BAD_INPUT', `--config ${path}: unknown option "${rawKey}"`);
    }
    const source = command.getOptionValueSource(key);
    if (source === undefined || source === 'default') {
      command.setOptionValueWithSource(key, configValue(option, rawKey, value, path), 'config');
    }
  }
}

/** A config value through the flag's own parser (range checks, choices), as if it had been typed. */
function configValue(option: Option, rawKey: string, value: unknown, path: string): unknown {
  if (!option.parseArg) return plainConfigValue(option, rawKey, value, path);
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `--config ${path}: "${rawKey}" must be a number or a string, got ${JSON.stringify(value)}`,
    );
  }
  try {
    return option.parseArg(String(value), undefined);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new OptNativeError('E_BAD_INPUT', `--config ${path}: "${rawKey}": ${message}`);
  }
}

/**
 * A value for an option without a parser, of the type typing the flag would give: a switch takes true or false, an
 * option with an argument a string (a number is taken as its digits), a variadic one a string or a list of strings.
 */
function plainConfigValue(option: Option, rawKey: string, value: unknown, path: string): unknown {
  const text = (item: unknown) => (typeof item === 'number' && Number.isFinite(item) ? String(item) : item);
  const takesValue = option.required || option.optional;
  const given = Array.isArray(value) && option.variadic ? value.map(text) : text(value);
  const ok = !takesValue
    ? typeof given === 'boolean'
    : option.variadic && Array.isArray(given)
      ? given.every((item) => typeof item === 'string')
      : typeof given === 'string' || (option.optional && typeof given === 'boolean');
  if (!ok) {
    const expected = !takesValue ? 'true or false' : option.variadic ? 'a string or a list of strings' : 'a string';
    throw new OptNativeError(
      'E_BAD_INPUT',
      `--config ${path}: "${rawKey}" must be ${expected}, got ${JSON.stringify(value)}`,
    );
  }
  return given;
}

/** `--device cpu|cuda` of the commands that load a native model (default cpu). */
export function deviceOption(): Option {
  return new Option('--device <device>', 'cpu or cuda').choices(['cpu', 'cuda']).default('cpu');
}

/** Options both commands take after the task: the evaluated model, how it answers, and a --config file. */
export function addEvaluatorOptions(command: Command, defaultModel: string): Command {
  return command
    .option('--evaluator <model>', 'model being prompted', defaultModel)
    .option(
      '--eval-max-new-tokens <n>',
      'completion limit of the evaluated model (default: 400 for numeric tasks, 200 otherwise)',
      integerOption('--eval-max-new-tokens', { min: 1 }),
    )
    .addOption(
      new Option('--eval-mode <mode>', 'generate answers or score label choices')
        .choices(['generate', 'score'])
        .default('generate'),
    )
    .addOption(
      new Option(
        '--instruction-position <where>',
        'where the instruction goes: before or after the question, or system',
      )
        .choices([...INSTRUCTION_POSITIONS])
        .default(DEFAULT_INSTRUCTION_POSITION),
    )
    .addOption(
      new Option(
        '--answer-format-position <where>',
        'end: the answer format right before the answer (short replies); start: before the question, so the model may work first',
      )
        .choices([...ANSWER_FORMAT_POSITIONS])
        .default(DEFAULT_ANSWER_FORMAT_POSITION),
    )
    .addOption(
      new Option(
        '--calibration <mode>',
        "score mode: correct label scores by the evaluated examples' mean (batch) or a content-free prior (contextual)",
      )
        .choices([...CALIBRATION_MODES])
        .default(DEFAULT_SCORE_CALIBRATION),
    )
    .option('--config <file>', 'JSON or YAML file of options (flags given on the command line win)');
}

/** Runs a command's action after applying its --config file. */
export function withConfigFile<T>(
  run: (values: T, command: Command) => Promise<void>,
): (options: unknown, self: Command) => Promise<void> {
  return async (_options, self) => {
    const config = self.getOptionValue('config') as string | undefined;
    if (config !== undefined) applyConfigFile(self, config);
    await run(commandValues<T>(self), self);
  };
}

/** Loads the text task the options name, with the evaluated model's completion limit applied. */
export async function loadTaskFromOptions(taskSpec: string, values: TaskOptionValues): Promise<TextTask> {
  const task = await loadTextTask(taskSpec, {
    ...datasetLoadOptions(values),
    instructionPosition: values.instructionPosition,
    answerFormatPosition: values.answerFormatPosition,
    scoreCalibration: values.calibration,
  });
  return values.evalMaxNewTokens === undefined ? task : { ...task, maxAnswerTokens: values.evalMaxNewTokens };
}
