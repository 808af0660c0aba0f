import type { Command } from 'commander';
import { registerModels } from './models.js';
import { registerServe } from './serve.js';

/** Each CLI command lives in its own file and registers itself on the program. */
export type CommandRegistration = (program: Command) => void;

export const commandRegistrations: CommandRegistration[] = [registerModels, registerServe];
