// `opt-native serve` as a child process under a mixed load: the requests, their expected outcomes and the server's
// resident memory (read from /proc, so Linux only). Used by tests/reliability-serve-load.test.ts.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { repoRoot } from './cli-harness.js';

/** Runs the CLI from source with absolute paths, so that the server's working folder can be anywhere. */
const ENTRY = `import { main } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'ts/cli/main.ts')).href)};
await main(['node', 'opt-native', ...process.argv.slice(1)]);`;
const TSX = pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;

export interface ServeChild {
  url: string;
  pid: number;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** Starts `opt-native serve <args> --port 0` in `cwd` and resolves once it prints its URL. */
export function startServeChild(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ServeChild> {
  const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', ENTRY, '--', ...args], {
    cwd,
    env,
  });
  let output = '';
  child.stderr.on('data', (data) => (output += String(data)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (data) => {
      output += String(data);
      const url = / at (http:\/\/\S+)\n/.exec(output)?.[1];
      if (url) resolve({ url, pid: child.pid!, output: () => output, stop: () => stopChild(child) });
    });
    child.on('close', (code) => reject(new Error(`serve exited ${code} before listening: ${output}`)));
  });
}

function stopChild(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  return closed;
}

export interface Memory {
  rssKiB: number;
  peakKiB: number;
}

/** VmRSS and VmHWM of a process. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
}

/** What one request of the mix is, and what it must get. */
export type RequestKind =
  | 'chat'
  | 'stream'
  | 'injection'
  | 'oversized-declared'
  | 'oversized-streamed'
  | 'oversized-headers-only'
  | 'malformed-json'
  | 'bad-field'
  | 'not-found'
  | 'abort-stream'
  | 'abort-waiting';

/** How a request ended, as the client saw it. */
export interface Outcome {
  kind: RequestKind;
  /** HTTP status, or 'aborted' when the client aborted it, or 'error: …' when the connection failed. */
  status: number | 'aborted' | string;
  body: string;
  promptTokens?: number;
}

export interface LoadContext {
  url: string;
  /** Credentials the server was started with; sent inside prompts and bad fields. */
  secrets: string[];
  maxBodyBytes: number;
  /** The text of a message forging a system turn. */
  forged: string;
  /** max_tokens of the generations that clients abort (prompt + max_tokens must fit the context). */
  longAnswerTokens: number;
}

const TINY_ANSWER_TOKENS = 8; // too few tokens for a model to echo a whole key from its prompt

function chatBody(content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'm',
    max_tokens: TINY_ANSWER_TOKENS,
    messages: [{ role: 'user', content }],
    ...extra,
  });
}

async function post(
  context: LoadContext,
  kind: RequestKind,
  body: string | ReadableStream<Uint8Array>,
  init: RequestInit = {},
  path = '/chat/completions',
): Promise<Outcome> {
  try {
    const response = await fetch(`${context.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      ...init,
    });
    const text = await response.text();
    return { kind, status: response.status, body: text, promptTokens: promptTokensOf(text) };
  } catch (error) {
    return failed(kind, error);
  }
}

function failed(kind: RequestKind, error: unknown): Outcome {
  const name = (error as Error).name;
  if (name === 'AbortError' || name === 'TimeoutError') return { kind, status: 'aborted', body: '' };
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return { kind, status: `error: ${String(error)}${cause ? ` (${cause})` : ''}`, body: '' };
}

/** `usage.prompt_tokens` of a JSON body or of the usage frame of an SSE stream. */
function promptTokensOf(text: string): number | undefined {
  const match = /"prompt_tokens":(\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** A body that is sent in pieces without a Content-Length and runs past the limit. */
function streamedBody(bytes: number, secret: string): ReadableStream<Uint8Array> {
  const piece = new TextEncoder().encode(`${secret} `.repeat(Math.ceil(4096 / (secret.length + 1))));
  let sent = 0;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(`{"messages":[{"role":"user","content":"`));
    },
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(piece);
      sent += piece.length;
    },
  });
}

/** Only the headers of a request claiming a body far over the limit; the body is never sent. */
function headersOnly(context: LoadContext): Promise<Outcome> {
  const url = new URL(`${context.url}/chat/completions`);
  return new Promise((resolve) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' }, (res) => {
      let body = '';
      res.on('data', (data) => (body += String(data)));
      res.on('end', () => resolve({ kind: 'oversized-headers-only', status: res.statusCode ?? 0, body }));
    });
    request.setHeader('content-type', 'application/json');
    request.setHeader('content-length', String(64 * context.maxBodyBytes));
    request.setHeader('authorization', `Bearer ${context.secrets[0]}`);
    request.on('error', (error) => resolve(failed('oversized-headers-only', error)));
    request.flushHeaders();
  });
}

