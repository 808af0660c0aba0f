/**
 * Runs one command in its own process group with a wall deadline, an output cap and abort support. At the deadline,
 * on abort or when the output passes the cap, the whole group gets SIGKILL (bwrap's --die-with-parent and its PID
 * namespace take every process inside down with it).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface CappedRunOptions {
  timeoutMs: number;
  maxOutputBytes: number;
  stdin?: string;
  env: Record<string, string>;
  cwd?: string;
  signal?: AbortSignal;
  /** Opens a pipe on fd 3 of the child (bwrap's --json-status-fd) and returns what it wrote. */
  statusFd?: boolean;
}

export interface CappedRunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  wallTimedOut: boolean;
  outputTruncated: boolean;
  aborted: boolean;
  wallMs: number;
  status: string;
  /** The spawn itself failed (missing binary); the message. */
  spawnError?: string;
}

/** Collects stdout and stderr against one shared byte cap. */
class OutputCollector {
  private readonly chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  private kept = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  /** Keeps what fits under the cap; returns false once the cap is passed. */
  add(stream: 'stdout' | 'stderr', chunk: Buffer): boolean {
    const room = this.cap - this.kept;
    if (chunk.length > room) {
      if (room > 0) this.chunks[stream].push(chunk.subarray(0, room));
      this.kept = this.cap;
      this.truncated = true;
      return false;
    }
    this.chunks[stream].push(chunk);
    this.kept += chunk.length;
    return true;
  }

  text(stream: 'stdout' | 'stderr'): string {
    return Buffer.concat(this.chunks[stream]).toString('utf8');
  }
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (code !== null) return code;
  if (signal === null) return null;
  return 128 + (constants.signals[signal] ?? 0);
}

export function runCapped(argv: readonly string[], options: CappedRunOptions): Promise<CappedRunResult> {
  const started = performance.now();
  const [command, ...args] = argv;
  return new Promise((resolve) => {
    const output = new OutputCollector(options.maxOutputBytes);
    let wallTimedOut = false;
    let aborted = false;
    let spawnError: string | undefined;
    const status: Buffer[] = [];
    const child = spawn(command ?? '', args, {
      detached: true,
      stdio: options.statusFd ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      env: options.env,
      cwd: options.cwd,
    });
    const killTree = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      wallTimedOut = true;
      killTree();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      killTree();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (chunk: Buffer) => {
        if (!output.add(stream, chunk)) killTree();
      });
    }
    child.stdio[3]?.on('data', (chunk: Buffer) => status.push(chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
    child.on('error', (error) => {
      spawnError = error.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode: spawnError === undefined ? exitCodeOf(code, signal) : null,
        stdout: output.text('stdout'),
        stderr: output.text('stderr'),
        wallTimedOut,
        outputTruncated: output.truncated,
        aborted,
        status: Buffer.concat(status).toString('utf8'),
        wallMs: performance.now() - started,
        spawnError,
      });
    });
    if (options.signal?.aborted) onAbort();
  });
}
