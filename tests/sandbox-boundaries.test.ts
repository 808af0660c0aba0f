/**
 * Each boundary of the sandbox with a negative control: the same probe run outside (plain /usr/bin/python3 as the
 * test process, with its environment) succeeds, and fails inside. Real bubblewrap; the tests use their own uid so
 * that "nothing of the sandbox uid survives" is checked against this file's runs only.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runNode, runPython, type SandboxOptions } from '../ts/sandbox/index.js';
import { isAlive } from '../ts/sandbox/run.js';

const TEST_UID = 64_991;
const MIB = 1024 * 1024;
const execFileAsync = promisify(execFile);

/** The negative control: the probe as ordinary code of the test process (root, full environment, no limits). */
async function outside(code: string, timeoutMs = 20_000): Promise<string> {
  const { stdout } = await execFileAsync('/usr/bin/python3', ['-c', code], { env: process.env, timeout: timeoutMs });
  return stdout.trim();
}

async function inside(code: string, options: SandboxOptions = {}): Promise<string> {
  const result = await runPython(code, { uid: TEST_UID, ...options });
  expect(result.isolation).toBe('bubblewrap');
  return result.stdout.trim();
}

/**
 * Live PIDs whose real uid is the test uid (read from /proc, so an empty answer is not an error). Zombies are dead
 * and left out: an orphaned namespace init waits to be reaped by the machine's init.
 */
function processesOfTestUid(): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        return uid === String(TEST_UID) && isAlive(Number(pid));
      } catch {
        return false; // exited meanwhile
      }
    });
}

afterEach(() => {
  expect(processesOfTestUid()).toEqual([]);
});

describe('network', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("cannot reach the test's loopback TCP server", async () => {
    const probe = `import socket
try:
    print(socket.create_connection(("127.0.0.1", ${port}), timeout=2).recv(5).decode())
except OSError as error:
    print("blocked", type(error).__name__)`;
    expect(await outside(probe)).toBe('hello');
    expect(await inside(probe)).toBe('blocked ConnectionRefusedError');
  });
});

describe('file system', () => {
  let hostDir: string;
  beforeAll(() => {
    hostDir = mkdtempSync(join(tmpdir(), 'sandbox-fs-test-'));
    // world-writable, so that only invisibility (not permissions) can stop the sandbox uid
    chmodSync(hostDir, 0o777);
  });
  afterAll(() => rmSync(hostDir, { recursive: true, force: true }));

  it('writes outside the work dir fail, the work dir is writable, and the home folder is invisible', async () => {
    const target = join(hostDir, 'written-by-probe.txt');
    const probe = `import os
def attempt(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "wrote"
    except OSError as error:
        return type(error).__name__
print(attempt(${JSON.stringify(target)}), os.path.exists(${JSON.stringify(homedir())}))`;
    expect(await outside(probe)).toBe('wrote True');
    rmSync(target);
    expect(await inside(probe)).toBe('FileNotFoundError False');
    expect(existsSync(target)).toBe(false);
  });

  it('the system is read-only (errno 30) and only the work dir is writable', async () => {
    const probe = `import errno
for path in ["/usr/probe", "/etc/probe", "/probe", "/dev/shm/probe", "/opt/opt-native-sandbox/probe", "/work/probe"]:
    try:
        open(path, "w").write("x")
        print(path, "wrote")
    except OSError as error:
        print(path, error.errno)`;
    expect((await inside(probe)).split('\n')).toEqual([
      '/usr/probe 30',
      '/etc/probe 30',
      '/probe 30',
      '/dev/shm/probe 30',
      '/opt/opt-native-sandbox/probe 30',
      '/work/probe wrote',
    ]);
  });

  it('the work dir is private to each run and bounded in size', async () => {
    await inside('open("/work/left-behind", "w").write("x")');
    expect(await inside('import os; print(sorted(os.listdir("/work")))')).toBe("['main.py']");
    const fill = `try:
    with open("/work/big", "wb") as handle:
        handle.write(b"x" * (8 << 20))
    print("wrote")
except OSError as error:
    print(error.errno)`;
    // ENOSPC (28) from the 4 MiB tmpfs, though the file-size limit (16 MiB) would allow it
    expect(await inside(fill, { workDirBytes: 4 * MIB })).toBe('28');
    expect(await outside(fill.replaceAll('/work/big', join(hostDir, 'big')))).toBe('wrote');
  });
});

