/**
 * A flaky-then-recovering OpenAI-compatible chat-completions server on 127.0.0.1 for the kill -9 tests. Replies
 * come from scripted models chosen by the request's `model`, so a rerun gets the same answers. Every request is
 * numbered in arrival order; inside an outage window a seeded fraction of them is refused (socket destroyed) or
 * answered HTTP 500. Each handled request is logged with its canonical body key and outcome, and an `onHandled`
 * hook (the kill switch) runs right after the answer is sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { ChatMessage, GenerateRequest } from '../ts/llm/types.js';
import { seededRandom } from '../ts/run/clock.js';

export type Outcome = 'ok' | 'http-500' | 'refused';

export interface HandledRequest {
  /** 0-based arrival number across the server's lifetime. */
  readonly index: number;
  /** The client session (process) it came from, as set by the test. */
  readonly session: number;
  /** The request as a model sees it: messages, seed, temperature, max tokens (see `requestKey`). */
  readonly key: string;
  readonly outcome: Outcome;
}

/**
 * Arrival numbers [from, from + hardDown) all fail (the provider is down: calls run out of retries and the breaker
 * opens); those in [from + hardDown, to) fail with probability `fraction` (seeded per arrival number).
 */
export interface OutageWindow {
  readonly from: number;
  readonly hardDown: number;
  readonly to: number;
  readonly fraction: number;
  readonly seed: number;
}

export interface ChaosServer {
  readonly url: string;
  readonly log: HandledRequest[];
  session: number;
  outage: OutageWindow | undefined;
  /** Runs after each handled request, once its answer (or refusal) is out. */
  onHandled: ((request: HandledRequest) => void) | undefined;
  close(): Promise<void>;
}

interface ChatBody {
  model: string;
  messages: ChatMessage[];
  seed?: number;
  temperature?: number;
  max_tokens?: number;
  top_p?: number;
  stop?: string | string[];
}

/**
 * What identifies a request on the wire. The response cache stores the same fields (`request_json`), so
 * `cacheMaterialKey` maps a cached response to the key of the HTTP request that paid for it.
 */
export function requestKey(fields: {
  model: string;
  messages: readonly (readonly [string, string])[];
  seed: number | null;
  temperature: number | null;
  maxTokens: number | null;
}): string {
  return JSON.stringify([fields.model, fields.messages, fields.seed, fields.temperature, fields.maxTokens]);
}

function keyOfBody(body: ChatBody): string {
  return requestKey({
    model: body.model,
    messages: body.messages.map((message) => [message.role, message.content] as const),
    seed: body.seed ?? null,
    temperature: body.temperature ?? null,
    maxTokens: body.max_tokens ?? null,
  });
}

/** The HTTP request key of a response cache row (`cacheKeyMaterial` JSON); sample k was sent with seed + k. */
export function cacheMaterialKey(materialJson: string): string {
  const material = JSON.parse(materialJson) as {
    modelId: string;
    messages: [string, string][];
    seed: number | null;
    temperature: number | null;
    maxTokens: number | null;
    sampleIndex: number;
  };
  return requestKey({
    model: material.modelId,
    messages: material.messages,
    seed: material.seed === null ? null : material.seed + material.sampleIndex,
    temperature: material.temperature,
    maxTokens: material.maxTokens,
  });
}

/** The outcome of arrival `index`: a seeded draw decides whether it fails and how. */
function outcomeOf(index: number, outage: OutageWindow | undefined): Outcome {
  if (!outage || index < outage.from || index >= outage.to) return 'ok';
  const random = seededRandom(outage.seed * 100_003 + index);
  const down = index < outage.from + outage.hardDown;
  if (!down && random() >= outage.fraction) return 'ok';
  return random() < 0.5 ? 'refused' : 'http-500';
}

async function readBody(request: IncomingMessage): Promise<ChatBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatBody;
}

function toGenerateRequest(body: ChatBody): GenerateRequest {
  return {
    messages: body.messages,
    ...(body.seed === undefined ? {} : { seed: body.seed }),
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.max_tokens === undefined ? {} : { maxTokens: body.max_tokens }),
  };
}

async function answer(response: ServerResponse, body: ChatBody, model: ScriptedLanguageModel): Promise<void> {
  const result = await model.generate(toGenerateRequest(body));
  const completion = {
    id: 'chatcmpl-chaos',
    object: 'chat.completion',
    created: 0,
    model: body.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: result.text },
        finish_reason: result.finishReason === 'length' ? 'length' : 'stop',
      },
    ],
    usage: {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
      total_tokens: result.usage.promptTokens + result.usage.completionTokens,
    },
  };
  response.writeHead(200, { 'content-type': 'application/json' });
  await new Promise<void>((resolve) => response.end(JSON.stringify(completion), resolve));
}

/** Starts the server; `models` maps the request's `model` field to the scripted model that answers it. */
export async function startChaosServer(models: Record<string, ScriptedLanguageModel>): Promise<ChaosServer> {
  let next = 0;
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const index = next++;
      const entry: HandledRequest = { index, session: chaos.session, key: keyOfBody(body), outcome: 'ok' };
      const outcome = outcomeOf(index, chaos.outage);
      const model = models[body.model];
      if (outcome === 'refused') {
        request.socket.destroy();
      } else if (outcome === 'http-500' || !model) {
        response.writeHead(500, { 'content-type': 'application/json' });
        await new Promise<void>((resolve) =>
          response.end(JSON.stringify({ error: { message: `outage (${body.model})` } }), resolve),
        );
      } else {
        await answer(response, body, model);
      }
      const handled = { ...entry, outcome: model ? outcome : 'http-500' };
      chaos.log.push(handled);
      chaos.onHandled?.(handled);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const chaos: ChaosServer = {
    url: `http://127.0.0.1:${port}/v1`,
    log: [],
    session: 0,
    outage: undefined,
    onHandled: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return chaos;
}
