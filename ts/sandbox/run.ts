/**
 * `runPython` / `runNode`: run code that a model wrote with no network, no view of the user's files, no secrets,
 * and bounded time, memory, processes, file sizes, open files and output. See docs/optimize.md "The sandbox".
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { OptNativeError } from '../errors.js';
import { bubblewrapPath, bubblewrapStatus } from './availability.js';
import {
  addressSpaceLimit,
  bwrapCommand,
  dropRootCommand,
  etcFiles,
  forwarderCommand,
  interpreterCommand,
  prlimitCommand,
  PROGRAM_FILE,
  SANDBOX_HELPER_DIR,
  SANDBOX_SERVICE_SOCKET,
  SANDBOX_WORK_DIR,
  sandboxEnv,
  type Limits,
} from './command.js';
import { FORWARDER_FILE, FORWARDER_SOURCE } from './forwarder.js';
import { runCapped, type CappedRunResult } from './process.js';
import type { SandboxIsolation, SandboxOptions, SandboxResult, SandboxRuntime } from './types.js';

const MIB = 1024 * 1024;
export const SANDBOX_DEFAULTS = {
  timeoutMs: 10_000,
  memoryBytes: 512 * MIB,
  maxProcesses: 64,
  maxFileBytes: 16 * MIB,
  maxOpenFiles: 64,
  workDirBytes: 64 * MIB,
  maxOutputBytes: MIB,
  uid: 65534,
} as const;

const SIGXCPU_EXIT = 128 + 24;
const NAMESPACE_END_WAIT_MS = 5000;
const MEMORY_FAILURE =
  /MemoryError|JavaScript heap out of memory|Array buffer allocation failed|Cannot allocate memory|std::bad_alloc|Reached heap limit/;
const PLAIN_FILE_NAME = /^[A-Za-z0-9._-]+$/;

export function runPython(code: string, options: SandboxOptions = {}): Promise<SandboxResult> {
  return runInSandbox('python', code, options);
}

export function runNode(code: string, options: SandboxOptions = {}): Promise<SandboxResult> {
  return runInSandbox('node', code, options);
}

interface Settings extends Limits {
  timeoutMs: number;
  workDirBytes: number;
  maxOutputBytes: number;
  uid: number;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new OptNativeError('E_BAD_INPUT', `sandbox option ${name} must be a positive number, got ${value}`);
  return Math.ceil(value);
}

function settingsOf(options: SandboxOptions): Settings {
  const timeoutMs = positive('timeoutMs', options.timeoutMs ?? SANDBOX_DEFAULTS.timeoutMs);
  return {
    timeoutMs,
    memoryBytes: positive('memoryBytes', options.memoryBytes ?? SANDBOX_DEFAULTS.memoryBytes),
    cpuSeconds: positive('cpuSeconds', options.cpuSeconds ?? timeoutMs / 1000),
    maxProcesses: positive('maxProcesses', options.maxProcesses ?? SANDBOX_DEFAULTS.maxProcesses),
    maxFileBytes: positive('maxFileBytes', options.maxFileBytes ?? SANDBOX_DEFAULTS.maxFileBytes),
    maxOpenFiles: positive('maxOpenFiles', options.maxOpenFiles ?? SANDBOX_DEFAULTS.maxOpenFiles),
    workDirBytes: positive('workDirBytes', options.workDirBytes ?? SANDBOX_DEFAULTS.workDirBytes),
    maxOutputBytes: positive('maxOutputBytes', options.maxOutputBytes ?? SANDBOX_DEFAULTS.maxOutputBytes),
    uid: options.uid ?? SANDBOX_DEFAULTS.uid,
  };
}

function checkInputs(runtime: SandboxRuntime, options: SandboxOptions): void {
  for (const name of Object.keys(options.files ?? {})) {
    if (!PLAIN_FILE_NAME.test(name) || name === PROGRAM_FILE[runtime] || name === 'service.sock')
      throw new OptNativeError('E_BAD_INPUT', `sandbox file name ${JSON.stringify(name)} is not a plain, free name`);
  }
  const socket = options.service?.socketPath;
  if (socket !== undefined && !statSync(socket, { throwIfNoEntry: false })?.isSocket())
    throw new OptNativeError('E_BAD_INPUT', `sandbox service ${socket} is not a listening Unix socket`);
}

async function chooseIsolation(options: SandboxOptions, uid: number): Promise<SandboxIsolation> {
  const status = await bubblewrapStatus(bubblewrapPath(), uid);
  if (status.available) return 'bubblewrap';
  if (options.allowWeakerFallback) return 'rlimits-only';
  throw new OptNativeError(
    'E_SANDBOX_UNAVAILABLE',
    `${status.reason}; refusing to run untrusted code unsandboxed (pass allowWeakerFallback for rlimits only)`,
  );
}

function callerUid(): number {
  return process.getuid?.() ?? 0;
}

/** The uid the program runs as: the sandbox uid when the caller is root, else the caller's own. */
function insideUid(sandboxUid: number): number {
  return callerUid() === 0 ? sandboxUid : callerUid();
}

