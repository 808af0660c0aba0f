import type { Command } from 'commander';
import { registerBalanced } from './balanced.js';
import { registerClassifyAudio } from './classify-audio.js';
import { registerData } from './data.js';
import { registerBench } from './bench.js';
import { registerEvaluate } from './evaluate.js';
import { registerExperiments } from './experiments.js';
import { registerFinetune } from './finetune.js';
import { registerGenerate } from './generate.js';
import { registerMetrics } from './metrics.js';
import { registerModels } from './models.js';
import { registerOpro } from './opro.js';
import { registerOptimize } from './optimize.js';
import { registerReport } from './report.js';
import { registerServe } from './serve.js';
import { registerTeacherStudent } from './teacher-student.js';
import { registerWorker } from './worker.js';

/** Each CLI command lives in its own file and registers itself on the program. */
export type CommandRegistration = (program: Command) => void;

export const commandRegistrations: CommandRegistration[] = [
  registerBalanced,
  registerClassifyAudio,
  registerData,
  registerBench,
  registerEvaluate,
  registerExperiments,
  registerFinetune,
  registerGenerate,
  registerMetrics,
  registerModels,
  registerOpro,
  registerOptimize,
  registerReport,
  registerServe,
  registerTeacherStudent,
  registerWorker,
];
