/**
 * The settings of one teacher–student experiment, and the original tool's batch file:
 * `fine_tuning: { dataset_path, defaults: {...}, models: [{...}, ...] }`, one experiment per entry of `models`
 * (entry keys over `defaults` over the file's dataset path). Keys may be snake_case, kebab-case or camelCase;
 * flags given on the command line override every experiment of the file.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { OptNativeError } from '../../errors.js';
import { oneLineParseError } from '../../parse-error-message.js';
import { withConfigErrors } from '../engine/config.js';

export const HINT_TYPES = ['action', 'subgoal', 'none'] as const;
export type AgentHintType = (typeof HINT_TYPES)[number];

export const teacherStudentSettingsSchema = z
  .object({
    name: z.string().min(1).default('program'),
    datasetPath: z.string().min(1),
    teacherModel: z.string().min(1),
    studentModel: z.string().min(1),
    /** A model string, or `planner` for the free deterministic judge. */
    assessorModel: z.string().min(1).default('planner'),
    hintType: z.enum(HINT_TYPES).default('action'),
    encodingType: z.enum(['ascii', 'natural', 'tuples', 'relative']).default('ascii'),
    samplesPerCategory: z.number().int().min(1).optional(),
    maxBootstrappedDemos: z.number().int().min(0).default(1),
    maxLabeledDemos: z.number().int().min(0).default(4),
    minibatchSize: z.number().int().min(1).default(35),
    auto: z.enum(['light', 'medium', 'heavy']).default('light'),
    outputDir: z.string().min(1).default('teacher-student-out'),
    /** Dev states MIPROv2 scores candidates on (seeded sample; the auto preset may cut further). */
    devSize: z.number().int().min(1).optional(),
    /** Completion budget of the instruction proposer and summarizer (MIPROv2's prompt model). */
    proposerMaxTokens: z.number().int().min(16).default(400),
    /** Held-out states scored for the printout. */
    evalSize: z.number().int().min(1).default(100),
    /** Closed-loop episodes on held-out seeds, and their step limit. */
    episodes: z.number().int().min(0).default(10),
    episodeMaxSteps: z.number().int().min(1).default(30),
    /** The planner judge's rule: reasonable when the regret is at most this (and not fatal). */
    maxRegret: z.number().int().min(0).default(1),
    /** `jsonl`: export the 1.0-scored student traces; `lora`: also train a LoRA adapter of a native student on them. */
    distill: z.enum(['jsonl', 'lora', 'none']).default('jsonl'),
    /**
     * Whose 1.0-scored traces on the train states, running the optimized program, are distilled: the student's own
     * (the original tool's) or the teacher's. `planner`: the exact planner's labels (the labelled demos' reply) on
     * `distillSize` states drawn from the whole train split, under the optimized instruction without its demos (the
     * adapter takes their place, as DSPy's BootstrapFinetune drops demos).
     */
    distillFrom: z.enum(['student', 'teacher', 'planner']).default('student'),
    /** Train-split states labelled by the planner for `distillFrom: planner`, drawn as the split holds them. */
    distillSize: z.number().int().min(1).default(120),
    /** Epochs of the `lora` distillation. */
    distillEpochs: z.number().int().min(1).default(2),
    teacherBaseline: z.boolean().default(true),
    maxTokens: z.number().int().min(8).default(96),
    seed: z.number().int().min(0).default(0),
  })
  .strict();

export type TeacherStudentSettings = z.output<typeof teacherStudentSettingsSchema>;

function camelCase(key: string): string {
  return key.replace(/[-_]([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

function camelKeys(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptNativeError('E_BAD_INPUT', `${where} must be a mapping of settings`);
  }
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [camelCase(key), entry]));
}

/** Validates one experiment's merged settings: E_BAD_INPUT naming the setting. */
export function parseSettings(values: Record<string, unknown>, context?: string): TeacherStudentSettings {
  return withConfigErrors(() => teacherStudentSettingsSchema.parse(values), context);
}

/** The experiments of a batch file (YAML or JSON) with `overrides` (the flags given) on top of each. */
export function experimentsFromFile(
  text: string,
  path: string,
  overrides: Record<string, unknown> = {},
): TeacherStudentSettings[] {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new OptNativeError('E_BAD_INPUT', `cannot parse ${path}: ${oneLineParseError(error)}`, { cause: error });
  }
  const root = camelKeys(parsed, path);
  const fineTuning = camelKeys(root.fineTuning, `${path}: fine_tuning`);
  const defaults = fineTuning.defaults === undefined ? {} : camelKeys(fineTuning.defaults, `${path}: defaults`);
  const models = fineTuning.models ?? [{}];
  if (!Array.isArray(models) || models.length === 0) {
    throw new OptNativeError('E_BAD_INPUT', `${path}: fine_tuning.models must be a non-empty list`);
  }
  const base = fineTuning.datasetPath === undefined ? {} : { datasetPath: fineTuning.datasetPath };
  return models.map((entry, index) =>
    parseSettings(
      { ...base, ...defaults, ...camelKeys(entry, `${path}: models[${index}]`), ...overrides },
      `${path}: models[${index}]`,
    ),
  );
}
