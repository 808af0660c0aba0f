/**
 * Benchmark manifests in the original tool's format: validated against schemas/manifest.schema.json (ajv, every
 * error with its JSON path), then checked for what a schema cannot know (dataset families, model strings, optimizer
 * parameters), then expanded into task specs: explicit `tasks` first, then each generator's datasets × models ×
 * optimizers in that order.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDatasetSpec, registeredDatasetPrefixes } from '../datasets/registry.js';
import { OptNativeError } from '../errors.js';
import { oneLineParseError } from '../parse-error-message.js';
import { parseModelString } from '../llm/model-string.js';
import { canonicalOptimizerName, createOptimizer, initialInstruction, optimizerConfigOf } from './optimizers.js';
import { packageFile } from './package-files.js';
import type { BenchTaskSpec, DatasetRef, MetricName, ModelParameters, PromptMessage, SplitRefs } from './types.js';

export const DEFAULT_BENCH_SEED = 42;
export const DEFAULT_BENCH_MODEL = 'native:default';

type Metric = MetricName | { path: MetricName; kwargs?: Record<string, unknown> };

interface ManifestTask {
  dataset: DatasetRef;
  datasets?: SplitRefs;
  optimizer: string;
  model: string;
  optimizer_model?: string;
  test_mode?: boolean;
  model_parameters?: ModelParameters;
  optimizer_params?: Record<string, unknown>;
  optimizer_prompt_params?: Record<string, unknown>;
  metrics?: Metric[];
  prompt?: PromptMessage[];
}

interface ManifestGenerator {
  datasets: { dataset: DatasetRef; datasets?: SplitRefs }[];
  models: (string | { name: string; model_parameters?: ModelParameters })[];
  optimizers: (
    | string
    | { name: string; optimizer_params?: Record<string, unknown>; optimizer_prompt_params?: Record<string, unknown> }
  )[];
  optimizer_model?: string;
  test_mode?: boolean;
  metrics?: Metric[];
  prompt?: PromptMessage[];
}

export interface BenchManifest {
  seed?: number;
  test_mode?: boolean;
  tasks?: ManifestTask[];
  generators?: ManifestGenerator[];
}

export interface ManifestIssue {
  /** JSON path of the offending value: `$.tasks[1].optimizer`. */
  readonly path: string;
  readonly message: string;
}

/** Thrown with every issue of a manifest; nothing is started. */
export class ManifestError extends OptNativeError {
  constructor(
    readonly issues: readonly ManifestIssue[],
    source = 'manifest',
  ) {
    super(
      'E_BAD_INPUT',
      `invalid ${source} (${issues.length} error${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n'),
    );
    this.name = 'ManifestError';
  }
}

let validator: ValidateFunction | undefined;

export function manifestSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(packageFile('schemas', 'manifest.schema.json'), 'utf8')) as Record<string, unknown>;
}

function compiledValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(
    manifestSchema(),
  );
  return validator;
}

/** `/tasks/1/dataset` → `$.tasks[1].dataset`. */
export function jsonPath(pointer: string, child?: string): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/');
  if (child !== undefined) parts.push(child);
  return (
    '$' +
    parts
      .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((part) =>
        /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`,
      )
      .join('')
  );
}

