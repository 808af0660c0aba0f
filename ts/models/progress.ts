// Byte progress for downloads: a cli-progress bar on an interactive stderr, silence elsewhere (CI, pipes, tests).
import cliProgress from 'cli-progress';

export interface ByteProgress {
  /** Bytes received so far (including bytes resumed from a partial file). */
  receivedBytes: number;
  /** Total bytes when the server said so. */
  totalBytes: number | undefined;
}

export type ProgressCallback = (progress: ByteProgress) => void;

export interface ProgressBar {
  update: ProgressCallback;
  stop(): void;
}

const MEBIBYTE = 1024 * 1024;

/** A progress bar labelled `label`; a no-op unless stderr is a terminal (or `force` is set). */
export function createProgressBar(label: string, options: { force?: boolean } = {}): ProgressBar {
  if (!options.force && !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {receivedMiB}/{totalMiB} MiB`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update({ receivedBytes, totalBytes }) {
      const total = totalBytes ?? receivedBytes;
      const payload = {
        receivedMiB: (receivedBytes / MEBIBYTE).toFixed(1),
        totalMiB: totalBytes === undefined ? '?' : (totalBytes / MEBIBYTE).toFixed(1),
      };
      if (!started) {
        bar.start(total, receivedBytes, payload);
        started = true;
      }
      bar.setTotal(total);
      bar.update(receivedBytes, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
