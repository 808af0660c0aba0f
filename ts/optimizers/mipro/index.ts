export { AUTO_MODES, AUTO_RUN_SETTINGS, miproConfigSchema, miproRunSettings, trialsForCandidates } from './config.js';
export type { AutoMode, MiproConfig, MiproRunSettings } from './config.js';
export { MiproOptimizer, runMipro, type MiproInput, type MiproResult } from './optimizer.js';
export { textTaskAdapter, type MiproAdapter, type MiproDemo, type MiproProgram } from './program.js';
export { PROPOSER_TIPS } from './prompts.js';
export { adjustedTrialCount, trialSchedule, type ScheduledTrial } from './schedule.js';
export { runProgram, type ProgramRunResult } from './evaluate.js';
export type { MiproTrialRecord } from './search.js';
export type { ProposedInstruction } from './proposer.js';
