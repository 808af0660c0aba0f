// The paperclip factory: a small HTTP game server on a Unix socket, the one service granted to the sandbox.
// Each evaluation opens a session with POST /sessions and plays for WINDOW_MS:
//   POST /s/ID/make   one paperclip by hand (the reply takes 50 ms)
//   POST /s/ID/buy    a machine for MACHINE_COST paperclips; each machine makes one paperclip every 100 ms
//   GET  /s/ID        {"clips", "machines", "timeLeftMs"}
// After the window every call answers 409; the score is the clips at the end of the window.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export const WINDOW_MS = 5000;
export const MACHINE_COST = 10;
const HAND_DELAY_MS = 50;
const MACHINE_PERIOD_MS = 100;

class Session {
  constructor(now) {
    this.started = now;
    this.clips = 0;
    this.machines = 0;
    this.accountedUntil = now;
  }

  /** Machines' output up to `now` (capped at the window's end), in whole paperclips per machine period. */
  advance(now) {
    const until = Math.min(now, this.started + WINDOW_MS);
    const periods = Math.floor((until - this.accountedUntil) / MACHINE_PERIOD_MS);
    if (periods <= 0) return;
    this.clips += periods * this.machines;
    this.accountedUntil += periods * MACHINE_PERIOD_MS;
  }

  timeLeft(now) {
    return Math.max(0, this.started + WINDOW_MS - now);
  }

  state(now) {
    this.advance(now);
    return { clips: this.clips, machines: this.machines, timeLeftMs: this.timeLeft(now) };
  }
}

function reply(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export function createFactory() {
  const sessions = new Map();
  const server = createServer(async (request, response) => {
    const now = Date.now();
    if (request.method === 'POST' && request.url === '/sessions') {
      const id = randomUUID();
      sessions.set(id, new Session(now));
      return reply(response, 200, { id, windowMs: WINDOW_MS });
    }
    const match = /^\/s\/([\w-]+)(\/make|\/buy)?$/.exec(request.url ?? '');
    const session = match && sessions.get(match[1]);
    if (!session) return reply(response, 404, { error: 'no such session' });
    if (request.method === 'GET' && !match[2]) return reply(response, 200, session.state(now));
    if (session.timeLeft(now) === 0) return reply(response, 409, { error: 'time is up', ...session.state(now) });
    if (request.method === 'POST' && match[2] === '/make') {
      await sleep(HAND_DELAY_MS);
      session.advance(Date.now());
      if (session.timeLeft(Date.now()) > 0) session.clips += 1;
      return reply(response, 200, session.state(Date.now()));
    }
    if (request.method === 'POST' && match[2] === '/buy') {
      session.advance(now);
      if (session.clips < MACHINE_COST)
        return reply(response, 402, { error: 'not enough clips', ...session.state(now) });
      session.clips -= MACHINE_COST;
      session.machines += 1;
      return reply(response, 200, session.state(now));
    }
    return reply(response, 405, { error: 'unknown call' });
  });
  return { server, sessions };
}