/** Reads a stream up to its first content frame, then aborts it. */
async function abortStream(context: LoadContext): Promise<Outcome> {
  const controller = new AbortController();
  try {
    const response = await fetch(`${context.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chatBody('Count to one hundred.', { stream: true, max_tokens: context.longAnswerTokens }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('"content"')) {
      const { value, done } = await reader.read();
      if (done) return { kind: 'abort-stream', status: response.status, body: seen };
      seen += new TextDecoder().decode(value);
    }
    controller.abort();
    await reader.read();
    return { kind: 'abort-stream', status: response.status, body: seen };
  } catch (error) {
    return failed('abort-stream', error);
  }
}

/** A long generation whose client gives up after `afterMs`, most likely while it still waits for a slot. */
function abortWaiting(context: LoadContext, afterMs: number): Promise<Outcome> {
  return post(context, 'abort-waiting', chatBody('Write a long story.', { max_tokens: context.longAnswerTokens }), {
    signal: AbortSignal.timeout(afterMs),
  });
}

const BAD_FIELDS = (secret: string): Record<string, unknown>[] => [
  { messages: [{ role: secret, content: 'hi' }] },
  { messages: [{ role: 'user', content: 'hi' }], temperature: secret },
  { messages: [{ role: 'user', content: 'hi' }], max_tokens: -5 },
  { messages: [{ role: 'user', content: 'hi' }], seed: 2 ** 64 },
  { messages: [] },
  { model: secret },
  { messages: [{ role: 'user', content: secret }], stream: true, n: 2 },
  { messages: [{ role: 'user', content: [{ type: 'image', url: secret }] }] },
];

/** The request for slot `index` of a mix of `kinds`; the secret sent rotates through the configured ones. */
export function requestFor(kind: RequestKind, index: number, context: LoadContext): Promise<Outcome> {
  const secret = context.secrets[index % context.secrets.length]!;
  const oversized = 'x'.repeat(2 * context.maxBodyBytes);
  switch (kind) {
    case 'chat':
      return post(context, kind, chatBody(`key ${secret}`, { seed: index, temperature: 1 }));
    case 'stream':
      return post(context, kind, chatBody(`hi ${secret}`, { stream: true, stream_options: { include_usage: true } }));
    case 'injection':
      return post(context, kind, chatBody(context.forged, { max_tokens: 1 }));
    case 'oversized-declared':
      return post(context, kind, chatBody(`${secret} ${oversized}`));
    case 'oversized-streamed':
      return post(context, kind, streamedBody(2 * context.maxBodyBytes, secret), { duplex: 'half' } as RequestInit);
    case 'oversized-headers-only':
      return headersOnly(context);
    case 'malformed-json':
      return post(context, kind, `{"messages": [{"role": "user", "content": "${secret}"}`);
    case 'bad-field': {
      const fields = BAD_FIELDS(secret);
      return post(context, kind, JSON.stringify(fields[index % fields.length]));
    }
    case 'not-found':
      return post(context, kind, chatBody(secret), {}, `/${secret}`);
    case 'abort-stream':
      return abortStream(context);
    case 'abort-waiting':
      return abortWaiting(context, 20 + (index % 5) * 10);
  }
}

/** The status each kind must end with. */
export const EXPECTED_STATUS: Record<RequestKind, (number | 'aborted')[]> = {
  chat: [200],
  stream: [200],
  injection: [200],
  'oversized-declared': [413],
  'oversized-streamed': [413],
  'oversized-headers-only': [413],
  'malformed-json': [400],
  'bad-field': [400],
  'not-found': [404],
  'abort-stream': ['aborted'],
  // Aborted while waiting for a slot, or (rarely) answered first.
  'abort-waiting': ['aborted', 200],
};

/** `counts` requests of each kind, interleaved so that every kind is in flight beside every other. */
export function interleave(counts: Partial<Record<RequestKind, number>>): RequestKind[] {
  const queues = Object.entries(counts).map(([kind, count]) =>
    Array<RequestKind>(count ?? 0).fill(kind as RequestKind),
  );
  const mix: RequestKind[] = [];
  while (queues.some((queue) => queue.length > 0)) {
    for (const queue of queues) if (queue.length > 0) mix.push(queue.pop()!);
  }
  return mix;
}
