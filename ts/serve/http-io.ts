import type { IncomingMessage, ServerResponse } from 'node:http';
import { OptNativeError } from '../errors.js';

/** Reads and parses a JSON body up to `maxBytes`; too large or not JSON is E_BAD_INPUT. */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request) {
    const buffer = part as Buffer;
    size += buffer.length;
    if (size > maxBytes) throw new OptNativeError('E_BAD_INPUT', `request body larger than ${maxBytes} bytes`);
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
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
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
