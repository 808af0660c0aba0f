import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { redactSecrets } from '../secrets.js';

export type LogLevel = Level | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Paths whose values are secrets; pino replaces them before anything is written. */
export const REDACTED_PATHS = [
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'options.headers.authorization',
];

/** Replaces configured keys and key-shaped substrings (bearer tokens, `sk-…`) of a message with [REDACTED]. */
export const scrubSecrets = redactSecrets;

export interface LoggerOptions {
  level?: LogLevel;
  /** Defaults to stderr, so stdout stays for results (and `serve`'s URL). */
  destination?: DestinationStream;
}

/** The project's logger: JSON lines on stderr, API keys redacted by path and by pattern. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
      formatters: {
        log: (object) => JSON.parse(scrubSecrets(JSON.stringify(object))) as Record<string, unknown>,
      },
    },
    options.destination ?? pino.destination(2),
  );
}

export type { Logger };
