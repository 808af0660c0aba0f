import { SingleBar } from 'cli-progress';

export interface ProgressOptions {
  label: string;
  total: number;
  /** Defaults to stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Clock for the ETA (tests pass a fake one). */
  now?: () => number;
}

export interface ProgressReporter {
  /** Marks `count` more units done, adding `dollars` to the running cost. */
  tick(count?: number, dollars?: number): void;
  stop(): void;
}

/** ETA in whole seconds from the average time per finished unit; undefined before the first unit. */
export function estimateEtaSeconds(done: number, total: number, elapsedMs: number): number | undefined {
  if (done <= 0) return undefined;
  return Math.round(((total - done) * elapsedMs) / done / 1000);
}

/** A progress bar with ETA and cost on a TTY; one plain line per tick otherwise (logs, CI, pipes). */
export function createProgress(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  return stream.isTTY ? barProgress(options, stream) : lineProgress(options, stream);
}

function barProgress(options: ProgressOptions, stream: NodeJS.WritableStream): ProgressReporter {
  const bar = new SingleBar({
    format: `${options.label} [{bar}] {value}/{total} | ETA {eta_formatted} | $ {cost}`,
    stream,
    hideCursor: true,
  });
  let dollars = 0;
  bar.start(options.total, 0, { cost: '0.0000' });
  return {
    tick(count = 1, cost = 0) {
      dollars += cost;
      bar.increment(count, { cost: dollars.toFixed(4) });
    },
    stop: () => bar.stop(),
  };
}

function lineProgress(options: ProgressOptions, stream: NodeJS.WritableStream): ProgressReporter {
  const now = options.now ?? Date.now;
  const startedAt = now();
  let done = 0;
  let dollars = 0;
  return {
    tick(count = 1, cost = 0) {
      done += count;
      dollars += cost;
      const eta = estimateEtaSeconds(done, options.total, now() - startedAt);
      const percent = options.total > 0 ? Math.floor((100 * done) / options.total) : 100;
      stream.write(
        `${options.label}: ${done}/${options.total} (${percent}%) eta ${eta ?? '?'}s cost $${dollars.toFixed(4)}\n`,
      );
    },
    stop() {},
  };
}
