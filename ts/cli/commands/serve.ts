import type { Command } from 'commander';
// Registers the loader of `native:` model strings (the addon itself loads only when such a model is asked for).
import '../../llm/native-provider.js';
import { createLanguageModel } from '../../llm/registry.js';
import { createLogger, type LogLevel } from '../../run/logger.js';
import { parseInteger } from '../../numbers.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONCURRENCY, startServer } from '../../serve/server.js';

interface ServeCommandOptions {
  model: string;
  host: string;
  port: string;
  name?: string;
  maxConcurrency: string;
  maxBodyBytes: string;
  logLevel?: LogLevel;
}

/** `opt-native serve`: an OpenAI-compatible HTTP server over any model string (local Qwen via native:…). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/models)')
    .requiredOption('--model <model>', 'model string: default, native:/path/model.gguf, openai-compatible:URL#MODEL, …')
    .option('--host <host>', 'interface to bind (127.0.0.1 keeps it local)', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks a free one', '8000')
    .option('--name <name>', 'model name listed by /v1/models (default: the model id)')
    .option(
      '--max-concurrency <n>',
      'generations run at once; more requests wait in line',
      String(DEFAULT_MAX_CONCURRENCY),
    )
    .option('--max-body-bytes <n>', 'largest request body; bigger ones get 413', String(DEFAULT_MAX_BODY_BYTES))
    .action(async (_options: ServeCommandOptions, command: Command) => {
      const options = command.optsWithGlobals<ServeCommandOptions>();
      // Every flag is checked before the model loads.
      const port = parseInteger('--port', options.port, { min: 0, max: 65535 });
      const maxConcurrency = parseInteger('--max-concurrency', options.maxConcurrency, { min: 1, max: 1024 });
      const maxBodyBytes = parseInteger('--max-body-bytes', options.maxBodyBytes, { min: 1024, max: 2 ** 30 });
      const logger = createLogger({ level: options.logLevel ?? 'info' });
      const model = await createLanguageModel(options.model, { logger });
      const server = await startServer({
        model,
        host: options.host,
        port,
        modelName: options.name,
        maxConcurrency,
        maxBodyBytes,
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
