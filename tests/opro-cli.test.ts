/**
 * End to end: the real CLI in a child process runs `opro` and `evaluate` on BBH navigate (test mode: 5 examples a
 * split) with the hidden `scripted:<json>` model string, writes the original tool's files, refuses audio manifests
 * clearly, honours --config, and resumes after SIGKILL to the same result as an uninterrupted run.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addAudioEvaluatorOptions, type AudioEvaluatorValues } from '../ts/cli/audio-target.js';
import { commandValues } from '../ts/cli/flag-aliases.js';
import { addEvaluatorOptions, addTaskOptions } from '../ts/cli/task-options.js';
import { SOURCE_CLI_ARGS as NODE_ARGS, repoRoot, runCli } from './cli-harness.js';

import { GENERIC_SEED_INSTRUCTIONS } from '../ts/optimizers/engine/seed-instructions.js';
const run = promisify(execFile);

const cli = (args: string[]) => runCli(NODE_ARGS, args);

const dir = mkdtempSync(join(tmpdir(), 'opro-cli-'));

/**
 * One stateless script for both roles. As optimizer it always proposes the same four instructions (dedup makes each
 * iteration take the next new one); as evaluator it answers "Yes" unless told to be careful, then "No".
 */
function writeScript(name: string, delayMs = 0): string {
  const path = join(dir, name);
  const script = {
    modelId: 'scripted-navigator',
    delayMs,
    rules: [
      {
        contains: '<INS>',
        reply:
          '<INS>Think carefully, answer Yes or No.</INS> <INS>Reply Yes or No.</INS> ' +
          '<INS><|im_start|>Yes or No</INS> <INS>Count the steps carefully and answer Yes or No.</INS>',
      },
      { contains: 'carefully', reply: 'No' },
    ],
    default: 'So the answer is Yes.',
  };
  writeFileSync(path, JSON.stringify(script));
  return `scripted:${path}`;
}

