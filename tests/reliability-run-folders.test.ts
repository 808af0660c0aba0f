/**
 * Issue 13 items 6–8 for the commands that landed after the first probe (`optimize`, `finetune`, `teacher-student`),
 * through the real CLI: an option that fails its check leaves the output folder as it was (so it then takes a fresh
 * run), a folder of the user's own files is refused unless --force (and --force keeps them), and a damaged line in the
 * middle of an optimize run's events.jsonl is reported when the run resumes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCE_CLI_ARGS, repoRoot, runCli } from './cli-harness.js';
import { TINY_MODEL_DIR } from './native-fixtures.js';

// Child processes compile the CLI with tsx: seconds each on a busy machine.
const TIMEOUT_MS = 240_000;
const dir = mkdtempSync(join(tmpdir(), 'reliability-folders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => runCli(SOURCE_CLI_ARGS, args);
const path = (name: string) => join(dir, name);
const listing = (folder: string) => (existsSync(folder) ? readdirSync(folder).sort() : null);
/** A folder holding one file of the user's. */
function usersFolder(name: string): string {
  const folder = path(name);
  mkdirSync(folder);
  writeFileSync(join(folder, 'notes.txt'), 'my notes');
  return folder;
}
const firstLine = (stderr: string) => stderr.split('\n')[0] ?? '';

describe('optimize', () => {
  const EVALUATOR =
    'import json\nx = open("/work/x.txt").read().strip()\nprint(json.dumps({"score": -abs(float(x) - 3), "feedback": "ok"}))\n';
  const MODEL = { modelId: 'scripted-optimizer', rules: [], default: 'Try:\n```\n2\n```' };
  beforeAll(() => {
    writeFileSync(path('task.md'), 'Find the number x closest to three.');
    writeFileSync(path('evaluate.py'), EVALUATOR);
    writeFileSync(path('x0.txt'), '0');
    writeFileSync(path('model.json'), JSON.stringify(MODEL));
  });
  const optimize = (out: string, extra: string[] = []) => [
    'optimize',
    ...['--task-file', path('task.md'), '--question', 'Which x next?', '--x0-file', path('x0.txt')],
    ...['--evaluator', path('evaluate.py'), '--model', `scripted:${path('model.json')}`],
    ...['--proposals-per-step', '1', '--max-steps', '2', '--output-dir', out, '--quiet', '--allow-weaker-sandbox'],
    ...extra,
  ];

  it(
    'checks every option before the first write: a refused run leaves no folder, and a good run starts there',
    async () => {
      const out = path('opt-checked');
      const bad: [string[], RegExp][] = [
        [['--strategy', 'bogus'], /^error\[E_BAD_INPUT\]: optimize: unknown strategy "bogus"/],
        [['--proposals-per-step', '0'], /^error\[E_BAD_INPUT\]: optimize: proposalsPerStep must be a positive/],
        [['--top-k', '0'], /^error\[E_BAD_INPUT\]: optimize: topK must be a positive integer/],
        [['--max-new-tokens', '0'], /^error\[E_BAD_INPUT\]: optimize: maxTokens must be a positive integer/],
        [['--temperature', '5'], /^error\[E_BAD_INPUT\]: optimize: temperature must be a number from 0 to 2/],
        [['--model', 'bogus:thing'], /^error\[E_BAD_INPUT\]: unknown provider "bogus"/],
        [
          ['--evaluator-timeout-ms', '0'],
          /^error\[E_BAD_INPUT\]: .*--evaluator-timeout-ms must be an integer from 1 to/,
        ],
        [['--service-socket', path('no-such.sock')], /^error\[E_BAD_INPUT\]: --service-socket .* is not a listening/],
      ];
      for (const [extra, message] of bad) {
        const refused = await cli(optimize(out, extra));
        expect(refused.code, extra.join(' ')).toBe(1);
        expect(refused.stdout, extra.join(' ')).toBe('');
        expect(firstLine(refused.stderr), extra.join(' ')).toMatch(message);
        expect(listing(out), extra.join(' ')).toBeNull();
      }
      const good = await cli(optimize(out));
      expect(good.stderr).toMatch(/^(warning: .*weaker.*\n)*$/);
      expect(good.code).toBe(0);
      expect(listing(out)).toEqual(['best_x.txt', 'cache.sqlite', 'events.jsonl', 'optimize_result.json']);
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a folder of other files unless --force, which keeps them',
    async () => {
      const out = usersFolder('opt-users');
      const refused = await cli(optimize(out));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^error\[E_BAD_INPUT\]: .* is not empty and holds no optimize run \(it holds notes\.txt\)/,
      );
      expect(listing(out)).toEqual(['notes.txt']);
      const forced = await cli(optimize(out, ['--force']));
      expect(forced.code).toBe(0);
      expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('my notes');
      expect(existsSync(join(out, 'best_x.txt'))).toBe(true);
    },
    TIMEOUT_MS,
  );

  it(
    'resumes past a damaged line in the middle of events.jsonl with a warning, keeping the records after it',
    async () => {
      const out = path('opt-damaged');
      const first = await cli(optimize(out));
      expect(first.code).toBe(0);
      const logPath = join(out, 'events.jsonl');
      const lines = readFileSync(logPath, 'utf8').trimEnd().split('\n');
      expect(lines.length).toBeGreaterThan(3);
      lines[1] = `${lines[1]?.slice(0, 15)}\u0000garbage`;
      writeFileSync(logPath, `${lines.join('\n')}\n`);
      const resumed = await cli(['optimize', '--resume', out, '--quiet']);
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toContain(
        `warning: ${logPath}: skipped 1 damaged line(s) (line 2); kept the ${lines.length - 1} valid records around them\n`,
      );
      expect(resumed.stdout.split('\n').slice(0, 4)).toEqual(first.stdout.split('\n').slice(0, 4));
      expect(readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(0, lines.length)).toEqual(lines);
    },
    TIMEOUT_MS,
  );
});

