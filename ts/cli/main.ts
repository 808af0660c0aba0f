import { Command, Option } from 'commander';
import { LOG_LEVELS } from '../run/logger.js';
import { reportCliError, toCliError } from './cli-errors.js';
import { commandRegistrations } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('opt-native')
    .description('Prompt optimization with a native Rust core: OPRO and friends on local Qwen and hosted LLMs')
    .version('0.1.0')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    // Usage errors throw (subcommands inherit both settings) and main() prints them as one coded line.
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  for (const register of commandRegistrations) register(program);
  return program;
}

/** Entry point of the `opt-native` binary: every failure prints `error[E_CODE]: message` and exits 1. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    const coded = toCliError(error);
    if (!coded) return; // --help or --version
    reportCliError(coded);
    process.exitCode = 1;
  }
}
