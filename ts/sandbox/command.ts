/**
 * Pure builders of the sandbox's command line: setpriv (drop root) → bwrap (namespaces, mounts) → prlimit (rlimits)
 * → [port forwarder] → interpreter. Kept free of I/O so that the exact isolation flags are unit-tested.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import type { SandboxRuntime, SandboxService } from './types.js';

export const SANDBOX_WORK_DIR = '/work';
export const SANDBOX_SERVICE_SOCKET = `${SANDBOX_WORK_DIR}/service.sock`;
/** Read-only folder of the sandbox's own helpers (the port forwarder). */
export const SANDBOX_HELPER_DIR = '/opt/opt-native-sandbox';
export const PYTHON_BINARY = '/usr/bin/python3';
export const NODE_BINARY = '/usr/bin/node';
/**
 * V8 reserves ~800 MiB of address space before it runs a line, and each WebAssembly instance (fetch's HTTP parser)
 * reserves 10 GiB of guard pages, all inaccessible. So Node's memory bound is RLIMIT_DATA (private writable memory)
 * plus --max-old-space-size, and its RLIMIT_AS only keeps this much room above them.
 */
export const NODE_VIRTUAL_OVERHEAD = 16 * 1024 * 1024 * 1024;

/** Top-level folders that Debian's usrmerge turns into links into /usr; bound read-only when they are real folders. */
const ROOT_LINKS = ['/bin', '/lib', '/lib64', '/sbin'];
/** The few /etc entries that dynamic linking and BLAS alternatives need; the rest of /etc stays invisible. */
const ETC_ENTRIES = ['/etc/alternatives', '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/localtime'];

export interface Limits {
  memoryBytes: number;
  cpuSeconds: number;
  maxProcesses: number;
  maxFileBytes: number;
  maxOpenFiles: number;
}

export const PROGRAM_FILE: Record<SandboxRuntime, string> = { python: 'main.py', node: 'main.js' };

/** The interpreter command of a program file at `programPath`. */
export function interpreterCommand(
  runtime: SandboxRuntime,
  programPath: string,
  memoryBytes: number,
  args: readonly string[],
): string[] {
  if (runtime === 'python') return [PYTHON_BINARY, '-I', '-B', programPath, ...args];
  const heapMb = Math.max(16, Math.floor(memoryBytes / (1024 * 1024)));
  return [NODE_BINARY, `--max-old-space-size=${heapMb}`, programPath, ...args];
}

/** Address-space limit for a runtime: Node needs room for V8's reservations on top of its heap. */
export function addressSpaceLimit(runtime: SandboxRuntime, memoryBytes: number): number {
  return runtime === 'node' ? memoryBytes + NODE_VIRTUAL_OVERHEAD : memoryBytes;
}

/**
 * `prlimit` sets soft = hard, so the program cannot raise any of them back; CPU alone keeps one second between
 * them, so that the soft limit's SIGXCPU (not the hard limit's SIGKILL) tells a CPU timeout apart.
 */
export function prlimitCommand(limits: Limits, addressSpace: number): string[] {
  return [
    '/usr/bin/prlimit',
    `--as=${addressSpace}`,
    `--data=${limits.memoryBytes}`,
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    `--nproc=${limits.maxProcesses}`,
    `--fsize=${limits.maxFileBytes}`,
    `--nofile=${limits.maxOpenFiles}`,
    // core files would be written into the work dir
    '--core=0',
    '--',
  ];
}

/** Runs the command behind a forwarder of 127.0.0.1:port to the service socket. */
export function forwarderCommand(forwarderPath: string, service: SandboxService, socketPath: string): string[] {
  if (service.port === undefined) return [];
  return [PYTHON_BINARY, '-I', '-B', forwarderPath, String(service.port), socketPath, '--'];
}

