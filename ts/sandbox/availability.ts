/**
 * Whether bubblewrap can build a sandbox here (installed, user namespaces allowed, runnable as the sandbox uid).
 * Probed once per (binary, uid) by starting `/usr/bin/true` in a sandbox of the same shape.
 */
import { existsSync } from 'node:fs';
import { probeCommand } from './command.js';
import { runCapped } from './process.js';

/** `OPT_NATIVE_BWRAP` points at another bubblewrap binary (or at none, to exercise the fallback). */
export function bubblewrapPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPT_NATIVE_BWRAP ?? '/usr/bin/bwrap';
}

export type BubblewrapStatus = { available: true } | { available: false; reason: string };

const probes = new Map<string, Promise<BubblewrapStatus>>();

async function probe(bwrapPath: string, uid: number): Promise<BubblewrapStatus> {
  if (!existsSync(bwrapPath)) {
    return { available: false, reason: `${bwrapPath} not found (install Debian's bubblewrap package)` };
  }
  const result = await runCapped(probeCommand(bwrapPath, process.getuid?.() ?? 0, uid), {
    timeoutMs: 10_000,
    maxOutputBytes: 4096,
    env: { PATH: '/usr/bin:/bin' },
  });
  if (result.exitCode === 0) return { available: true };
  const detail = (result.spawnError ?? result.stderr).trim() || `exit status ${result.exitCode}`;
  return { available: false, reason: `${bwrapPath} cannot start a sandbox: ${detail}` };
}

export function bubblewrapStatus(bwrapPath: string, uid: number): Promise<BubblewrapStatus> {
  const key = `${bwrapPath}\0${uid}`;
  let status = probes.get(key);
  if (!status) {
    status = probe(bwrapPath, uid);
    probes.set(key, status);
  }
  return status;
}
