/**
 * The README's quick start runs as written: its first command, with the local model swapped for a scripted one (the
 * real run is minutes of CPU), parses, reaches the held-out split and prints the baseline comparison.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    .find((line) => line.startsWith('npx opt-native '));
  if (!command) throw new Error('no npx opt-native command in the README quick start');
  return command.replace('npx opt-native ', '').trim().split(/\s+/);
}

describe('README quick start', () => {
  it('runs its first command end to end (scripted model) and prints the held-out gain line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quickstart-'));
    const script = join(dir, 'model.json');
    // As optimizer: one variation; as evaluator: "(A)" unless the seed instruction about details is in the prompt.
    const rules = [
      { contains: '<INS>', reply: '<INS>Answer after checking every statement.</INS>' },
      { contains: 'check each detail', reply: '(B)' },
    ];
    writeFileSync(script, JSON.stringify({ modelId: 'scripted-quickstart', rules, default: '(A)' }));
    const args = quickStartArgs();
    expect(args.slice(0, 3)).toEqual(['opro', '--task', 'bbh:logical_deduction_three_objects']);
    expect(args).toContain('--seed-instructions');
    const swapped = args.map((arg) => (arg === 'runs/quickstart' ? join(dir, 'run') : arg));
    const model = `scripted:${script}`;
    const { stdout, stderr, code } = await runCli(SOURCE_CLI_ARGS, [
      ...swapped,
      '--eval-mode',
      'generate',
      '--evaluator',
      model,
      '--optimizer-model',
      model,
      '--quiet',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Held-out test score: \d\.\d{3} on 60 examples/);
    expect(stdout).toMatch(/Baseline held-out score: \d\.\d{3}; gain [+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\]/);
  });
});
