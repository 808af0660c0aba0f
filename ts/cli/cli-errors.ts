// Every failure of the CLI as one `error[E_CODE]: message` line: coded errors as they are, commander's usage errors
// as E_BAD_INPUT (without the whole help), and the system errors a user can cause (a folder where a file belongs, a
// busy port, an unknown host) mapped to codes. Stacks stay out of it unless OPT_NATIVE_DEBUG is set.
import { CommanderError } from 'commander';
import { z, ZodError } from 'zod';
import { OptNativeError, type ErrorCode } from '../errors.js';
import { redactSecrets } from '../secrets.js';

/** Node's `error.code` values a user can cause, with the code and the hint we print. */
const SYSTEM_ERRORS: Record<string, { code: ErrorCode; hint: string }> = {
  ENOENT: { code: 'E_FILE_NOT_FOUND', hint: 'no such file or folder' },
  EISDIR: { code: 'E_BAD_INPUT', hint: 'a folder was given where a file is expected' },
  ENOTDIR: { code: 'E_BAD_INPUT', hint: 'a file was given where a folder is expected' },
  EACCES: { code: 'E_BAD_INPUT', hint: 'permission denied' },
  EPERM: { code: 'E_BAD_INPUT', hint: 'operation not permitted' },
  EADDRINUSE: { code: 'E_BAD_INPUT', hint: 'the address is already in use (pick another --port)' },
  EADDRNOTAVAIL: { code: 'E_BAD_INPUT', hint: 'the address is not available on this machine (check --host)' },
  ENOTFOUND: { code: 'E_PROVIDER', hint: 'the host name does not resolve' },
  ECONNREFUSED: { code: 'E_PROVIDER', hint: 'the connection was refused' },
  ENOSPC: { code: 'E_INTERNAL', hint: 'no space left on the device' },
};

/** Usage errors commander throws once `exitOverride` is on; help and --version exit 0 and are not errors. */
function fromCommanderError(error: CommanderError): OptNativeError | undefined {
  if (error.exitCode === 0) return undefined;
  const message = error.message.replace(/^error:\s*/i, '').replace(/\s+$/, '');
  return new OptNativeError('E_BAD_INPUT', `${message} (see --help)`, { cause: error });
}

type SystemError = Error & { code?: unknown; cause?: unknown };

/** A system error, or one that wraps it (`fetch failed` carries the DNS error as its cause). */
function fromSystemError(error: SystemError): OptNativeError | undefined {
  const inner = error.cause instanceof Error ? (error.cause as SystemError) : undefined;
  const source = typeof error.code === 'string' ? error : inner;
  const known = typeof source?.code === 'string' ? SYSTEM_ERRORS[source.code] : undefined;
  if (!source || !known) return undefined;
  return new OptNativeError(known.code, `${known.hint}: ${source.message}`, { cause: error });
}

/** The coded error to report, or undefined for commander's help/version exits (nothing to report). */
export function toCliError(error: unknown): OptNativeError | undefined {
  if (error instanceof OptNativeError) return error;
  if (error instanceof CommanderError) return fromCommanderError(error);
  // A config that fails its schema: zod's readable summary, not the JSON of its issues.
  if (error instanceof ZodError) {
    return new OptNativeError('E_BAD_INPUT', `invalid options: ${z.prettifyError(error).replace(/\n\s*/g, ' ')}`);
  }
  if (error instanceof Error) {
    return fromSystemError(error) ?? new OptNativeError('E_INTERNAL', error.message, { cause: error });
  }
  return new OptNativeError('E_INTERNAL', String(error));
}

/** Prints `error[E_CODE]: message` (one line per line of the message, no stack unless OPT_NATIVE_DEBUG is set). */
export function reportCliError(error: OptNativeError, write: (line: string) => void = console.error): void {
  write(`error[${error.code}]: ${error.message}`);
  if (process.env.OPT_NATIVE_DEBUG && error.stack) write(redactSecrets(error.stack));
}
