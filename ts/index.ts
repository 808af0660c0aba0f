export { OptNativeError, fromNativeError, type ErrorCode } from './errors.js';
export { nativeBinding } from './native/binding.js';
export * from './llm/types.js';
export { ScriptedLanguageModel, type ScriptedLanguageModelOptions, type ScriptedReply } from './llm/scripted.js';
export { parseModelString, type ModelSpec } from './llm/model-string.js';
export {
  createLanguageModel,
  registerNativeLoader,
  type CreateLanguageModelOptions,
  type NativeLoader,
} from './llm/registry.js';
export { OpenAICompatibleLanguageModel, type OpenAICompatibleOptions } from './llm/openai-compatible.js';
export { AnthropicLanguageModel, type AnthropicOptions } from './llm/anthropic.js';
export { ProviderError, type ProviderFailureKind } from './llm/provider-error.js';
export {
  wrapLanguageModel,
  findMiddleware,
  type LanguageModelMiddleware,
  type WrappedLanguageModel,
  type WrapCall,
  type GenerateCall,
} from './llm/middleware.js';
export {
  resilienceMiddleware,
  sharedLimiter,
  type ResilienceMiddleware,
  type ResilienceOptions,
} from './llm/resilience-middleware.js';
export { cacheMiddleware, type CachedAnswer } from './llm/cache-middleware.js';
export { budgetMiddleware } from './llm/budget-middleware.js';
export { requestOverridesMiddleware } from './llm/request-overrides.js';
export { withRunControls } from './llm/run-controls.js';
export { createModelStream, collectStream, type ModelStream } from './llm/stream-result.js';
export { Budget, BudgetExceeded, type BudgetLimits, type BudgetOptions, type BudgetSpent } from './run/budget.js';
export { DEFAULT_PRICES, costOfCall, type ModelPrice } from './run/prices.js';
export { ResponseCache, type CacheStats } from './run/cache.js';
export { AdaptiveLimiter, type AdaptiveLimiterOptions } from './run/limiter.js';
export { retryWithBackoff, backoffDelayMs, type RetryOptions } from './run/retry.js';
export { CircuitBreaker, type CircuitBreakerOptions, type BreakerState } from './run/breaker.js';
export { RunDirectory, type RunEvent } from './run/run-directory.js';
export { createProgress, type ProgressReporter } from './run/progress.js';
export { createLogger, type LogLevel } from './run/logger.js';
export { systemClock, seededRandom, type Clock } from './run/clock.js';
export { startServer, type ServeOptions, type RunningServer } from './serve/server.js';
export {
  loadDataset,
  registerDatasetLoader,
  listBbhTasks,
  resolveDatasetsRoot,
  SeededRandom,
  type DatasetLoader,
  type DatasetLoadOptions,
  type DatasetSplits,
  type Example,
  type SplitName,
} from './datasets/index.js';
export {
  loadTextTask,
  createTextTask,
  evaluateTextPrompt,
  type EvalMode,
  type EvaluationReport,
  type ExampleMetric,
  type MetricResult,
  type Prediction,
  type TextTask,
} from './tasks/index.js';
export type {
  Optimizer,
  OptimizeInput,
  OptimizationResult,
  OptimizationTask,
  OptimizationUsage,
  OptimizationHistoryEntry,
  StopReason,
} from './optimizers/contract.js';
export {
  OproOptimizer,
  resolveOproConfig,
  textPromptEvaluator,
  type OproConfig,
  type OproOptions,
  type OproResult,
  type PromptEvaluator,
  type PromptScore,
} from './optimizers/opro/index.js';
export {
  BalancedOptimizer,
  optimizeBalanced,
  runExperiments,
  writeRunResult,
  normalizeWeights,
  focusSchedule,
  balancedTaskFromText,
  balancedRunResultSchema,
  type BalancedConfig,
  type BalancedOptions,
  type BalancedRunResult,
  type BalancedTask,
  type FocusWeights,
} from './optimizers/balanced/index.js';
export { writeReport, renderReportHtml, buildReportData, loadResultsFolder } from './report/index.js';
export {
  metricsFromFile,
  metricsFromIpc,
  metricsFromArrowTable,
  metricsFromColumns,
  metricsFromCodes,
  balancedAccuracy,
  confusionMatrix,
  normalizeLabels,
  encodeLabels,
  formatMetricsReport,
  type MetricsReport,
  type ClassReport,
  type ConditionValueReport,
  type BootstrapInterval,
  type LabelSetOptions,
  type ScoreOptions,
  type TableMetricsOptions,
  type TableFormat,
  type CodedRows,
} from './metrics/index.js';
export { MetaPromptOptimizer, type MetaPromptConfig } from './optimizers/meta-prompt/index.js';
export { FewShotOptimizer, CategoricalTpe, type FewShotConfig } from './optimizers/few-shot/index.js';
export { EvolutionaryOptimizer, type EvolutionaryConfig } from './optimizers/evolutionary/index.js';
export {
  HierarchicalReflectiveOptimizer,
  type HierarchicalReflectiveConfig,
} from './optimizers/hierarchical-reflective/index.js';
export {
  expandManifest,
  loadManifestFile,
  runBenchmark,
  startBenchWorker,
  BenchStore,
  ManifestError,
  type BenchRunOptions,
  type BenchTaskSpec,
  type BenchTaskResult,
} from './bench/index.js';
export { NativeModel, type NativeLoadOptions, type NativeTokenStream } from './native/text-model.js';
export {
  finetune,
  type FinetuneCallOptions,
  type FinetuneOptions,
  type FinetuneProgress,
  type FinetuneSummary,
} from './native/finetune.js';
export {
  NativeAudioModel,
  type AudioClip,
  type AudioClassifyMode,
  type AudioClassifyOptions,
  type AudioClipResult,
  type AudioGenerateOptions,
  type AudioModelLoadOptions,
} from './native/audio-model.js';
export { audioPromptEvaluator, classifyAudio, answerLabel, type AudioPrediction } from './audio/evaluator.js';
export {
  audioClassifierModel,
  type AudioAnswer,
  type AudioClassifier,
  type AudioClassifierModelOptions,
} from './audio/classifier-model.js';
export {
  NativeLanguageModel,
  loadNativeLanguageModel,
  toNativeGenerateOptions,
  type NativeProviderOptions,
} from './llm/native-provider.js';
export {
  DEFAULT_MODEL,
  CODER_1_5B_MODEL,
  MIRRORED_MODELS,
  resolveModel,
  pullMirroredModel,
  listModels,
  modelFileInfo,
  readGgufHeader,
  downloadFile,
  type ResolvedModel,
  type ResolveOptions,
  type ListedModel,
  type ModelFileInfo,
} from './models/index.js';
export {
  optimize,
  llmScorer,
  parseFinalScore,
  sandboxEvaluator,
  type SandboxEvaluatorOptions,
  lastFencedBlock,
  TOPK_META_PROMPT,
  CHAT_FIRST_PROMPT,
  CHAT_FEEDBACK_PROMPT,
  OPTIMIZER_SYSTEM_PROMPT,
  REASK_PROMPT,
  JUDGE_PROMPT,
  type Evaluation,
  type Objective,
  type ObjectiveValue,
  type LlmScorerOptions,
  type OptimizeCandidate,
  type OptimizeResult,
  type OptimizeRunOptions,
  type OptimizeStopReason,
  type OptimizeStrategy,
} from './optimize/index.js';
export * as sandbox from './sandbox/index.js';
export type { SandboxOptions, SandboxResult, SandboxRuntime, SandboxService } from './sandbox/index.js';

// The Minigrid agent: load a saved teacher-student program and predict an action for an observation.
export {
  AGENT_INSTRUCTION,
  loadAgentProgram,
  parseAgentReply,
  predictAction,
  type AgentObservation,
  type AgentPrediction,
  type AgentProgram,
  type SavedAgentProgram,
} from './tasks/navigation/program.js';
export { runTeacherStudent, type TeacherStudentSettings } from './optimizers/teacher-student/index.js';
export { MiproOptimizer, runMipro, type MiproResult } from './optimizers/mipro/index.js';