describe('environment', () => {
  it("a secret in the parent's environment is absent", async () => {
    process.env.OPT_NATIVE_TEST_SECRET = 'hunter2';
    try {
      const probe = 'import os; print(os.environ.get("OPT_NATIVE_TEST_SECRET", "absent"))';
      expect(await outside(probe)).toBe('hunter2');
      expect(await inside(probe)).toBe('absent');
      expect(await inside(probe, { env: { OPT_NATIVE_TEST_SECRET: 'passed on purpose' } })).toBe('passed on purpose');
    } finally {
      delete process.env.OPT_NATIVE_TEST_SECRET;
    }
  });
});

describe('limits', () => {
  const allocate = `try:
    block = bytearray(1 << 30)
    print("allocated", len(block) >> 20)
except MemoryError:
    print("MemoryError")`;

  it('a 1 GiB allocation fails under a 256 MiB limit (Python and Node)', async () => {
    expect(await outside(allocate)).toBe('allocated 1024');
    const python = await runPython(allocate, { uid: TEST_UID, memoryBytes: 256 * MIB });
    expect(python.stdout.trim()).toBe('MemoryError');
    const node = await runNode('const b = Buffer.alloc(1 << 30); console.log("allocated", b.length)', {
      uid: TEST_UID,
      memoryBytes: 256 * MIB,
    });
    expect(node.exitCode).not.toBe(0);
    expect(node.memoryExceeded).toBe(true);
    const small = await runNode('console.log(Buffer.alloc(100 << 20).length >> 20)', {
      uid: TEST_UID,
      memoryBytes: 256 * MIB,
    });
    expect(small.stdout.trim()).toBe('100');
  });

  it('a CPU loop stops at the wall deadline, and at the CPU limit before a later deadline', async () => {
    const wall = await runPython('while True: pass', { uid: TEST_UID, timeoutMs: 1500 });
    expect(wall).toMatchObject({ timedOut: true, exitCode: 137 });
    expect(wall.wallMs).toBeGreaterThanOrEqual(1500);
    expect(wall.wallMs).toBeLessThan(4000);
    const cpu = await runPython('while True: pass', { uid: TEST_UID, timeoutMs: 30_000, cpuSeconds: 1 });
    // SIGXCPU at the soft limit: 128 + 24
    expect(cpu).toMatchObject({ timedOut: true, exitCode: 152 });
    expect(cpu.wallMs).toBeLessThan(10_000);
    const quick = await runPython('print(sum(range(1000)))', { uid: TEST_UID, timeoutMs: 1500 });
    expect(quick).toMatchObject({ timedOut: false, exitCode: 0, stdout: '499500\n' });
  });

  it('a fork bomb stops at the process limit', async () => {
    const forks = (limit: number) => `import os, time
children = 0
for _ in range(${limit}):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(3)
        os._exit(0)
    children += 1
print(children)`;
    expect(await outside(forks(40))).toBe('40');
    const bomb = Number(await inside(forks(10_000), { maxProcesses: 16, timeoutMs: 2000 }));
    // the bwrap init and the program itself count too
    expect(bomb).toBeGreaterThan(0);
    expect(bomb).toBeLessThan(16);
  });

  it('a background child that outlives the program and the deadline is killed with the tree', async () => {
    const result = await runPython(
      'import subprocess, time\nsubprocess.Popen(["/usr/bin/sleep", "300"], start_new_session=True)\ntime.sleep(300)',
      { uid: TEST_UID, timeoutMs: 1000 },
    );
    expect(result.timedOut).toBe(true);
    // afterEach: no process of the uid is left
  });

  it('a flood of output is capped and the parent stays responsive', async () => {
    const flood = 'import sys\nwhile True: sys.stdout.write("x" * 65536)';
    const control = await execFileAsync('/usr/bin/python3', ['-c', flood], {
      timeout: 300,
      maxBuffer: 1 << 30,
    }).catch((error: { stdout: string }) => error);
    expect(control.stdout.length).toBeGreaterThan(1_000_000);
    let longestGapMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
    }, 5);
    const result = await runPython(flood, { uid: TEST_UID, maxOutputBytes: 100_000, timeoutMs: 10_000 });
    clearInterval(ticker);
    expect(result.outputTruncated).toBe(true);
    expect(result.stdout.length).toBe(100_000);
    expect(result.timedOut).toBe(false);
    expect(longestGapMs).toBeLessThan(500);
  });
});
