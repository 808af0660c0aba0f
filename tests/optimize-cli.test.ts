/**
 * `opt-native optimize` end to end: a scripted model (hidden `scripted:` model string), a real evaluator script in
 * the real sandbox, and every way an evaluator can fail reported as feedback plus a coded error line.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, SOURCE_CLI_ARGS } from './cli-harness.js';

/** Scores -|x - 3|; some values of x make it misbehave on purpose. */
const EVALUATOR = `import json, time
x = open("/work/x.txt").read().strip()
if x == "crash":
    raise ZeroDivisionError("the evaluator divided by zero")
if x == "text":
    print("hello, no JSON here")
elif x == "hang":
    time.sleep(600)
elif x == "nan":
    print(json.dumps({"score": float("nan"), "feedback": "?"}))
else:
    print(json.dumps({"score": -abs(float(x) - 3), "feedback": "distance %g" % abs(float(x) - 3)}))
`;

/** Stateless: the first rule whose strings the prompt holds answers (best known score first). */
const MODEL_SCRIPT = {
  modelId: 'scripted-optimizer',
  rules: [
    { contains: 'score: -1\n', reply: 'Closer still.\n```\n3\n```' },
    { contains: 'score: -2\n', reply: 'Next:\n```\n2\n```' },
  ],
  default: 'Start here:\n```\n1\n```',
};

let dir: string;
const path = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'opt-native-optimize-cli-'));
  writeFileSync(path('task.md'), 'Find the number x closest to three.');
  writeFileSync(path('evaluate.py'), EVALUATOR);
  writeFileSync(path('model.json'), JSON.stringify(MODEL_SCRIPT));
});

function optimizeArgs(outputDir: string, x0: string, extra: string[] = []): string[] {
  writeFileSync(path(`${outputDir}.x0`), x0);
  return [
    'optimize',
    '--task-file',
    path('task.md'),
    '--question',
    'What is the next x to try such that the score is higher?',
    '--x0-file',
    path(`${outputDir}.x0`),
    '--evaluator',
    path('evaluate.py'),
    '--model',
    `scripted:${path('model.json')}`,
    '--proposals-per-step',
    '1',
    '--output-dir',
    path(outputDir),
    '--quiet',
    ...extra,
  ];
}

const resultOf = (outputDir: string) =>
  JSON.parse(readFileSync(path(`${outputDir}/optimize_result.json`), 'utf8')) as {
    bestX: string;
    bestScore: number;
    steps: number;
    evaluations: number;
    history: { x: string; score: number | null; feedback: string }[];
  };

describe('opt-native optimize', () => {
  it('climbs to the stop score with the evaluator in the sandbox and writes its outputs', async () => {
    const outcome = await runCli(SOURCE_CLI_ARGS, optimizeArgs('climb', '0', ['--stop-score', '0']));
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toContain('Best score: 0 (x0: -3)');
    expect(outcome.stdout).toContain('Stopped: stop_score after 3 steps; 4 evaluations, 3 calls');
    expect(readFileSync(path('climb/best_x.txt'), 'utf8')).toBe('3');
    const result = resultOf('climb');
    expect(result.history.map((c) => [c.x, c.score, c.feedback])).toEqual([
      ['0', -3, 'distance 3'],
      ['1', -2, 'distance 2'],
      ['2', -1, 'distance 1'],
      ['3', 0, 'distance 0'],
    ]);

    const resumed = await runCli(SOURCE_CLI_ARGS, ['optimize', '--resume', path('climb'), '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('Best score: 0 (x0: -3)');
    const events = readFileSync(path('climb/events.jsonl'), 'utf8').trim().split('\n');
    // nothing new was recorded: every generation and evaluation was replayed
    expect(events.filter((line) => line.includes('"optimize/evaluate/'))).toHaveLength(4);
  });

  it.each([
    ['crash', 'the evaluator exited with status 1: ', 'ZeroDivisionError: the evaluator divided by zero'],
    ['text', "the evaluator's last line is not JSON", 'hello, no JSON here'],
    ['hang', 'the evaluator ran past its deadline (1500 ms) and was killed', ''],
    ['nan', 'the evaluator printed a score that is not a finite number', ''],
  ])(
    'an evaluator that fails on x0 (%s) gives feedback and a coded error, and the run goes on',
    async (x0, line, detail) => {
      const outputDir = `bad-${x0}`;
      const outcome = await runCli(
        SOURCE_CLI_ARGS,
        optimizeArgs(outputDir, x0, ['--max-steps', '1', '--evaluator-timeout-ms', '1500']),
      );
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stderr).toContain(`error[E_EVALUATOR]: step 0 proposal 0: ${line}`);
      expect(outcome.stderr).toContain(detail);
      expect(outcome.stderr).not.toMatch(/\n\s+at /);
      const result = resultOf(outputDir);
      expect(result.history[0]).toMatchObject({ x: x0, score: null });
      expect(result.history[0]?.feedback).toContain(`the evaluation failed: [E_EVALUATOR] ${line}`);
      expect(result).toMatchObject({ bestX: '1', bestScore: -2 });
    },
  );

  it('stops at the --max-total-tokens budget, and at its deprecated name --max-tokens', async () => {
    for (const flag of ['--max-total-tokens', '--max-tokens']) {
      const outputDir = `budget${flag}`;
      const outcome = await runCli(SOURCE_CLI_ARGS, optimizeArgs(outputDir, '0', [flag, '1']));
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout, flag).toMatch(/^Stopped: budget after 1 steps; 2 evaluations, 1 calls/m);
    }
  });

  it('exits with E_EVALUATOR when no x could be evaluated', async () => {
    const script = path('always-text.json');
    writeFileSync(script, JSON.stringify({ default: '```\ncrash\n```' }));
    const args = optimizeArgs('nothing', 'crash', ['--max-steps', '1']).map((arg) =>
      arg.startsWith('scripted:') ? `scripted:${script}` : arg,
    );
    const outcome = await runCli(SOURCE_CLI_ARGS, args);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('error[E_EVALUATOR]: no value of x could be evaluated');
  });

  it('refuses to run without bubblewrap (E_SANDBOX_UNAVAILABLE) and creates no run folder', async () => {
    const outcome = await runCli(SOURCE_CLI_ARGS, optimizeArgs('no-bwrap', '0'), {
      ...process.env,
      OPT_NATIVE_BWRAP: '/nonexistent/bwrap',
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/^error\[E_SANDBOX_UNAVAILABLE\]: \/nonexistent\/bwrap not found/);
    expect(existsSync(path('no-bwrap'))).toBe(false);
  });

  it('refuses a missing question or an unknown runtime with E_BAD_INPUT', async () => {
    const noQuestion = optimizeArgs('bad-input', '0').filter(
      (arg, index, all) => arg !== '--question' && all[index - 1] !== '--question',
    );
    const outcome = await runCli(SOURCE_CLI_ARGS, noQuestion);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('error[E_BAD_INPUT]: --question is required');
    const badRuntime = await runCli(SOURCE_CLI_ARGS, optimizeArgs('bad-runtime', '0', ['--runtime', 'ruby']));
    expect(badRuntime.stderr).toContain('error[E_BAD_INPUT]: --runtime must be python or node');
  });
});