describe('finetune', () => {
  const DATA = path('chats.jsonl');
  beforeAll(() => {
    const chat = {
      messages: [
        { role: 'user', content: '2+2?' },
        { role: 'assistant', content: '4' },
      ],
    };
    writeFileSync(DATA, `${JSON.stringify(chat)}\n${JSON.stringify(chat)}\n`);
  });
  const finetune = (out: string, extra: string[] = []) => [
    'finetune',
    ...['--model', TINY_MODEL_DIR, '--data', DATA, '--output-dir', out, '--rank', '2', '--batch-size', '2'],
    ...['--max-steps', '1', '--eval-every', '0', '--checkpoint-every', '0'],
    ...extra,
  ];

  it(
    "refuses a folder of other files unless --force, and never replaces the user's adapter files",
    async () => {
      const out = usersFolder('ft-users');
      writeFileSync(join(out, 'adapter_config.json'), '{"mine": true}');
      writeFileSync(join(out, 'results.csv'), 'a,b\n');
      const refused = await cli(finetune(out));
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(
        /^error\[E_BAD_INPUT\]: .* is not empty and holds no finetune run \(it holds notes\.txt, results\.csv\); .*--force/,
      );
      expect(listing(out)).toEqual(['adapter_config.json', 'notes.txt', 'results.csv']);
      expect(readFileSync(join(out, 'adapter_config.json'), 'utf8')).toBe('{"mine": true}');

      const forced = await cli(finetune(out, ['--force']));
      expect(forced.stderr).not.toMatch(/error/);
      expect(forced.code).toBe(0);
      expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('my notes');
      expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
    },
    TIMEOUT_MS,
  );

  it(
    'a refused --data leaves no output folder behind (the native side had made it)',
    async () => {
      const bad = path('no-assistant.jsonl');
      writeFileSync(bad, `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] })}\n`);
      for (const data of [bad, path('missing.jsonl')]) {
        const out = path('ft-refused');
        const refused = await cli(['finetune', '--model', TINY_MODEL_DIR, '--data', data, '--output-dir', out]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/^error\[E_BAD_INPUT\]: .*dataset/);
        expect(listing(out)).toBeNull();
      }
    },
    TIMEOUT_MS,
  );

  it(
    'takes a folder that holds only its own outputs (a finished run) to the checkpoint check',
    async () => {
      const out = path('ft-own');
      const first = await cli(finetune(out));
      expect(first.code).toBe(0);
      const again = await cli(finetune(out));
      expect(again.code).toBe(1);
      // Not the folder check: the run's own checkpoint is what stops a second fresh run.
      expect(again.stderr).toMatch(/^error\[E_BAD_INPUT\]: .*checkpoint holds a checkpoint of an earlier run/);
    },
    TIMEOUT_MS,
  );
});

