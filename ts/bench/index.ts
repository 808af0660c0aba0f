export { expandManifest, loadManifestFile, manifestFromFlags, ManifestError, type ManifestIssue } from './manifest.js';
export { createOptimizer, OPTIMIZER_NAMES } from './optimizers.js';
export { executeBenchTask } from './execute.js';
export { runBenchmark, DEFAULT_CHECKPOINT_DIR, type BenchRunOptions } from './run.js';
export { BenchStore, type RunSummary, type TaskRecord } from './store.js';
export { startBenchWorker, type BenchWorkerOptions } from './worker.js';
export { renderBenchReport } from './report.js';
export type { BenchTaskResult, BenchTaskSpec, OptimizerName } from './types.js';