/** True when every folder from / down to `path` lets others pass (o+x), as bwrap running as the sandbox uid must. */
function othersCanTraverse(path: string): boolean {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === dirname(dir)) return true;
  }
}

/** The staging base: the temp folder, unless (say TMPDIR under /root) the sandbox uid could not reach into it. */
function stagingBase(): string {
  const base = tmpdir();
  return othersCanTraverse(base) ? base : '/tmp';
}

/** A 0755 staging folder of 0644 files, so that bwrap running as the sandbox uid can bind them. */
function stage(runtime: SandboxRuntime, code: string, options: SandboxOptions, insideUid: number) {
  const root = mkdtempSync(join(stagingBase(), 'opt-native-sandbox-'));
  chmodSync(root, 0o755);
  const write = (dir: string, name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o644 });
    return path;
  };
  const filesDir = join(root, 'files');
  const helperDir = join(root, 'helpers');
  mkdirSync(filesDir, { mode: 0o755 });
  mkdirSync(helperDir, { mode: 0o755 });
  write(helperDir, FORWARDER_FILE, FORWARDER_SOURCE);
  const etcDir = join(root, 'etc');
  mkdirSync(etcDir, { mode: 0o755 });
  for (const [name, content] of Object.entries(etcFiles(insideUid))) write(etcDir, name, content);
  const files = [
    { name: PROGRAM_FILE[runtime], content: code },
    ...Object.entries(options.files ?? {}).map(([name, content]) => ({ name, content })),
  ].map(({ name, content }) => ({ name, content, hostPath: write(filesDir, name, content) }));
  return { root, helperDir, etcDir, files };
}

type Staged = ReturnType<typeof stage>;

function innerCommand(
  runtime: SandboxRuntime,
  settings: Settings,
  options: SandboxOptions,
  paths: { workDir: string; forwarder: string; socket: string },
): string[] {
  const program = `${paths.workDir}/${PROGRAM_FILE[runtime]}`;
  return [
    ...prlimitCommand(settings, addressSpaceLimit(runtime, settings.memoryBytes)),
    ...(options.service ? forwarderCommand(paths.forwarder, options.service, paths.socket) : []),
    ...interpreterCommand(runtime, program, settings.memoryBytes, options.args ?? []),
  ];
}

async function runBubblewrapped(runtime: SandboxRuntime, settings: Settings, options: SandboxOptions, staged: Staged) {
  const argv = [
    ...dropRootCommand(callerUid(), settings.uid),
    ...bwrapCommand({
      bwrapPath: bubblewrapPath(),
      files: staged.files,
      helperDir: staged.helperDir,
      etcDir: staged.etcDir,
      uid: insideUid(settings.uid),
      workDirBytes: settings.workDirBytes,
      serviceSocket: options.service?.socketPath,
      env: sandboxEnv(SANDBOX_WORK_DIR, options.env),
    }),
    ...innerCommand(runtime, settings, options, {
      workDir: SANDBOX_WORK_DIR,
      forwarder: `${SANDBOX_HELPER_DIR}/${FORWARDER_FILE}`,
      socket: SANDBOX_SERVICE_SOCKET,
    }),
  ];
  const run = await runCapped(argv, { ...capsOf(settings, options), env: { PATH: '/usr/bin:/bin' }, statusFd: true });
  await waitForNamespaceEnd(run.status);
  return run;
}

