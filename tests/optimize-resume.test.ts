/** kill -9 in the middle of an optimize run, then resume: nothing that finished is evaluated or generated again. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const DRIVER = 'tests/fixtures/optimize-driver.ts';

function startDriver(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', DRIVER, ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += String(data)));
  child.stderr.on('data', (data) => (stderr += String(data)));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })),
  );
  return { kill: () => child.kill('SIGKILL'), exit };
}

const logLines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : []);

describe('optimize resume after SIGKILL', () => {
  it('replays every finished generation and evaluation, and ends with the uninterrupted result', async () => {
    const base = mkdtempSync(join(tmpdir(), 'opt-native-optimize-resume-'));
    const reference = await startDriver(['--run', join(base, 'reference'), '--log', join(base, 'reference.log')]).exit;
    expect(reference.code, reference.stderr).toBe(0);

    const runDir = join(base, 'run');
    const firstLog = join(base, 'first.log');
    const first = startDriver(['--run', runDir, '--log', firstLog, '--hang-on', '4']);
    await expect.poll(() => logLines(firstLog).includes('start 4'), { timeout: 30_000 }).toBe(true);
    first.kill();
    expect((await first.exit).signal).toBe('SIGKILL');
    const finished = logLines(firstLog).filter((line) => line.startsWith('done ') || line.startsWith('gen '));
    expect(finished).toEqual(expect.arrayContaining(['done 0', 'done 1', 'done 2', 'done 3', 'gen 3000', 'gen 3001']));

    const secondLog = join(base, 'second.log');
    const second = await startDriver(['--run', runDir, '--log', secondLog]).exit;
    expect(second.code, second.stderr).toBe(0);
    const redone = logLines(secondLog).filter((line) => {
      const [kind, value] = line.split(' ');
      return finished.includes(`${kind === 'start' ? 'done' : kind} ${value}`);
    });
    expect(redone).toEqual([]);
    // the evaluation that hung is the only one the resumed session had to start again
    expect(
      logLines(secondLog)
        .filter((line) => line.startsWith('start '))
        .sort(),
    ).toEqual(['start 4', 'start 5', 'start 7', 'start 8', ...(finished.includes('done 6') ? [] : ['start 6'])].sort());
    expect(JSON.parse(second.stdout.trim())).toEqual(JSON.parse(reference.stdout.trim()));
  });
});
