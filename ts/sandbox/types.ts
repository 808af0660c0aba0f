/** The languages the sandbox runs, each with a Debian interpreter readable by an unprivileged uid. */
export type SandboxRuntime = 'python' | 'node';

/**
 * How strongly a run was isolated. `bubblewrap`: namespaces, read-only system, private work dir, rlimits.
 * `rlimits-only`: the opt-in weaker fallback (rlimits, cleared environment, private cwd, uid drop when root) that
 * still sees the network and the file system.
 */
export type SandboxIsolation = 'bubblewrap' | 'rlimits-only';

/** One service granted to the sandbox: a Unix socket on the host, mounted into the work dir. */
export interface SandboxService {
  /** Host path of a listening Unix socket that uid `uid` may connect to (see `listenOnServiceSocket`). */
  socketPath: string;
  /**
   * When set, a forwarder inside the sandbox listens on 127.0.0.1:PORT and relays each connection to the socket,
   * so that code written against `http://localhost:PORT` works unchanged. The socket itself is at
   * `/work/service.sock` either way.
   */
  port?: number;
}

export interface SandboxOptions {
  /** Wall-clock deadline; the whole process tree is killed when it passes. Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Memory of each process: RLIMIT_DATA, and RLIMIT_AS for Python; Node gets it as its heap limit and a wider
   * RLIMIT_AS (see NODE_VIRTUAL_OVERHEAD). Default 512 MiB.
   */
  memoryBytes?: number;
  /** RLIMIT_CPU in seconds. Default: the wall deadline rounded up. */
  cpuSeconds?: number;
  /** RLIMIT_NPROC: processes and threads of the sandbox uid (shared by its concurrent sandboxes). Default 64. */
  maxProcesses?: number;
  /** RLIMIT_FSIZE: largest file a process may write. Default 16 MiB. */
  maxFileBytes?: number;
  /** RLIMIT_NOFILE. Default 64. */
  maxOpenFiles?: number;
  /** Size of the private writable work dir (a tmpfs at /work). Default 64 MiB. */
  workDirBytes?: number;
  /** Bytes of stdout + stderr kept; past it the run is killed and `outputTruncated` set. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Extra files placed read-only in /work (name → content); names are plain file names. */
  files?: Record<string, string>;
  /** Sent to the program's stdin. */
  stdin?: string;
  /** Command-line arguments after the program. */
  args?: string[];
  /** Environment of the program; the parent's environment is never passed. */
  env?: Record<string, string>;
  service?: SandboxService;
  /** The unprivileged uid (and gid) the program runs as when the caller is root. Default 65534 (nobody). */
  uid?: number;
  /** Opt in to the weaker `rlimits-only` isolation where bubblewrap cannot run; without it that is E_SANDBOX_UNAVAILABLE. */
  allowWeakerFallback?: boolean;
  signal?: AbortSignal;
}

export interface SandboxResult {
  /** Exit status of the program; 128 + signal number when a signal killed it; null when it never started. */
  exitCode: number | null;
  stdout: string;
  /** Capped like stdout, at `maxOutputBytes` for the two together. */
  stderr: string;
  /** The wall deadline passed or the CPU limit was hit: the process tree was killed. */
  timedOut: boolean;
  /** The program failed to allocate under the memory limit (MemoryError, V8 heap or buffer allocation failure). */
  memoryExceeded: boolean;
  /** Output passed `maxOutputBytes`: the rest was dropped and the process tree killed. */
  outputTruncated: boolean;
  wallMs: number;
  isolation: SandboxIsolation;
}
