// A real HTTP server on 127.0.0.1 for the download, mirror and hub tests: static routes with Range support,
// a request log, and an option to cut a response short (an interrupted download).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  body: Buffer;
  contentType?: string;
  /** Ignore Range headers and always answer 200 with the whole body. */
  ignoreRange?: boolean;
  /** Send only this many bytes of the next response, then destroy the socket (once). */
  cutAfterBytes?: number;
}

export interface LoggedRequest {
  path: string;
  range: string | undefined;
}

export interface TestServer {
  baseUrl: string;
  routes: Map<string, Route>;
  requests: LoggedRequest[];
  close(): Promise<void>;
}

function sendRange(route: Route, rangeHeader: string, response: ServerResponse): boolean {
  const match = /^bytes=(\d+)-$/.exec(rangeHeader);
  if (!match) return false;
  const start = Number(match[1]);
  if (start >= route.body.length) {
    response.writeHead(416, { 'content-range': `bytes */${route.body.length}` }).end();
    return true;
  }
  response.writeHead(206, {
    'content-type': route.contentType ?? 'application/octet-stream',
    'content-length': route.body.length - start,
    'content-range': `bytes ${start}-${route.body.length - 1}/${route.body.length}`,
  });
  response.end(route.body.subarray(start));
  return true;
}

function handle(routes: Map<string, Route>, request: IncomingMessage, response: ServerResponse): void {
  const route = routes.get(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
  if (!route) {
    response.writeHead(404).end('not found');
    return;
  }
  if (route.cutAfterBytes !== undefined) {
    const cut = route.cutAfterBytes;
    route.cutAfterBytes = undefined;
    response.writeHead(200, { 'content-length': route.body.length });
    // Drop the connection only after the client has had time to read and store the bytes sent so far.
    response.write(route.body.subarray(0, cut), () => setTimeout(() => response.destroy(), 250));
    return;
  }
  const range = request.headers.range;
  if (range && !route.ignoreRange && sendRange(route, range, response)) return;
  response.writeHead(200, {
    'content-type': route.contentType ?? 'application/octet-stream',
    'content-length': route.body.length,
  });
  response.end(route.body);
}

export async function startTestServer(): Promise<TestServer> {
  const routes = new Map<string, Route>();
  const requests: LoggedRequest[] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ path: request.url ?? '', range: request.headers.range });
    handle(routes, request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    routes,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function jsonRoute(value: unknown): Route {
  return { body: Buffer.from(JSON.stringify(value)), contentType: 'application/json' };
}