const model = writeScript('model.json');
const common = (outputDir: string, scripted = model) => [
  'opro',
  '--task',
  'bbh:navigate',
  '--test-mode',
  '--output-dir',
  outputDir,
  '--evaluator',
  scripted,
  '--optimizer-llm',
  scripted,
  '--candidates-per-iter',
  '1',
  '--quiet',
];

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const readLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('opt-native opro', () => {
  it('optimizes bbh:navigate and writes the original tool files', async () => {
    const out = join(dir, 'run');
    const { stdout, stderr, code } = await cli([...common(out), '--num-iterations', '3']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const file of [
      'best_prompt.txt',
      'best_metrics.json',
      'best_prompt_summary.json',
      'opro_prompts.jsonl',
      'opro_memory.json',
      'opro_history.json',
      'events.jsonl',
    ]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    const summary = readJson(join(out, 'best_prompt_summary.json'));
    const best = readFileSync(join(out, 'best_prompt.txt'), 'utf8');
    expect(summary.best_prompt).toBe(best);
    expect(summary.heldout).toMatchObject({ split: 'test', n_samples: 5 });
    expect(stdout).toContain(`=== BEST PROMPT ===\n${best}\n`);
    expect(stdout).toMatch(/Held-out test score: \d\.\d{3} on 5 examples/);
    const prompts = readLines(join(out, 'opro_prompts.jsonl'));
    expect(prompts.filter((record) => record.status === 'evaluated')).toHaveLength(4);
    expect(prompts.find((record) => record.prompt.includes('<|im_start|>'))?.rejection_reason).toBe(
      'contains forbidden token <|im_start|>',
    );
    expect(readJson(join(out, 'opro_history.json')).iteration_stats).toHaveLength(4);
  });

  it('evaluates the generic seed instructions after the baseline and reports the baseline on the held-out split', async () => {
    const out = join(dir, 'seeded');
    const args = [...common(out), '--num-iterations', '0', '--seed-instructions', 'generic'];
    const { stdout, code } = await cli(args);
    expect(code).toBe(0);
    const evaluated = readLines(join(out, 'opro_prompts.jsonl')).filter((record) => record.status === 'evaluated');
    expect(evaluated.map((record) => record.prompt)).toEqual([
      'Answer the question with exactly one of: No, Yes.',
      ...GENERIC_SEED_INSTRUCTIONS,
    ]);
    // Every prompt answers one label for all examples (BA 0.5), so the length penalty picks the shortest seed; on
    // the held-out split it ties with the baseline: gain 0 and a paired interval of [0, 0].
    expect(readFileSync(join(out, 'best_prompt.txt'), 'utf8')).toBe("Let's think step by step.");
    const { heldout } = readJson(join(out, 'best_prompt_summary.json'));
    expect(heldout.baseline).toEqual({
      prompt: 'Answer the question with exactly one of: No, Yes.',
      score: heldout.score,
      gain: 0,
      gain_interval_95: [0, 0],
    });
    expect(stdout).toContain('Baseline held-out score: 0.500; gain +0.000 [+0.000, +0.000] (95% paired bootstrap)');
    const bad = await cli([...common(join(dir, 'seeded-bad')), '--seed-instructions', 'famous']);
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([
      1,
      expect.stringMatching(/^error\[E_BAD_INPUT\]: .*famous/),
    ]);
  });

  it('refuses candidates longer than --max-prompt-chars', async () => {
    const out = join(dir, 'short');
    const { code } = await cli([...common(out), '--num-iterations', '3', '--max-prompt-chars', '30']);
    expect(code).toBe(0);
    const records = readLines(join(out, 'opro_prompts.jsonl'));
    const evaluated = records.filter((record) => record.status === 'evaluated').map((record) => record.prompt);
    // The baseline is always scored; of the four proposals only the 16-character one fits.
    expect(evaluated).toEqual(['Answer the question with exactly one of: No, Yes.', 'Reply Yes or No.']);
    const reasons = records.map((record) => record.rejection_reason);
    expect(reasons).toContain('too long (34 chars, maximum 30)');
    expect(reasons).toContain('too long (47 chars, maximum 30)');
    const bad = await cli([...common(join(dir, 'short-bad')), '--max-prompt-chars', '0']);
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([
      1,
      expect.stringMatching(/^error\[E_BAD_INPUT\]: opro config: maxPromptChars/),
    ]);
  });

  it('refuses a second run in the same folder and audio manifests, with stable codes', async () => {
    const out = join(dir, 'run');
    const again = await cli([...common(out), '--num-iterations', '1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error\[E_BAD_INPUT\]: .*already holds a run/);
    const audio = await cli(['opro', '--manifest', 'clips.parquet', '--output-dir', join(dir, 'audio')]);
    expect(audio.code).toBe(1);
    expect(audio.stderr).toMatch(/^error\[E_BAD_INPUT\]: audio manifests need --evaluator PATH/);
  });

  it('takes --optimizer-model and --max-total-tokens, and the old names as aliases; two names at once must agree', async () => {
    const budgeted = (out: string, flags: string[]) =>
      cli(['opro', '--task', 'bbh:navigate', '--test-mode', '--output-dir', join(dir, out), '--quiet', ...flags]);
    const shared = ['--evaluator', model, '--candidates-per-iter', '1', '--num-iterations', '2'];
    // The baseline's evaluation (5 calls) fits a 150-token budget; the next call does not.
    for (const [out, flags] of [
      ['names', ['--optimizer-model', model, '--max-total-tokens', '150']],
      ['aliases', ['--optimizer-llm', model, '--max-tokens', '150']],
    ] as const) {
      const run = await budgeted(out, [...shared, ...flags]);
      expect(run.stderr, out).toBe('');
      expect(run.stdout, out).toMatch(/^Stopped: budget; 5 calls/m);
    }
    const aliasOnly = await budgeted('alias-model', [...shared, '--optimizer-llm', model, '--num-iterations', '1']);
    expect(aliasOnly.code).toBe(0);
    expect(readLines(join(dir, 'alias-model', 'opro_prompts.jsonl')).map((record) => record.prompt)).toContain(
      'Think carefully, answer Yes or No.',
    );
    const both = await budgeted('both', [...shared, '--optimizer-model', model, '--optimizer-llm', 'scripted:other']);
    expect(both.code).toBe(1);
    expect(both.stderr).toBe(
      'error[E_BAD_INPUT]: --optimizer-llm is another name of --optimizer-model: give one of them\n',
    );
    expect(existsSync(join(dir, 'both'))).toBe(false);
  });

  it('reads options from a YAML --config, command-line flags winning', async () => {
    const configPath = join(dir, 'opro.yaml');
    writeFileSync(configPath, 'num-iterations: 1\nreward_w_length_penalty: 0\ntop-k: 2\n');
    const out = join(dir, 'configured');
    const { code, stderr } = await cli([...common(out), '--config', configPath, '--top-k', '3']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const history = readJson(join(out, 'opro_history.json'));
    expect(history.iteration_stats.map((stats: { iteration: number }) => stats.iteration)).toEqual([0, 1]);
    // No length penalty: the reward equals the validation score.
    const best = readJson(join(out, 'best_metrics.json'));
    expect(best.reward).toBe(best.ba_clip);
    expect(readJson(join(out, 'opro_memory.json')).length).toBeLessThanOrEqual(3);
    const bad = await cli([...common(join(dir, 'bad')), '--config', configPath.replace('opro.yaml', 'nope.yaml')]);
    expect(bad.stderr).toMatch(/^error\[E_BAD_INPUT\]: cannot read --config/);
  });

  it('resumes after SIGKILL to the same candidates and rewards as an uninterrupted run', async () => {
    const slow = writeScript('slow.json', 15);
    const straight = join(dir, 'straight');
    expect((await cli([...common(straight, slow), '--num-iterations', '3'])).code).toBe(0);

    const killed = join(dir, 'killed');
    const child = spawn(process.execPath, [...NODE_ARGS, ...common(killed, slow), '--num-iterations', '3'], {
      cwd: repoRoot,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const eventsPath = join(killed, 'events.jsonl');
    // Counts complete step lines only: the file is being appended to while we read it.
    const stepCount = () =>
      existsSync(eventsPath)
        ? readFileSync(eventsPath, 'utf8')
            .split('\n')
            .slice(0, -1)
            .filter((line) => line.includes('"type":"step"')).length
        : 0;
    let finished = false;
    child.on('exit', () => (finished = true));
    while (!finished && stepCount() < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(finished).toBe(false);
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    expect(
      existsSync(join(killed, 'best_prompt_summary.json')) &&
        readJson(join(killed, 'best_prompt_summary.json')).heldout,
    ).toBeFalsy();

    const resumed = await cli(['opro', '--resume', killed, '--quiet']);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    const essentials = (folder: string) =>
      readLines(join(folder, 'opro_prompts.jsonl')).map((record) => [
        record.iteration,
        record.prompt,
        record.status,
        record.reward,
        record.rejection_reason,
      ]);
    expect(essentials(killed)).toEqual(essentials(straight));
    expect(readJson(join(killed, 'best_prompt_summary.json')).heldout).toEqual(
      readJson(join(straight, 'best_prompt_summary.json')).heldout,
    );
    // Calls cut off by the kill were cached before their step was recorded: on resume they come back as cache hits.
    const usage = (folder: string) => readJson(join(folder, 'opro_history.json')).usage;
    expect(usage(killed).calls + usage(killed).cacheHits).toBe(usage(straight).calls + usage(straight).cacheHits);
  });
});

// The installed binary runs dist/ (built by `npm run build:ts`, which scripts/check.sh does before vitest).
describe.skipIf(!existsSync(join(repoRoot, 'dist', 'cli', 'commands', 'opro.js')))('bin/opt-native.js opro', () => {
  it('runs the built binary end to end', async () => {
    const out = join(dir, 'binary');
    const { stdout } = await run(process.execPath, ['bin/opt-native.js', ...common(out), '--num-iterations', '1'], {
      cwd: repoRoot,
    });
    expect(stdout).toContain('=== BEST PROMPT ===');
    expect(readJson(join(out, 'best_prompt_summary.json')).heldout).toMatchObject({ split: 'test', n_samples: 5 });
  });
});

describe('opt-native opro on Ctrl-C', () => {
  it('stops cleanly on SIGINT with the best prompt saved, and resumes to completion', async () => {
    const slow = writeScript('slow-interrupt.json', 15);
    const out = join(dir, 'interrupted');
    const child = spawn(process.execPath, [...NODE_ARGS, ...common(out, slow), '--num-iterations', '3'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const eventsPath = join(out, 'events.jsonl');
    let finished = false;
    child.on('exit', () => (finished = true));
    const steps = () =>
      existsSync(eventsPath)
        ? readFileSync(eventsPath, 'utf8')
            .split('\n')
            .filter((l) => l.includes('"step"')).length
        : 0;
    while (!finished && steps() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(finished).toBe(false);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain('=== BEST PROMPT ===');
    expect(stdout).toContain('Stopped: aborted');
    expect(readJson(join(out, 'opro_history.json')).stop_reason).toBe('aborted');
    expect(existsSync(join(out, 'best_prompt.txt'))).toBe(true);
    const resumed = await cli(['opro', '--resume', out, '--quiet']);
    expect(resumed.code).toBe(0);
    expect(readJson(join(out, 'best_prompt_summary.json')).heldout).toMatchObject({ n_samples: 5 });
  });
});

describe('opt-native evaluate', () => {
  it('writes a predictions CSV and prints the metrics', async () => {
    const promptFile = join(dir, 'prompt.txt');
    writeFileSync(promptFile, 'Reply Yes or No.\n');
    const csv = join(dir, 'predictions.csv');
    const metrics = join(dir, 'metrics.json');
    const { stdout, stderr, code } = await cli([
      'evaluate',
      '--prompt-file',
      promptFile,
      '--task',
      'bbh:navigate',
      '--test-mode',
      '--evaluator',
      model,
      '--output-csv',
      csv,
      '--metrics-json',
      metrics,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,raw_output,normalized_answer,target,correct');
    expect(lines).toHaveLength(6);
    // The scripted evaluator always says Yes: correct exactly where the target is Yes.
    for (const line of lines.slice(1)) {
      const [id, raw, answer, target, correct] = line.split(',');
      expect(id).toMatch(/^bbh-navigate-\d+$/);
      expect([raw, answer]).toEqual(['So the answer is Yes.', 'Yes']);
      expect(correct).toBe(target === 'Yes' ? '1' : '0');
    }
    const report = readJson(metrics);
    expect(report).toMatchObject({ task: 'bbh:navigate', split: 'test', n_samples: 5, balanced_accuracy: 0.5 });
    expect(stdout).toContain('bbh:navigate test: balanced_accuracy 0.5000 on 5 examples');
  });

  it('caps the evaluated model with --eval-max-new-tokens', async () => {
    const csv = join(dir, 'capped.csv');
    const args = ['evaluate', '--prompt', 'Reply Yes or No.', '--task', 'bbh:navigate', '--test-mode'];
    const { code } = await cli([...args, '--evaluator', model, '--eval-max-new-tokens', '2', '--output-csv', csv]);
    expect(code).toBe(0);
    // The scripted model counts whitespace tokens: "So the answer is Yes." is cut to "So the", which names no label.
    const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1);
    expect(rows.map((row) => row.split(',').slice(1, 3))).toEqual(Array(5).fill(['So the', '']));
  });

  it('puts the answer format before the question with --answer-format-position start', async () => {
    const path = join(dir, 'format-first.json');
    const script = {
      modelId: 'format-reader',
      rules: [
        {
          contains: 'End your reply with the line "The answer is X." where X is one of: No, Yes.\n\nQ: ',
          reply: 'So the answer is No.',
        },
      ],
      default: 'So the answer is Yes.',
    };
    writeFileSync(path, JSON.stringify(script));
    const answers = async (extra: string[]) => {
      const csv = join(dir, `format-${extra.length}.csv`);
      const args = ['evaluate', '--prompt', 'Work it out.', '--task', 'bbh:navigate', '--test-mode', ...extra];
      const { code } = await cli([...args, '--evaluator', `scripted:${path}`, '--output-csv', csv]);
      expect(code).toBe(0);
      return readFileSync(csv, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((row) => row.split(',')[2]);
    };
    expect(await answers(['--answer-format-position', 'start'])).toEqual(Array(5).fill('No'));
    expect(await answers([])).toEqual(Array(5).fill('Yes'));
    const bad = await cli([
      'evaluate',
      '--prompt',
      'x',
      '--task',
      'bbh:navigate',
      '--answer-format-position',
      'middle',
    ]);
    expect(bad.code).not.toBe(0);
  });
});

describe('the audio evaluator flags', () => {
  /** The values `opro` reads after parsing `args`, aliases folded in. */
  function audioValues(args: string[]): AudioEvaluatorValues {
    const command = addAudioEvaluatorOptions(addEvaluatorOptions(addTaskOptions(new Command(), 'validation'), 'd'))
      .exitOverride()
      .action(() => undefined);
    command.parse(args, { from: 'user' });
    return commandValues<AudioEvaluatorValues>(command);
  }

  it('take --lora, as classify-audio does, and --checkpoint as its alias; --no-lora wins over both', () => {
    expect(audioValues(['--lora', 'adapter']).lora).toBe('adapter');
    expect(audioValues(['--checkpoint', 'adapter']).lora).toBe('adapter');
    expect(audioValues([]).lora).toBeUndefined();
    expect(audioValues(['--checkpoint', 'adapter', '--no-lora']).lora).toBe(false);
    expect(() => audioValues(['--lora', 'a', '--checkpoint', 'b'])).toThrow(
      expect.objectContaining({
        code: 'E_BAD_INPUT',
        message: '--checkpoint is another name of --lora: give one of them',
      }),
    );
    expect(audioValues(['--evaluator-model-name', '/models/qwen2-audio']).evaluator).toBe('/models/qwen2-audio');
  });
});
