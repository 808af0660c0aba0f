import type { Command } from 'commander';
import { OptNativeError } from '../../errors.js';
// Registers the loader of `native:` model strings (the addon itself loads only when such a model is asked for).
import '../../llm/native-provider.js';
import { createLanguageModel } from '../../llm/registry.js';
import { createLogger, type LogLevel } from '../../run/logger.js';
import { startServer } from '../../serve/server.js';

interface ServeCommandOptions {
  model: string;
  host: string;
  port: string;
  name?: string;
  maxConcurrency?: string;
  logLevel?: LogLevel;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OptNativeError('E_BAD_INPUT', `--port must be an integer in 0..65535, got "${value}"`);
  }
  return port;
}

function parseConcurrency(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new OptNativeError('E_BAD_INPUT', `--max-concurrency must be a positive integer, got "${value}"`);
  }
  return limit;
}

/** `opt-native serve`: an OpenAI-compatible HTTP server over any model string (local Qwen via native:…). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models)')
    .requiredOption(
      '--model <model>',
      'model string: native:/path/model.gguf, native:default, openai-compatible:URL#MODEL, …',
    )
    .option('--host <host>', 'interface to bind (127.0.0.1 keeps it local)', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks a free one', '8000')
    .option('--name <name>', 'model name listed by /v1/models (default: the model id)')
    .option('--max-concurrency <n>', 'generations run at once; more requests wait in line (default: no limit)')
    .action(async (_options: ServeCommandOptions, command: Command) => {
      const options = command.optsWithGlobals<ServeCommandOptions>();
      const logger = createLogger({ level: options.logLevel ?? 'info' });
      const model = await createLanguageModel(options.model, { logger });
      const server = await startServer({
        model,
        host: options.host,
        port: parsePort(options.port),
        modelName: options.name,
        maxConcurrency: options.maxConcurrency === undefined ? undefined : parseConcurrency(options.maxConcurrency),
        logger,
      });
      process.stdout.write(`opt-native serve: ${options.model} at ${server.url}\n`);
      await waitForShutdown();
      await server.close();
      await model.dispose?.();
    });
}

function waitForShutdown(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
