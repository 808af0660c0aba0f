/**
 * The sandbox's one granted service (a Unix socket mounted into the work dir, reachable as http://localhost:PORT),
 * its inputs (files, stdin, args, env), its refusals (no bubblewrap, bad names, abort) and the exact isolation flags.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bwrapCommand, dropRootCommand, prlimitCommand } from '../ts/sandbox/command.js';
import { listenOnServiceSocket, runNode, runPython, type ServiceSocket } from '../ts/sandbox/index.js';

const TEST_UID = 64_992;

describe('the granted service', () => {
  let service: ServiceSocket;
  let other: Server;
  let otherPort: number;
  const requests: string[] = [];
  beforeAll(async () => {
    service = await listenOnServiceSocket(
      createHttpServer((request, response) => {
        requests.push(`${request.method} ${request.url}`);
        response.end(`made ${requests.length}`);
      }),
    );
    other = createTcpServer((socket) => socket.end('other'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherPort = (other.address() as { port: number }).port;
  });
  afterAll(async () => {
    await service.close();
    await new Promise<void>((resolve) => other.close(() => resolve()));
  });

  it('http://localhost:PORT reaches the service from Python and Node, and nothing else is reachable', async () => {
    const options = { uid: TEST_UID, service: { socketPath: service.socketPath, port: 8123 } };
    const python = await runPython(
      `import socket, urllib.request
print(urllib.request.urlopen("http://localhost:8123/make?n=1").read().decode())
try:
    socket.create_connection(("127.0.0.1", ${otherPort}), timeout=2)
    print("reached the other server")
except OSError as error:
    print(type(error).__name__)`,
      options,
    );
    expect(python.stdout.split('\n')).toEqual(['made 1', 'ConnectionRefusedError', '']);
    const node = await runNode(
      'fetch("http://localhost:8123/node").then((r) => r.text()).then((t) => console.log(t))',
      options,
    );
    expect(node.stdout).toBe('made 2\n');
    expect(requests).toEqual(['GET /make?n=1', 'GET /node']);
  });

  it('the socket itself is at /work/service.sock, without a port', async () => {
    const raw = await runPython(
      `import socket
s = socket.socket(socket.AF_UNIX)
s.connect("/work/service.sock")
s.sendall(b"GET /raw HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")
print(s.recv(4096).decode().split("\\r\\n\\r\\n")[1])`,
      { uid: TEST_UID, service: { socketPath: service.socketPath } },
    );
    expect(raw.stdout).toBe('made 3\n');
  });

  it('refuses a socket path that is not a listening socket', async () => {
    await expect(runPython('pass', { service: { socketPath: '/etc/hostname' } })).rejects.toMatchObject({
      code: 'E_BAD_INPUT',
    });
  });
});

describe('inputs', () => {
  it('passes files (read-only in /work), stdin, args and the given env only', async () => {
    const result = await runPython(
      `import os, sys
print(open("/work/x.txt").read(), sys.stdin.read(), sys.argv[1:], os.environ["MODE"])
try:
    open("/work/x.txt", "w")
except OSError as error:
    print(error.errno)`,
      { uid: TEST_UID, files: { 'x.txt': 'candidate' }, stdin: 'input', args: ['a', 'b'], env: { MODE: 'eval' } },
    );
    expect(result.stdout).toBe("candidate input ['a', 'b'] eval\n30\n");
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, memoryExceeded: false, isolation: 'bubblewrap' });
  });

  it('stages its files where the sandbox uid can reach them, even when TMPDIR is private to root', async () => {
    const privateTmp = mkdtempSync(join(tmpdir(), 'sandbox-private-tmp-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp; // mkdtemp makes it 0700
    try {
      expect((await runPython('print("reached")', { uid: TEST_UID })).stdout).toBe('reached\n');
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      rmSync(privateTmp, { recursive: true, force: true });
    }
  });

  it('reports a crash as a non-zero exit with its stderr', async () => {
    const result = await runNode('throw new Error("boom")', { uid: TEST_UID });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Error: boom');
  });

  it('refuses file names that are not plain or that shadow the program', async () => {
    for (const name of ['../escape', 'main.py', 'a/b', 'service.sock'])
      await expect(runPython('pass', { files: { [name]: '' } })).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
    await expect(runPython('pass', { timeoutMs: 0 })).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
  });

  it('an abort kills the run and throws E_ABORTED', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = performance.now();
    await expect(
      runPython('import time; time.sleep(30)', { uid: TEST_UID, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('without bubblewrap', () => {
  afterEach(() => {
    delete process.env.OPT_NATIVE_BWRAP;
  });

  it('refuses with E_SANDBOX_UNAVAILABLE unless the caller opts in to the labelled weaker fallback', async () => {
    process.env.OPT_NATIVE_BWRAP = '/nonexistent/bwrap';
    await expect(runPython('print(1)')).rejects.toMatchObject({
      code: 'E_SANDBOX_UNAVAILABLE',
      message: expect.stringContaining('refusing to run untrusted code unsandboxed'),
    });
    const weaker = await runPython('import os; print(os.getuid(), os.environ.get("OPT_NATIVE_BWRAP", "absent"))', {
      uid: TEST_UID,
      allowWeakerFallback: true,
    });
    expect(weaker).toMatchObject({ isolation: 'rlimits-only', exitCode: 0 });
    expect(weaker.stdout).toBe(`${process.getuid?.() === 0 ? TEST_UID : process.getuid?.()} absent\n`);
  });
});

describe('the command line', () => {
  const layout = {
    bwrapPath: '/usr/bin/bwrap',
    etcDir: '/stage/etc',
    uid: 65534,
    files: [{ hostPath: '/stage/files/main.py', name: 'main.py' }],
    helperDir: '/stage/helpers',
    workDirBytes: 1024,
    env: { PATH: '/usr/bin' },
  };

  it('unshares every namespace, clears the environment and mounts no home, /tmp or /etc wholesale', () => {
    const argv = bwrapCommand(layout);
    for (const flag of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--clearenv'])
      expect(argv).toContain(flag);
    const mountSources = argv.flatMap((arg, index) => (/^--(ro-)?bind$/.test(arg) ? [argv[index + 1]] : []));
    for (const source of mountSources) expect(source).toMatch(/^(\/usr|\/etc\/[a-z.]+|\/stage\/.+)$/);
    expect(argv.slice(argv.indexOf('--size'), argv.indexOf('--size') + 4)).toEqual([
      '--size',
      '1024',
      '--tmpfs',
      '/work',
    ]);
    expect(argv.slice(argv.indexOf('--remount-ro'), argv.indexOf('--remount-ro') + 2)).toEqual([
      '--remount-ro',
      '/dev',
    ]);
    expect(argv).toContain('/');
  });

  it('drops root to the sandbox uid with no capabilities, and sets hard = soft limits', () => {
    expect(dropRootCommand(0, 65534)).toEqual([
      '/usr/bin/setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
    ]);
    expect(dropRootCommand(1000, 65534)).toEqual([]);
    const limits = { memoryBytes: 256, cpuSeconds: 3, maxProcesses: 8, maxFileBytes: 100, maxOpenFiles: 16 };
    expect(prlimitCommand(limits, 512)).toEqual([
      '/usr/bin/prlimit',
      '--as=512',
      '--data=256',
      '--cpu=3:4',
      '--nproc=8',
      '--fsize=100',
      '--nofile=16',
      '--core=0',
      '--',
    ]);
  });
});
