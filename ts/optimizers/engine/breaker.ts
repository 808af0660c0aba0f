/**
 * Counts consecutive failures of evaluations and generations; once `threshold` are in a row the run stops with the
 * best result so far. A success resets the count.
 */
export class ConsecutiveFailureBreaker {
  private consecutive = 0;
  private lastError = '';

  constructor(private readonly threshold: number) {}

  recordSuccess(): void {
    this.consecutive = 0;
  }

  recordFailure(error: unknown): void {
    this.consecutive += 1;
    this.lastError = error instanceof Error ? error.message : String(error);
  }

  get open(): boolean {
    return this.consecutive >= this.threshold;
  }

  get reason(): string {
    return `${this.consecutive} consecutive failures, last: ${this.lastError}`;
  }
}
