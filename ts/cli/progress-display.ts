import type { OptimizationProgress } from '../optimizers/contract.js';
import { createProgress } from '../run/progress.js';

/**
 * The optimizers' progress display: a bar over iterations on a terminal; one line per event in logs and pipes
 * (with the best score so far).
 */
export function progressDisplay(
  label: string,
  quiet: boolean | undefined,
  totalIterations: number,
): { onProgress?: (progress: OptimizationProgress) => void; stop(): void } {
  if (quiet) return { stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = createProgress({ label, total: totalIterations });
    return {
      onProgress: (progress) => {
        if (progress.kind === 'iteration') bar.tick(1);
      },
      stop: () => bar.stop(),
    };
  }
  return {
    onProgress: (progress) => {
      const best = Number.isNaN(progress.bestScore) ? '-' : progress.bestScore.toFixed(4);
      process.stderr.write(
        `[${label} ${progress.iteration}/${progress.totalIterations}] best ${best} · ${progress.message}\n`,
      );
    },
    stop: () => undefined,
  };
}