/**
 * The outer bwrap is gone once `runCapped` returns, but the namespace's init may still be tearing it down. Wait
 * until the init has left /proc or is a zombie: a PID namespace's init turns zombie only after every other process
 * in it has exited, so then nothing of the run is alive. (An orphaned zombie is reaped by the machine's init.)
 */
async function waitForNamespaceEnd(statusJson: string): Promise<void> {
  const match = /"child-pid"\s*:\s*(\d+)/.exec(statusJson);
  if (!match) return;
  for (let waited = 0; waited < NAMESPACE_END_WAIT_MS && isAlive(Number(match[1])); waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    // "pid (comm) S ...": the state follows the last ')', as comm may hold spaces and parentheses
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The labelled weaker fallback: rlimits, cleared environment, private cwd and the uid drop; no namespaces. */
function runRlimitsOnly(runtime: SandboxRuntime, settings: Settings, options: SandboxOptions, staged: Staged) {
  const workDir = join(staged.root, 'work');
  mkdirSync(workDir, { mode: 0o700 });
  for (const file of staged.files) writeFileSync(join(workDir, file.name), file.content, { mode: 0o644 });
  if (callerUid() === 0) chownSync(workDir, settings.uid, settings.uid);
  const argv = [
    ...dropRootCommand(callerUid(), settings.uid),
    ...innerCommand(runtime, settings, options, {
      workDir,
      forwarder: join(staged.helperDir, FORWARDER_FILE),
      socket: options.service?.socketPath ?? '',
    }),
  ];
  return runCapped(argv, { ...capsOf(settings, options), env: sandboxEnv(workDir, options.env), cwd: workDir });
}

function capsOf(settings: Settings, options: SandboxOptions) {
  return {
    timeoutMs: settings.timeoutMs,
    maxOutputBytes: settings.maxOutputBytes,
    stdin: options.stdin,
    signal: options.signal,
  };
}

function resultOf(run: CappedRunResult, isolation: SandboxIsolation): SandboxResult {
  if (run.aborted) throw new OptNativeError('E_ABORTED', 'the sandboxed run was aborted');
  if (run.spawnError !== undefined)
    throw new OptNativeError('E_SANDBOX_UNAVAILABLE', `cannot start the sandbox: ${run.spawnError}`);
  return {
    exitCode: run.exitCode,
    stdout: run.stdout,
    stderr: run.stderr,
    timedOut: run.wallTimedOut || run.exitCode === SIGXCPU_EXIT,
    memoryExceeded: MEMORY_FAILURE.test(run.stderr),
    outputTruncated: run.outputTruncated,
    wallMs: Math.round(run.wallMs),
    isolation,
  };
}

export async function runInSandbox(
  runtime: SandboxRuntime,
  code: string,
  options: SandboxOptions = {},
): Promise<SandboxResult> {
  const settings = settingsOf(options);
  checkInputs(runtime, options);
  if (options.signal?.aborted) throw new OptNativeError('E_ABORTED', 'the sandboxed run was aborted');
  const isolation = await chooseIsolation(options, settings.uid);
  const staged = stage(runtime, code, options, insideUid(settings.uid));
  try {
    const run =
      isolation === 'bubblewrap'
        ? await runBubblewrapped(runtime, settings, options, staged)
        : await runRlimitsOnly(runtime, settings, options, staged);
    return resultOf(run, isolation);
  } finally {
    rmSync(staged.root, { recursive: true, force: true });
  }
}