/** setpriv to an unprivileged uid with no capabilities and no supplementary groups; empty when not root. */
export function dropRootCommand(callerUid: number, uid: number): string[] {
  if (callerUid !== 0) return [];
  return [
    '/usr/bin/setpriv',
    `--reuid=${uid}`,
    `--regid=${uid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--',
  ];
}

export function systemBinds(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const path of ROOT_LINKS) {
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else args.push('--ro-bind', path, path);
  }
  for (const path of ETC_ENTRIES) if (existsSync(path)) args.push('--ro-bind', path, path);
  return args;
}

/** Files of the sandbox's own /etc: name resolution of localhost only, and a passwd entry for the sandbox uid. */
export function etcFiles(uid: number): Record<string, string> {
  return {
    hosts: '127.0.0.1 localhost\n::1 localhost\n',
    'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
    passwd: `sandbox:x:${uid}:${uid}:sandbox:${SANDBOX_WORK_DIR}:/usr/sbin/nologin\n`,
    group: `sandbox:x:${uid}:\n`,
  };
}

export interface BwrapLayout {
  bwrapPath: string;
  /** Host folder holding `etcFiles`, bound read-only file by file into /etc. */
  etcDir: string;
  /** The uid inside (the sandbox uid when dropping root, else the caller's). */
  uid: number;
  /** Host files placed read-only in /work: host path → name in /work. */
  files: ReadonlyArray<{ hostPath: string; name: string }>;
  /** Host folder mounted read-only at SANDBOX_HELPER_DIR. */
  helperDir: string;
  workDirBytes: number;
  serviceSocket?: string;
  env: Record<string, string>;
}

/**
 * bwrap with every namespace unshared (user, pid, net, ipc, uts, cgroup), no nested user namespaces, a read-only
 * root, a size-limited tmpfs as the only writable place, and a cleared environment. Dies with its parent.
 */
export function bwrapCommand(layout: BwrapLayout): string[] {
  const args = [
    layout.bwrapPath,
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    // reports the PID namespace's init, whose end means every process inside is gone
    '--json-status-fd',
    '3',
    '--hostname',
    'sandbox',
    ...systemBinds(),
    ...Object.keys(etcFiles(layout.uid)).flatMap((name) => ['--ro-bind', `${layout.etcDir}/${name}`, `/etc/${name}`]),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    // bwrap's /dev is a writable tmpfs (/dev/shm too): the work dir is to be the only writable place
    '--remount-ro',
    '/dev',
    '--ro-bind',
    layout.helperDir,
    SANDBOX_HELPER_DIR,
    '--size',
    String(layout.workDirBytes),
    '--tmpfs',
    SANDBOX_WORK_DIR,
  ];
  for (const file of layout.files) args.push('--ro-bind', file.hostPath, `${SANDBOX_WORK_DIR}/${file.name}`);
  if (layout.serviceSocket !== undefined) args.push('--bind', layout.serviceSocket, SANDBOX_SERVICE_SOCKET);
  args.push('--remount-ro', '/', '--chdir', SANDBOX_WORK_DIR, '--clearenv');
  for (const [name, value] of Object.entries(layout.env)) args.push('--setenv', name, value);
  args.push('--');
  return args;
}

/** The environment inside: only what the caller passes, plus a PATH and a HOME/TMPDIR in the work dir. */
export function sandboxEnv(workDir: string, callerEnv: Record<string, string> | undefined): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    HOME: workDir,
    TMPDIR: workDir,
    LANG: 'C.UTF-8',
    // BLAS/OpenMP would start one thread per core, each counted against the process limit.
    OMP_NUM_THREADS: '1',
    OPENBLAS_NUM_THREADS: '1',
    ...callerEnv,
  };
}

/** The smallest sandbox of the same shape, running /usr/bin/true: tells whether bwrap works here at all. */
export function probeCommand(bwrapPath: string, callerUid: number, uid: number): string[] {
  return [
    ...dropRootCommand(callerUid, uid),
    bwrapPath,
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    ...systemBinds(),
    '--',
    '/usr/bin/true',
  ];
}
