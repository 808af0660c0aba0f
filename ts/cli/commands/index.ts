import type { Command } from 'commander';
import { registerEvaluate } from './evaluate.js';
import { registerModels } from './models.js';
import { registerOpro } from './opro.js';
import { registerServe } from './serve.js';

/** Each CLI command lives in its own file and registers itself on the program. */
export type CommandRegistration = (program: Command) => void;

export const commandRegistrations: CommandRegistration[] = [
  registerEvaluate,
  registerModels,
  registerOpro,
  registerServe,
];
