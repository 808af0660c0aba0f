/**
 * The README's quick start runs as written: its first command, with the local model swapped for a scripted one (the
 * real run is minutes of CPU), parses, reaches the held-out split and prints the baseline comparison.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTextTask } from '../ts/tasks/text-task.js';
import { SOURCE_CLI_ARGS, repoRoot, runCli } from './cli-harness.js';

/** The arguments of the first `npx opt-native …` command in the README's Quick start section. */
function quickStartArgs(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const command = block
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    // Leading environment assignments (`OPT_NATIVE_CPU_INT8=1 npx opt-native …`) are not arguments.
    .map((line) => line.replace(/^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+/, ''))
    .find((line) => line.startsWith('npx opt-native '));
  if (!command) throw new Error('no npx opt-native command in the README quick start');
  return command.replace('npx opt-native ', '').trim().split(/\s+/);
}

describe('README quick start', () => {
  it('runs its first command end to end (scripted model) and prints the held-out gain line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quickstart-'));
    const script = join(dir, 'model.json');
    const args = quickStartArgs();
    expect(args.slice(0, 3)).toEqual(['opro', '--task', 'gsm8k']);
    expect(args).toContain('--seed-instructions');
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag('--answer-format-position')).toBe('start');
    // As optimizer: one variation. As evaluator: the right final line under OPRO's seed instruction (for the
    // questions of the command's own splits), a wrong one otherwise, so the seed wins and the gain line prints.
    const sizes = { train: Number(flag('--train-size')), validation: Number(flag('--eval-size')) };
    const task = await loadTextTask('gsm8k', { seed: 42, sizes: { ...sizes, test: Number(flag('--test-size')) } });
    const seed = 'Take a deep breath and work on this problem step-by-step.';
    const answered = [...task.splits.validation, ...task.splits.test].map((example) => ({
      contains: [seed, example.input],
      reply: `Working.\nThe answer is ${example.target}.`,
    }));
    const rules = [{ contains: '<INS>', reply: '<INS>Work it out, then answer.</INS>' }, ...answered];
    writeFileSync(script, JSON.stringify({ modelId: 'scripted-quickstart', rules, default: 'The answer is -1.' }));
    const swapped = args.map((arg) => (arg === 'runs/quickstart' ? join(dir, 'run') : arg));
    const model = `scripted:${script}`;
    const { stdout, stderr, code } = await runCli(SOURCE_CLI_ARGS, [
      ...swapped,
      '--evaluator',
      model,
      '--optimizer-model',
      model,
      '--quiet',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`=== BEST PROMPT ===\n${seed}`);
    expect(stdout).toContain(`Held-out test score: 1.000 on ${flag('--test-size')} examples`);
    expect(stdout).toContain('Baseline held-out score: 0.000; gain +1.000 [+1.000, +1.000] (95% paired bootstrap)');
  });
});