function issueOf(error: ErrorObject): ManifestIssue | undefined {
  switch (error.keyword) {
    case 'if':
      return undefined; // the failing branch reports the real error
    case 'required':
      return { path: jsonPath(error.instancePath, String(error.params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return {
        path: jsonPath(error.instancePath, String(error.params.additionalProperty)),
        message: 'is not a known property',
      };
    case 'enum':
      return {
        path: jsonPath(error.instancePath),
        message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'anyOf':
      return error.instancePath === ''
        ? { path: '$', message: 'needs "tasks" or "generators"' }
        : { path: jsonPath(error.instancePath), message: error.message ?? 'is invalid' };
    default:
      return { path: jsonPath(error.instancePath), message: error.message ?? 'is invalid' };
  }
}

function schemaIssues(manifest: unknown): ManifestIssue[] {
  const validate = compiledValidator();
  if (validate(manifest)) return [];
  const issues = (validate.errors ?? []).map(issueOf).filter((issue): issue is ManifestIssue => issue !== undefined);
  // The root anyOf also reports each missing branch as `required`; keep the one clear message.
  const needsOne = issues.some((issue) => issue.path === '$');
  const unique = new Map<string, ManifestIssue>();
  for (const issue of issues) {
    if (needsOne && (issue.path === '$.tasks' || issue.path === '$.generators') && issue.message === 'is required')
      continue;
    unique.set(`${issue.path}\u0000${issue.message}`, issue);
  }
  return [...unique.values()];
}

function datasetSpecs(dataset: DatasetRef, datasets: SplitRefs | undefined): string[] {
  const specs = [typeof dataset === 'string' ? dataset : dataset.loader];
  for (const split of [datasets?.train, datasets?.validation, datasets?.test]) if (split) specs.push(split.loader);
  return specs;
}

function datasetIssues(path: string, dataset: DatasetRef, datasets: SplitRefs | undefined): ManifestIssue[] {
  const known = registeredDatasetPrefixes();
  return datasetSpecs(dataset, datasets)
    .filter((spec) => !known.includes(parseDatasetSpec(spec).prefix))
    .map((spec) => ({ path, message: `unknown dataset "${spec}"; known families: ${known.join(', ')}` }));
}

/** Model strings: provider strings, plus the hidden test-only `scripted:<path>`. */
function modelIssue(path: string, model: string): ManifestIssue | undefined {
  if (model.startsWith('scripted:')) return undefined;
  try {
    parseModelString(model);
    return undefined;
  } catch (error) {
    return { path, message: (error as Error).message };
  }
}

function metricName(metric: Metric): MetricName {
  return typeof metric === 'string' ? metric : metric.path;
}

function datasetDisplayName(dataset: DatasetRef, datasets: SplitRefs | undefined): string {
  if (typeof dataset === 'string') return dataset;
  return dataset.dataset_name ?? datasets?.train.dataset_name ?? dataset.loader;
}

function slug(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 40) || 'x'
  );
}

/** Where each part of a task came from, for error messages. */
interface DraftPaths {
  readonly dataset: string;
  readonly model: string;
  readonly optimizerModel: string;
  readonly optimizer: string;
}

interface Draft extends Omit<BenchTaskSpec, 'taskId'> {
  readonly paths: DraftPaths;
}

function taskPaths(index: number, task: ManifestTask): DraftPaths {
  const base = `$.tasks[${index}]`;
  const paramsKey =
    task.optimizer_prompt_params === undefined
      ? 'optimizer_params'
      : task.optimizer_params === undefined
        ? 'optimizer_prompt_params'
        : 'optimizer_params|optimizer_prompt_params';
  return {
    dataset: `${base}.dataset`,
    model: `${base}.model`,
    optimizerModel: `${base}.optimizer_model`,
    optimizer: `${base}.${paramsKey}`,
  };
}

function draftOf(manifest: BenchManifest, paths: DraftPaths, task: ManifestTask): Draft {
  return {
    paths,
    datasetName: datasetDisplayName(task.dataset, task.datasets),
    dataset: task.dataset,
    ...(task.datasets ? { datasets: task.datasets } : {}),
    optimizer: canonicalOptimizerName(task.optimizer),
    model: task.model,
    optimizerModel: task.optimizer_model ?? task.model,
    modelParameters: task.model_parameters ?? {},
    optimizerParams: task.optimizer_params ?? {},
    optimizerPromptParams: task.optimizer_prompt_params ?? {},
    metrics: (task.metrics ?? []).map(metricName),
    ...(task.prompt ? { prompt: task.prompt } : {}),
    testMode: task.test_mode ?? manifest.test_mode ?? false,
    seed: manifest.seed ?? DEFAULT_BENCH_SEED,
  };
}

function generatorDrafts(manifest: BenchManifest, index: number, generator: ManifestGenerator): Draft[] {
  const drafts: Draft[] = [];
  generator.datasets.forEach((dataset, d) => {
    generator.models.forEach((model, m) => {
      generator.optimizers.forEach((optimizer, o) => {
        const modelName = typeof model === 'string' ? model : model.name;
        const optimizerEntry = typeof optimizer === 'string' ? { name: optimizer } : optimizer;
        drafts.push(
          draftOf(
            manifest,
            {
              dataset: `$.generators[${index}].datasets[${d}]`,
              model: `$.generators[${index}].models[${m}]`,
              optimizerModel: `$.generators[${index}].optimizer_model`,
              optimizer: `$.generators[${index}].optimizers[${o}]`,
            },
            {
              dataset: dataset.dataset,
              ...(dataset.datasets ? { datasets: dataset.datasets } : {}),
              optimizer: optimizerEntry.name,
              model: modelName,
              ...(generator.optimizer_model ? { optimizer_model: generator.optimizer_model } : {}),
              ...(generator.test_mode === undefined ? {} : { test_mode: generator.test_mode }),
              ...(typeof model === 'string' || !model.model_parameters
                ? {}
                : { model_parameters: model.model_parameters }),
              ...(optimizerEntry.optimizer_params ? { optimizer_params: optimizerEntry.optimizer_params } : {}),
              ...(optimizerEntry.optimizer_prompt_params
                ? { optimizer_prompt_params: optimizerEntry.optimizer_prompt_params }
                : {}),
              ...(generator.metrics ? { metrics: generator.metrics } : {}),
              ...(generator.prompt ? { prompt: generator.prompt } : {}),
            },
          ),
        );
      });
    });
  });
  return drafts;
}

/** What a schema cannot check: dataset families, model strings and each optimizer's parameters. */
function semanticIssues(drafts: readonly Draft[]): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  for (const draft of drafts) {
    issues.push(...datasetIssues(draft.paths.dataset, draft.dataset, draft.datasets));
    const modelProblem = modelIssue(draft.paths.model, draft.model);
    if (modelProblem) issues.push(modelProblem);
    const optimizerModelProblem = modelIssue(draft.paths.optimizerModel, draft.optimizerModel);
    if (optimizerModelProblem && draft.optimizerModel !== draft.model) issues.push(optimizerModelProblem);
    try {
      const { config } = optimizerConfigOf(draft.optimizer, draft.optimizerParams, draft.optimizerPromptParams);
      createOptimizer(draft.optimizer, config, { initialPrompt: initialInstruction(draft.prompt) });
    } catch (error) {
      issues.push({
        path: draft.paths.optimizer,
        message: `${draft.optimizer} parameters: ${(error as Error).message}`,
      });
    }
  }
  const unique = new Map(issues.map((issue) => [`${issue.path}\u0000${issue.message}`, issue]));
  return [...unique.values()];
}

/**
 * Validates a parsed manifest and expands it into task specs with ids `t000-<dataset>-<optimizer>-<model>`.
 * Throws ManifestError listing every problem.
 */
export function expandManifest(manifest: unknown, source = 'manifest'): BenchTaskSpec[] {
  const structural = schemaIssues(manifest);
  const broken = (prefix: string) =>
    structural.some(
      (issue) => issue.path === prefix || issue.path.startsWith(`${prefix}.`) || issue.path.startsWith(`${prefix}[`),
    );
  if (structural.length > 0 && (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest))) {
    throw new ManifestError(structural, source);
  }
  const parsed = manifest as BenchManifest;
  // Entries without schema errors are checked further, so that one pass lists every problem.
  const listOf = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
  const drafts = [
    ...listOf(parsed.tasks).flatMap((task, index) =>
      broken(`$.tasks[${index}]`) ? [] : [draftOf(parsed, taskPaths(index, task), task)],
    ),
    ...listOf(parsed.generators).flatMap((generator, index) =>
      broken(`$.generators[${index}]`) ? [] : generatorDrafts(parsed, index, generator),
    ),
  ];
  const issues = [...structural, ...semanticIssues(drafts)];
  if (issues.length > 0) throw new ManifestError(issues, source);
  if (drafts.length === 0) throw new ManifestError([{ path: '$', message: 'expands to no tasks' }], source);
  return drafts.map(({ paths: _paths, ...draft }, index) => ({
    taskId: `t${String(index).padStart(3, '0')}-${slug(draft.datasetName)}-${draft.optimizer}-${slug(draft.model.replace(/^scripted:.*\//, 'scripted:'))}`,
    ...draft,
  }));
}

