import { Command } from 'commander';
import { OptNativeError } from '../errors.js';
import { commandRegistrations } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('opt-native')
    .description('Prompt optimization with a native Rust core: OPRO and friends on local Qwen and hosted LLMs')
    .version('0.1.0')
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace or silent', 'info')
    .showHelpAfterError();
  for (const register of commandRegistrations) register(program);
  return program;
}

/** Entry point of the `opt-native` binary: coded errors print `error[E_CODE]: message` and exit 1. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof OptNativeError) {
      console.error(`error[${error.code}]: ${error.message}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}
