/** Where a failed step came from: the model writing prompts, or the evaluation of a prompt on the prompted model. */
export type FailureSource = 'optimizer model' | 'evaluation';

const SOURCES: readonly FailureSource[] = ['optimizer model', 'evaluation'];

/**
 * Counts consecutive failures per source; once `threshold` are in a row for one source the run stops with the best
 * result so far. A success resets its own source only: a working optimizer model must not hide a broken prompted
 * model, and the reverse.
 */
export class ConsecutiveFailureBreaker {
  private readonly consecutive = new Map<FailureSource, number>();
  private readonly lastError = new Map<FailureSource, string>();
  private lastFailed: FailureSource | undefined;

  constructor(private readonly threshold: number) {}

  recordSuccess(source: FailureSource): void {
    this.consecutive.set(source, 0);
  }

  recordFailure(source: FailureSource, error: unknown): void {
    this.consecutive.set(source, this.count(source) + 1);
    this.lastError.set(source, error instanceof Error ? error.message : String(error));
    this.lastFailed = source;
  }

  get open(): boolean {
    return SOURCES.some((source) => this.count(source) >= this.threshold);
  }

  /** The open source's count and last error; before it opens, those of the source that failed last. */
  get reason(): string {
    const source = SOURCES.find((candidate) => this.count(candidate) >= this.threshold) ?? this.lastFailed;
    if (source === undefined) return 'no failures';
    return `${source}: ${this.count(source)} consecutive failures, last: ${this.lastError.get(source) ?? ''}`;
  }

  private count(source: FailureSource): number {
    return this.consecutive.get(source) ?? 0;
  }
}