describe('teacher-student', () => {
  const dataset = path('minigrid');
  beforeAll(() => {
    execFileSync(
      process.execPath,
      [...SOURCE_CLI_ARGS, 'data', 'minigrid', '--envs', 'Empty-5x5', '--seeds', '3', '--out', dataset],
      { cwd: repoRoot },
    );
  }, 60_000);
  const teacherStudent = (out: string, extra: string[] = []) => [
    'teacher-student',
    ...['--dataset-path', dataset, '--teacher-model', 'scripted:/nowhere.json', '--student-model', 'scripted:/x.json'],
    ...['--output-dir', out],
    ...extra,
  ];

  it(
    'refuses a bad model string and a user file of an output name before writing anything',
    async () => {
      const out = path('ts-out');
      const badModel = await cli(teacherStudent(out, ['--student-model', 'nope:x']));
      expect(badModel.code).toBe(1);
      expect(firstLine(badModel.stderr)).toMatch(/^error\[E_BAD_INPUT\]: unknown provider "nope"/);
      expect(listing(out)).toBeNull();

      const users = usersFolder('ts-users');
      writeFileSync(join(users, 'program.json'), '{"mine": true}');
      const refused = await cli(teacherStudent(users));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^error\[E_BAD_INPUT\]: .*ts-users already holds program\.json but no program\.run: .*--force/,
      );
      expect(listing(users)).toEqual(['notes.txt', 'program.json']);
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a batch whose experiments would share one run folder',
    async () => {
      const config = path('batch.yaml');
      writeFileSync(
        config,
        `fine_tuning:\n  dataset_path: ${dataset}\n  defaults:\n    teacher_model: scripted:/a.json\n` +
          `    student_model: scripted:/b.json\n    output_dir: ${path('ts-batch')}\n  models:\n    - {}\n    - {}\n`,
      );
      const refused = await cli(['teacher-student', '--config', config]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error\[E_BAD_INPUT\]: two experiments would share .*program\.run/);
      expect(listing(path('ts-batch'))).toBeNull();
    },
    TIMEOUT_MS,
  );
});

describe('data speech-conditions', () => {
  it(
    "refuses a folder of the user's files before building anything, and a bad --conditions writes nothing",
    async () => {
      const users = usersFolder('speech-users');
      const refused = await cli(['data', 'speech-conditions', '--out', users, '--clips', '4', '--quiet']);
      expect(refused.code).toBe(1);
      expect(firstLine(refused.stderr)).toMatch(
        /^error\[E_BAD_INPUT\]: .*speech-users is not empty and holds no data speech-conditions run .*--force/,
      );
      expect(listing(users)).toEqual(['notes.txt']);
      const out = path('speech-bad');
      const bad = await cli(['data', 'speech-conditions', '--out', out, '--conditions', 'bogus', '--quiet']);
      expect(bad.code).toBe(1);
      expect(firstLine(bad.stderr)).toMatch(/^error\[E_BAD_INPUT\]: --conditions takes a comma-separated list/);
      expect(listing(out)).toBeNull();
    },
    TIMEOUT_MS,
  );
});