/** Reads, validates and expands a manifest file. */
export function loadManifestFile(path: string): { manifest: BenchManifest; tasks: BenchTaskSpec[] } {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'E_FILE_NOT_FOUND' : 'E_BAD_INPUT';
    throw new OptNativeError(code, `cannot read manifest ${path}: ${oneLineParseError(error)}`);
  }
  return { manifest: manifest as BenchManifest, tasks: expandManifest(manifest, `manifest ${path}`) };
}

export interface FlagSelection {
  readonly datasets: readonly string[];
  readonly optimizers: readonly string[];
  readonly models: readonly string[];
  readonly optimizerModel?: string;
  readonly testMode?: boolean;
  readonly seed?: number;
}

/** `bench run --datasets … --optimizers … --models …` as a one-generator manifest. */
export function manifestFromFlags(selection: FlagSelection): BenchManifest {
  return {
    seed: selection.seed ?? DEFAULT_BENCH_SEED,
    test_mode: selection.testMode ?? false,
    generators: [
      {
        datasets: selection.datasets.map((dataset) => ({ dataset })),
        models: [...(selection.models.length > 0 ? selection.models : [DEFAULT_BENCH_MODEL])],
        optimizers: [...selection.optimizers],
        ...(selection.optimizerModel ? { optimizer_model: selection.optimizerModel } : {}),
      },
    ],
  };
}
