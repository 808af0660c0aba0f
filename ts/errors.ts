import { errorMessage, redactSecrets } from './secrets.js';

/** Stable error codes shared by the native core, providers and the CLI. */
export type ErrorCode =
  | 'E_BAD_INPUT'
  | 'E_FILE_NOT_FOUND'
  | 'E_MISSING_COLUMN'
  | 'E_EMPTY_TABLE'
  | 'E_UNKNOWN_LABEL'
  | 'E_MODEL_NOT_FOUND'
  | 'E_MODEL_FORMAT'
  | 'E_MODEL_LOAD'
  | 'E_MODEL_DISPOSED'
  | 'E_INFERENCE'
  | 'E_TOKENIZER'
  | 'E_OOM'
  | 'E_ABORTED'
  | 'E_BAD_AUDIO'
  | 'E_PROVIDER'
  | 'E_BUDGET'
  | 'E_CIRCUIT_OPEN'
  | 'E_NATIVE_PANIC'
  | 'E_NATIVE_UNAVAILABLE'
  | 'E_DOWNLOAD'
  | 'E_CHECKSUM'
  | 'E_SANDBOX_UNAVAILABLE'
  | 'E_EVALUATOR'
  | 'E_INTERNAL';

/** A coded error. Its message never holds a credential: configured keys and key shapes are redacted here. */
export class OptNativeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(redactSecrets(message), options);
    this.name = 'OptNativeError';
    this.code = code;
  }
}

const CODE_PREFIX = /^\[(E_[A-Z_]+)\]\s*/;

/**
 * Native errors cross the boundary as `[E_CODE] message`; turn them back into coded errors.
 * Anything else is returned as an E_INTERNAL error wrapping the original.
 */
export function fromNativeError(error: unknown): OptNativeError {
  if (error instanceof OptNativeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const match = CODE_PREFIX.exec(message);
  if (match?.[1]) {
    return new OptNativeError(match[1] as ErrorCode, message.slice(match[0].length), { cause: error });
  }
  return new OptNativeError('E_INTERNAL', message, { cause: error });
}

/** An error as one stored line: `[E_CODE] message` for a coded error, else its redacted message. */
export function errorText(error: unknown): string {
  if (error instanceof OptNativeError) return `[${error.code}] ${error.message}`;
  return errorMessage(error);
}
