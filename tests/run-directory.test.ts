import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_LOG_FILE, parseEventLog, recoverEventLog, RunDirectory } from '../ts/run/run-directory.js';

const tempDir = () => join(mkdtempSync(join(tmpdir(), 'opt-native-run-')), 'run');

describe('RunDirectory', () => {
  it('appends events as JSON lines and replays them after reopening', () => {
    const dir = tempDir();
    const run = RunDirectory.create(dir);
    run.appendEvent({ type: 'start', seed: 7 });
    run.appendEvent({ type: 'step', key: 'eval:0', value: { score: 0.5 } });
    run.close();
    expect(readFileSync(join(dir, EVENT_LOG_FILE), 'utf8')).toBe(
      '{"type":"start","seed":7}\n{"type":"step","key":"eval:0","value":{"score":0.5}}\n',
    );
    const reopened = RunDirectory.open(dir);
    expect(reopened.replay()).toEqual([
      { type: 'start', seed: 7 },
      { type: 'step', key: 'eval:0', value: { score: 0.5 } },
    ]);
    expect(reopened.hasStep('eval:0')).toBe(true);
    reopened.close();
  });

  it('refuses to create over an existing run, and to open a folder without one', () => {
    const dir = tempDir();
    RunDirectory.create(dir).appendEvent({ type: 'start' });
    expect(() => RunDirectory.create(dir)).toThrow(/already holds a run; resume it with --resume/);
    expect(() => RunDirectory.open(tempDir())).toThrow(expect.objectContaining({ code: 'E_FILE_NOT_FOUND' }));
  });

  it('runStep returns the recorded value instead of calling fn again', async () => {
    const dir = tempDir();
    const run = RunDirectory.create(dir);
    let calls = 0;
    const compute = async () => ({ calls: ++calls });
    expect(await run.runStep('a', compute)).toEqual({ calls: 1 });
    expect(await run.runStep('a', compute)).toEqual({ calls: 1 });
    run.close();
    const resumed = RunDirectory.open(dir);
    expect(await resumed.runStep('a', compute)).toEqual({ calls: 1 });
    expect(await resumed.runStep('b', compute)).toEqual({ calls: 2 });
    expect(calls).toBe(2);
    resumed.close();
  });

  it('runStep shares one execution between concurrent callers of a key and records nothing on failure', async () => {
    const run = RunDirectory.create(tempDir());
    let calls = 0;
    const slow = async () => {
      calls += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return 42;
    };
    expect(await Promise.all([run.runStep('k', slow), run.runStep('k', slow)])).toEqual([42, 42]);
    expect(calls).toBe(1);
    await expect(
      run.runStep('bad', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(run.hasStep('bad')).toBe(false);
    expect(run.replay().filter((event) => event.type === 'step')).toHaveLength(1);
    run.close();
  });

  it('drops a torn last line left by a kill mid-write and appends cleanly after it', () => {
    const dir = tempDir();
    const run = RunDirectory.create(dir);
    run.appendEvent({ type: 'step', key: 'a', value: 1 });
    run.close();
    appendFileSync(join(dir, EVENT_LOG_FILE), '{"type":"step","key":"b","val');
    const resumed = RunDirectory.open(dir);
    expect(resumed.replay()).toEqual([{ type: 'step', key: 'a', value: 1 }]);
    resumed.appendEvent({ type: 'step', key: 'b', value: 2 });
    resumed.close();
    expect(
      RunDirectory.open(dir)
        .replay()
        .map((event) => event.key),
    ).toEqual(['a', 'b']);
  });
});

describe('runStep values', () => {
  it('returns the JSON form of the value, the same a resumed run reads back', async () => {
    const dir = tempDir();
    const run = RunDirectory.create(dir);
    const value = await run.runStep('k', async () => ({ score: 1, note: undefined, at: new Date(0) }));
    expect(value).toEqual({ score: 1, at: '1970-01-01T00:00:00.000Z' });
    expect(Object.keys(value)).toEqual(['score', 'at']);
    run.close();
    const resumed = RunDirectory.open(dir);
    expect(await resumed.runStep('k', async () => ({ score: 2 }))).toEqual(value);
    resumed.close();
  });
});

describe('parseEventLog', () => {
  it('counts only complete, parsable lines as valid bytes', () => {
    expect(parseEventLog(Buffer.from('{"type":"a"}\n{"ty'))).toEqual({ events: [{ type: 'a' }], validBytes: 13 });
    expect(parseEventLog(Buffer.from('garbage\n{"type":"a"}\n'))).toEqual({ events: [], validBytes: 0 });
    expect(parseEventLog(Buffer.alloc(0))).toEqual({ events: [], validBytes: 0 });
  });
});

describe('a damaged line in the middle of the log', () => {
  it('is skipped with a warning; the records after it are kept and later appends follow them', () => {
    const dir = tempDir();
    const run = RunDirectory.create(dir);
    for (const key of ['a', 'b', 'c']) run.appendEvent({ type: 'step', key, value: key.toUpperCase() });
    run.close();
    const path = join(dir, EVENT_LOG_FILE);
    const lines = readFileSync(path, 'utf8').split('\n');
    // Line 2 of 3 damaged in place (a disk or an editor, not a kill: the line keeps its newline).
    lines[1] = '{"type":"step","key":"b","val\u0000ue';
    writeFileSync(path, `${lines.join('\n')}{"type":"st`);
    const resumed = RunDirectory.open(dir);
    expect(resumed.replay().map((event) => event.key)).toEqual(['a', 'c']);
    expect([resumed.hasStep('a'), resumed.hasStep('b'), resumed.hasStep('c')]).toEqual([true, false, true]);
    expect(resumed.warnings).toEqual([
      `${path}: skipped 1 damaged line(s) (line 2); kept the 2 valid records around them`,
    ]);
    resumed.appendEvent({ type: 'step', key: 'd', value: 'D' });
    resumed.close();
    const again = RunDirectory.open(dir);
    expect(again.replay().map((event) => event.key)).toEqual(['a', 'c', 'd']);
    again.close();
  });

  it('recoverEventLog: line numbers of damage between intact runs; the torn tail is not counted as damage', () => {
    const log = Buffer.from('{"type":"a"}\nbad\n[1]\n{"type":"b"}\n{"type":"c"}\nnull\n{"type":"d"}\n{"ty');
    expect(recoverEventLog(log)).toEqual({
      events: [{ type: 'a' }, { type: 'b' }, { type: 'c' }, { type: 'd' }],
      validBytes: log.length - 4,
      corruptLines: [2, 3, 6],
    });
    expect(recoverEventLog(Buffer.from('{"type":"a"}\ngarbage\n'))).toEqual({
      events: [{ type: 'a' }],
      validBytes: 13,
      corruptLines: [],
    });
  });
});
