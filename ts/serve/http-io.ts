import type { IncomingMessage, ServerResponse } from 'node:http';
import { OptNativeError } from '../errors.js';

/** A body over the limit: E_BAD_INPUT, answered with HTTP 413. */
export class BodyTooLargeError extends OptNativeError {
  readonly httpStatus = 413;

  constructor(maxBytes: number) {
    super('E_BAD_INPUT', `request body larger than ${maxBytes} bytes`);
  }
}

/**
 * Reads and parses a JSON body up to `maxBytes`; too large (by Content-Length, before reading anything, or while
 * reading) is a BodyTooLargeError, not JSON is E_BAD_INPUT. Nothing past the limit is buffered.
 */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request) {
    const buffer = part as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new BodyTooLargeError(maxBytes);
    parts.push(buffer);
  }
  const text = Buffer.concat(parts).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new OptNativeError('E_BAD_INPUT', 'the request body is not valid JSON');
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  };
  // The rest of an oversized body is never read: close the connection instead of parsing it as the next request.
  if (status === 413) headers.connection = 'close';
  response.writeHead(status, headers);
  response.end(payload);
}

/** Server-sent events in the OpenAI dialect: `data: {json}` frames, ended by `data: [DONE]`. */
export class SseWriter {
  private readonly response: ServerResponse;

  constructor(response: ServerResponse) {
    this.response = response;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    response.flushHeaders();
  }

  send(data: unknown): void {
    this.response.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    this.response.end('data: [DONE]\n\n');
  }
}

/** An AbortSignal that fires when the client goes away before the response is complete. */
export function clientDisconnectSignal(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) {
      controller.abort(new OptNativeError('E_ABORTED', 'the client disconnected'));
    }
  });
  return controller.signal;
}
