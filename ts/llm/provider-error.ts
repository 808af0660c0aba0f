import { OptNativeError } from '../errors.js';
import { redactSecrets } from '../secrets.js';

export type ProviderFailureKind = 'rate-limit' | 'server' | 'client' | 'timeout' | 'connection' | 'malformed';

/**
 * A failed provider call (E_PROVIDER) with what retry logic needs: the kind of failure, the HTTP status, whether
 * retrying can help, and the delay the server asked for.
 */
export class ProviderError extends OptNativeError {
  readonly kind: ProviderFailureKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** Set when retrying would be wrong whatever the kind (a stream that already handed out text). */
  readonly final: boolean;

  constructor(
    kind: ProviderFailureKind,
    message: string,
    details: { status?: number; retryAfterMs?: number; final?: boolean; cause?: unknown } = {},
  ) {
    super('E_PROVIDER', message, { cause: details.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.final = details.final ?? false;
  }

  get retryable(): boolean {
    return this.kind !== 'client' && !this.final;
  }
}

/** `Retry-After` (seconds or an HTTP date) or `retry-after-ms`, in milliseconds; undefined when absent or bad. */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | undefined,
  nowMs: number,
): number | undefined {
  const milliseconds = headers?.get('retry-after-ms');
  if (milliseconds && Number.isFinite(Number(milliseconds))) return Math.max(0, Number(milliseconds));
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

interface SdkErrorShape {
  status?: unknown;
  headers?: unknown;
  name?: unknown;
  message?: unknown;
}

function asHeaderGetter(headers: unknown): { get(name: string): string | null } | undefined {
  if (headers && typeof (headers as Headers).get === 'function') return headers as Headers;
  if (headers && typeof headers === 'object') {
    const record = headers as Record<string, string>;
    return { get: (name) => record[name] ?? record[name.toLowerCase()] ?? null };
  }
  return undefined;
}

/**
 * Maps an error of the `openai` / `@anthropic-ai/sdk` clients (both Stainless-generated, same error classes) to a
 * ProviderError or E_ABORTED. `label` names the provider and model in the message; `signal` is the request's.
 */
export function toProviderError(
  error: unknown,
  label: string,
  signal?: AbortSignal,
  nowMs: number = Date.now(),
): OptNativeError {
  if (error instanceof OptNativeError) return error;
  return describeSdkError(error, label, signal, nowMs);
}

/** A stand-in for the client's error: same name, redacted message (it quotes the body, which may echo the key). */
function redactedCause(error: unknown): Error {
  const cause = new Error(redactSecrets(error instanceof Error ? error.message : String(error)));
  cause.name = error instanceof Error ? error.name : 'Error';
  return cause;
}

function describeSdkError(raw: unknown, label: string, signal: AbortSignal | undefined, nowMs: number): OptNativeError {
  const error = redactedCause(raw);
  const shape = (raw ?? {}) as SdkErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : '';
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  // Whatever the client made of it, a request whose signal fired was aborted (not a connection failure).
  if (signal?.aborted || name === 'APIUserAbortError' || name === 'AbortError') {
    return new OptNativeError('E_ABORTED', `${label}: the request was aborted`, { cause: error });
  }
  if (name === 'APIConnectionTimeoutError') {
    return new ProviderError('timeout', `${label}: request timed out`, { cause: error });
  }
  if (name === 'APIConnectionError') {
    return new ProviderError('connection', `${label}: connection failed: ${message}`, { cause: error });
  }
  if (typeof shape.status === 'number') {
    const status = shape.status;
    const retryAfterMs = parseRetryAfter(asHeaderGetter(shape.headers), nowMs);
    const kind =
      status === 429 ? 'rate-limit' : status >= 500 || status === 408 || status === 409 ? 'server' : 'client';
    return new ProviderError(kind, `${label}: HTTP ${status}: ${message}`, { status, retryAfterMs, cause: error });
  }
  if (raw instanceof SyntaxError) {
    return new ProviderError('malformed', `${label}: malformed response: ${message}`, { cause: error });
  }
  // Undici/fetch failures of a dropped connection mid-body surface as TypeError('terminated') and friends.
  return new ProviderError('connection', `${label}: ${message}`, { cause: error });
}
