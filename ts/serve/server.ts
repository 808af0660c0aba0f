import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OptNativeError } from '../errors.js';
import { concurrencyLimitMiddleware } from '../llm/concurrency-middleware.js';
import { toOpenAIFinishReason } from '../llm/map-finish-reason.js';
import { wrapLanguageModel } from '../llm/middleware.js';
import type { GenerateRequest, LanguageModel } from '../llm/types.js';
import type { Logger } from '../run/logger.js';
import { redactSecrets } from '../secrets.js';
import { clientDisconnectSignal, readJsonBody, sendJson, SseWriter } from './http-io.js';
import {
  chatBodyToRequests,
  chatCompletionBodySchema,
  chatCompletionChunk,
  chatCompletionResponse,
  completionBodySchema,
  completionBodyToRequests,
  completionChunk,
  completionResponse,
  errorResponse,
  parseBody,
} from './openai-wire.js';

export interface ServeOptions {
  model: LanguageModel;
  /** Defaults to 127.0.0.1: the server is for this machine unless asked otherwise. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Name listed by /v1/models and echoed in responses; defaults to the model's id. */
  modelName?: string;
  logger?: Logger;
  /** Larger bodies get 413 before any of them is parsed or tokenized (default 1 MiB). */
  maxBodyBytes?: number;
  /** Generations run at once; further requests queue (default 4: each holds a prompt and its KV cache). */
  maxConcurrency?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CONCURRENCY = 4;

export interface RunningServer {
  /** Base URL for OpenAI clients, ending in /v1. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

type Endpoint = 'chat' | 'completion';

/** An OpenAI-compatible HTTP server over any LanguageModel: /v1/chat/completions, /v1/completions, /v1/models. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  options = {
    ...options,
    model: wrapLanguageModel(
      options.model,
      concurrencyLimitMiddleware(options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY),
    ),
  };
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      options.logger?.error({ err: error }, 'unhandled error in the request handler');
      if (!response.headersSent) sendJson(response, 500, errorResponse(error).body);
      else response.destroy();
    });
  });
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    close: () => closeServer(server),
  };
}

/** Binds the server; a --host that does not resolve is the user's input, not a provider failure. */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error & { code?: string }) => {
      if (error.code !== 'ENOTFOUND' && error.code !== 'EAI_AGAIN') return reject(error);
      reject(new OptNativeError('E_BAD_INPUT', `--host ${host} does not resolve to an address of this machine`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

async function handle(options: ServeOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  const modelName = options.modelName ?? options.model.modelId;
  const startedAt = Date.now();
  response.on('finish', () =>
    options.logger?.debug({ method: request.method, path, status: response.statusCode, ms: Date.now() - startedAt }),
  );
  if (request.method === 'GET' && path === '/health') return sendJson(response, 200, { status: 'ok' });
  if (request.method === 'GET' && path === '/v1/models') {
    return sendJson(response, 200, {
      object: 'list',
      data: [{ id: modelName, object: 'model', created: 0, owned_by: `opt-native:${options.model.provider}` }],
    });
  }
  const endpoint: Endpoint | undefined =
    path === '/v1/chat/completions' ? 'chat' : path === '/v1/completions' ? 'completion' : undefined;
  if (request.method !== 'POST' || !endpoint) {
    // The path is the client's text, echoed back: a key pasted into a URL must not come back in the answer.
    const message = redactSecrets(`no route for ${request.method} ${path}`);
    return sendJson(response, 404, { error: { message, type: 'invalid_request_error', code: 'not_found' } });
  }
  const signal = clientDisconnectSignal(response);
  let call: ParsedCall;
  try {
    const raw = await readJsonBody(request, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    call = parseCall(endpoint, raw, signal);
  } catch (error) {
    const { status, body } = errorResponse(error);
    return sendJson(response, status, body);
  }
  const { requests: generateRequests, stream, includeUsage } = call;
  const id = `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const first = generateRequests[0] as GenerateRequest;
  if (stream) return streamAnswer(options, response, { endpoint, id, created, modelName, includeUsage }, first);
  try {
    const results = await Promise.all(
      generateRequests.map((generateRequest) => options.model.generate(generateRequest)),
    );
    const build = endpoint === 'chat' ? chatCompletionResponse : completionResponse;
    sendJson(response, 200, build(id, created, modelName, results));
  } catch (error) {
    if (signal.aborted) return;
    options.logger?.warn({ err: error, path }, 'generation failed');
    const { status, body } = errorResponse(error);
    sendJson(response, status, body);
  }
}

interface ParsedCall {
  requests: GenerateRequest[];
  stream: boolean;
  includeUsage: boolean;
}

/** Validates a body of either endpoint and turns it into model requests (n > 1 is refused for streams). */
function parseCall(endpoint: Endpoint, raw: unknown, signal: AbortSignal): ParsedCall {
  const body = endpoint === 'chat' ? parseBody(chatCompletionBodySchema, raw) : parseBody(completionBodySchema, raw);
  const requests = 'messages' in body ? chatBodyToRequests(body, signal) : completionBodyToRequests(body, signal);
  const stream = body.stream === true;
  if (stream && requests.length > 1) throw new OptNativeError('E_BAD_INPUT', 'stream with n > 1 is not supported');
  return { requests, stream, includeUsage: body.stream_options?.include_usage === true };
}

interface StreamContext {
  endpoint: Endpoint;
  id: string;
  created: number;
  modelName: string;
  includeUsage: boolean;
}

async function streamAnswer(
  options: ServeOptions,
  response: ServerResponse,
  context: StreamContext,
  generateRequest: GenerateRequest,
): Promise<void> {
  const { endpoint, id, created, modelName } = context;
  const sse = new SseWriter(response);
  const chunk = (content: string, finishReason: 'stop' | 'length' | null = null) =>
    endpoint === 'chat'
      ? chatCompletionChunk(id, created, modelName, { content }, finishReason)
      : completionChunk(id, created, modelName, content, finishReason);
  if (endpoint === 'chat') sse.send(chatCompletionChunk(id, created, modelName, { role: 'assistant', content: '' }));
  try {
    const stream = options.model.stream(generateRequest);
    for await (const part of stream) {
      if (generateRequest.signal?.aborted) break;
      sse.send(chunk(part.delta));
    }
    const result = await stream.result;
    sse.send(chunk('', toOpenAIFinishReason(result.finishReason)));
    if (context.includeUsage) {
      const { promptTokens, completionTokens } = result.usage;
      sse.send({
        id,
        object: endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion',
        created,
        model: modelName,
        choices: [],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
      });
    }
    sse.done();
  } catch (error) {
    if (generateRequest.signal?.aborted) return;
    options.logger?.warn({ err: error }, 'generation failed mid-stream');
    sse.send(errorResponse(error).body);
    response.end();
  }
}
