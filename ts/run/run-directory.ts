import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { OptNativeError } from '../errors.js';

/** One line of the append-only event log. `type: 'step'` events carry the memoized result of `runStep`. */
export interface RunEvent {
  type: string;
  key?: string;
  value?: unknown;
  [field: string]: unknown;
}

export const EVENT_LOG_FILE = 'events.jsonl';
export const CACHE_FILE = 'cache.sqlite';

/**
 * A run's folder: an append-only JSONL event log (fsync'd after every event) plus whatever else the run keeps
 * (the response cache). A run killed at any point resumes with `RunDirectory.open`: replayed steps are returned
 * from the log instead of being computed again.
 */
export class RunDirectory {
  readonly dir: string;
  private readonly fd: number;
  private readonly events: RunEvent[];
  private readonly steps = new Map<string, unknown>();
  private readonly stepsInFlight = new Map<string, Promise<unknown>>();

  /** What `open` found wrong with the log (damaged lines skipped); the caller shows them to the user. */
  readonly warnings: readonly string[];

  private constructor(dir: string, events: RunEvent[], warnings: readonly string[] = []) {
    this.dir = dir;
    this.events = events;
    this.warnings = warnings;
    for (const event of events)
      if (event.type === 'step' && event.key !== undefined) this.steps.set(event.key, event.value);
    this.fd = openSync(join(dir, EVENT_LOG_FILE), 'a');
  }

  /** Starts a new run in `dir` (created if missing); refuses a folder that already holds a run. */
  static create(dir: string): RunDirectory {
    mkdirSync(dir, { recursive: true });
    const logPath = join(dir, EVENT_LOG_FILE);
    if (existsSync(logPath) && statSync(logPath).size > 0) {
      throw new OptNativeError('E_BAD_INPUT', `${dir} already holds a run; resume it with --resume ${dir}`);
    }
    return new RunDirectory(dir, []);
  }

  /**
   * Reopens a run to resume it; a torn last line (killed mid-write) is dropped. A damaged line in the middle is
   * skipped with a warning (`warnings`), keeping every record after it.
   */
  static open(dir: string): RunDirectory {
    const logPath = join(dir, EVENT_LOG_FILE);
    if (!existsSync(logPath))
      throw new OptNativeError('E_FILE_NOT_FOUND', `no run to resume in ${dir} (no ${EVENT_LOG_FILE})`);
    const { events, validBytes, corruptLines } = recoverEventLog(readFileSync(logPath));
    truncateSync(logPath, validBytes);
    const warnings =
      corruptLines.length === 0
        ? []
        : [
            `${logPath}: skipped ${corruptLines.length} damaged line(s) (line ${corruptLines.join(', ')}); ` +
              `kept the ${events.length} valid records around them`,
          ];
    return new RunDirectory(dir, events, warnings);
  }

  /** `open` when the folder holds a run, else `create`. */
  static openOrCreate(dir: string): RunDirectory {
    return existsSync(join(dir, EVENT_LOG_FILE)) ? RunDirectory.open(dir) : RunDirectory.create(dir);
  }

  get cachePath(): string {
    return join(this.dir, CACHE_FILE);
  }

  /** Appends one event and fsyncs, so it survives a kill -9 or a power cut right after this returns. */
  appendEvent(event: RunEvent): void {
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
    fsyncSync(this.fd);
    this.events.push(event);
    if (event.type === 'step' && event.key !== undefined) this.steps.set(event.key, event.value);
  }

  /** The events recorded so far, including those replayed from before a resume. */
  replay(): readonly RunEvent[] {
    return this.events;
  }

  hasStep(key: string): boolean {
    return this.steps.has(key);
  }

  /**
   * Returns the recorded result of step `key` when the log has it; otherwise runs `fn`, records its (JSON-safe)
   * result and returns it. Concurrent calls with one key share one execution.
   */
  async runStep<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (this.steps.has(key)) return this.steps.get(key) as T;
    const inFlight = this.stepsInFlight.get(key);
    if (inFlight) return inFlight as Promise<T>;
    const execution = (async () => {
      try {
        // Hand back what a resumed run will read from the log, so both sessions see the very same value.
        const value = jsonRoundTrip(await fn());
        this.appendEvent({ type: 'step', key, value });
        return value;
      } finally {
        this.stepsInFlight.delete(key);
      }
    })();
    this.stepsInFlight.set(key, execution);
    return execution;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function jsonRoundTrip<T>(value: T): T {
  const text = JSON.stringify(value);
  return (text === undefined ? undefined : JSON.parse(text)) as T;
}

/** Parses complete JSONL lines; stops at the first torn or unparsable line (the tail of a killed write). */
export function parseEventLog(bytes: Buffer): { events: RunEvent[]; validBytes: number } {
  const events: RunEvent[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const newline = bytes.indexOf(0x0a, offset);
    if (newline < 0) break;
    const event = parseEventLine(bytes.subarray(offset, newline).toString('utf8'));
    if (event === undefined) break;
    events.push(event);
    offset = newline + 1;
  }
  return { events, validBytes: offset };
}

/**
 * Reads a whole log: runs of intact lines (`parseEventLog`) with the unparsable lines between them skipped. A bad
 * line with intact lines after it is damage in the middle (its 1-based number goes to `corruptLines`); what follows
 * the last intact line is the torn tail of a killed write and is left out of `validBytes`.
 */
export function recoverEventLog(bytes: Buffer): { events: RunEvent[]; validBytes: number; corruptLines: number[] } {
  const events: RunEvent[] = [];
  const corruptLines: number[] = [];
  const skipped: number[] = [];
  let offset = 0;
  let validBytes = 0;
  let line = 1;
  while (offset < bytes.length) {
    const run = parseEventLog(bytes.subarray(offset));
    if (run.events.length > 0) {
      events.push(...run.events);
      corruptLines.push(...skipped.splice(0));
      line += run.events.length;
      offset += run.validBytes;
      validBytes = offset;
    }
    const newline = bytes.indexOf(0x0a, offset);
    if (newline < 0) break;
    skipped.push(line);
    line += 1;
    offset = newline + 1;
  }
  return { events, validBytes, corruptLines };
}

function parseEventLine(text: string): RunEvent | undefined {
  try {
    const value: unknown = JSON.parse(text);
    const isEvent = value !== null && typeof value === 'object' && typeof (value as RunEvent).type === 'string';
    return isEvent ? (value as RunEvent) : undefined;
  } catch {
    return undefined;
  }
}
