// `opt-native finetune` end to end on the tiny Qwen2 fixture (random weights, byte-level tokenizer): the outputs,
// a falling loss, kill -9 then --resume equal to an uninterrupted run, coded errors, and the Node API's AbortSignal.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptNativeError } from '../ts/errors.js';
import { finetune, type FinetuneProgress } from '../ts/native/finetune.js';
import { SOURCE_CLI_ARGS, repoRoot, runCli } from './cli-harness.js';
import { TINY_MODEL_DIR } from './native-fixtures.js';

const TIMEOUT_MS = 180_000;
const dir = mkdtempSync(join(tmpdir(), 'finetune-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chat = (user: string, answer: string) =>
  JSON.stringify({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: user },
      { role: 'assistant', content: answer },
    ],
  });
const DATA = join(dir, 'train.jsonl');
writeFileSync(
  DATA,
  [chat('2+2?', '4'), chat('capital of France?', 'Paris'), chat('say hi', 'hi!'), chat('sky?', 'blue')].join('\n'),
);

const cli = (args: string[]) => runCli(SOURCE_CLI_ARGS, ['finetune', '--model', TINY_MODEL_DIR, ...args]);
const common = (out: string) => [
  '--data',
  DATA,
  '--output-dir',
  out,
  '--rank',
  '4',
  '--alpha',
  '8',
  '--lr',
  '1e-2',
  '--batch-size',
  '2',
  '--seed',
  '3',
];

interface Summary {
  steps: number;
  resumedFromStep?: number | null;
  initialEvalLoss?: number | null;
  finalEvalLoss?: number | null;
  firstTrainLoss: number;
  finalTrainLoss: number;
  tokens: number;
  bestEvalStep?: number | null;
  bestAdapterDir?: string | null;
  finalEvalExactMatch?: number | null;
  bestBy?: string;
}

function curve(out: string): string[][] {
  return readFileSync(join(out, 'loss_curve.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(','));
}

describe('opt-native finetune', () => {
  it(
    'writes the adapter, loss curve and summary, and the eval loss falls',
    async () => {
      const out = join(dir, 'learn');
      const args = [...common(out), '--eval-data', DATA, '--epochs', '10', '--eval-every', '4', '--json'];
      const run = await cli(args);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as Summary;
      expect(summary.steps).toBe(20);
      expect(summary.finalEvalLoss!).toBeLessThan(0.6 * summary.initialEvalLoss!);
      expect(summary.finalTrainLoss).toBeLessThan(summary.firstTrainLoss);
      expect(JSON.parse(readFileSync(join(out, 'train_summary.json'), 'utf8'))).toMatchObject({ steps: 20 });
      const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      expect(config).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, base_model_name_or_path: TINY_MODEL_DIR });
      expect(existsSync(join(out, 'adapter_model.safetensors'))).toBe(true);
      // The adapter of the best eval step (exact match, then loss) is kept beside the final one, with its step.
      expect(summary.bestAdapterDir).toBe(join(out, 'best'));
      const marker = JSON.parse(readFileSync(join(out, 'best', 'best_eval.json'), 'utf8')) as { step: number };
      expect(marker.step).toBe(summary.bestEvalStep);
      expect(existsSync(join(out, 'best', 'adapter_model.safetensors'))).toBe(true);
      expect(readFileSync(join(out, 'loss_curve.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
      const rows = curve(out);
      expect(rows[0]).toEqual(['step', 'train_loss', 'eval_loss', 'eval_exact_match', 'lr', 'tokens']);
      expect(rows.map((r) => r[0])).toEqual(['step', ...Array.from({ length: 21 }, (_, i) => String(i))]);
      expect(Number(rows.at(-1)![5])).toBe(summary.tokens);
      // The exact match is the share of the 4 eval chats reproduced greedily, on the eval rows only.
      const exact = rows.slice(1).filter((r) => r[2] !== '');
      expect(exact.map((r) => r[0])).toEqual(['0', '4', '8', '12', '16', '20']);
      for (const r of exact) expect([0, 0.25, 0.5, 0.75, 1]).toContain(Number(r[3]));
      expect(summary.finalEvalExactMatch).toBe(Number(exact.at(-1)![3]));
      expect(summary.bestBy).toBe('exact-match');
      // Progress lines on a pipe: one per eval / checkpoint, the last step among them.
      expect(run.stderr).toMatch(
        /finetune step 20\/20 · loss \d+\.\d{4} · eval \d+\.\d{4} · exact \d\.\d{3} · \d+ tok\/s · ETA 0:00:00/,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'kill -9 mid-run, then --resume finishes the same steps with the uninterrupted adapter',
    async () => {
      const args = (out: string) => [...common(out), '--epochs', '100', '--checkpoint-every', '10', '--dropout', '0.1'];
      const whole = join(dir, 'whole');
      const reference = await cli([...args(whole), '--json']);
      expect(reference.code, reference.stderr).toBe(0);
      expect((JSON.parse(reference.stdout) as Summary).steps).toBe(200);

      const split = join(dir, 'split');
      const child = spawn(
        process.execPath,
        [...SOURCE_CLI_ARGS, 'finetune', '--model', TINY_MODEL_DIR, ...args(split)],
        { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let killedAfter = 0;
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      child.stderr.on('data', (chunk: Buffer) => {
        const match = /step (\d+)\/200 .*checkpoint/.exec(chunk.toString());
        if (match && killedAfter === 0 && Number(match[1]) >= 20) {
          killedAfter = Number(match[1]);
          child.kill('SIGKILL');
        }
      });
      expect(await exited).toBe('SIGKILL');
      expect(killedAfter).toBeGreaterThanOrEqual(20);
      expect(existsSync(join(split, 'train_summary.json'))).toBe(false);

      const resumed = await cli([...args(split), '--resume', '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      const summary = JSON.parse(resumed.stdout) as Summary;
      expect(summary.steps).toBe(200);
      expect(summary.resumedFromStep).toBeGreaterThanOrEqual(killedAfter);
      expect(summary.resumedFromStep).toBeLessThan(200);
      expect(curve(split)).toEqual(curve(whole));
      expect(readFileSync(join(split, 'adapter_model.safetensors'))).toEqual(
        readFileSync(join(whole, 'adapter_model.safetensors')),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'a data line without an assistant turn is error[E_BAD_INPUT] naming the line; rank 0 and unknown targets too',
    async () => {
      const bad = join(dir, 'bad.jsonl');
      writeFileSync(bad, `${chat('a', 'b')}\n${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] })}\n`);
      const run = await cli(['--data', bad, '--output-dir', join(dir, 'bad')]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/error\[E_BAD_INPUT\]: .*bad\.jsonl: dataset line 2: no assistant turn/);
      const rank = await cli([...common(join(dir, 'rank')), '--rank', '0']);
      expect(rank.code).toBe(1);
      expect(rank.stderr).toContain('error[E_BAD_INPUT]: bad input: LoRA rank r must be at least 1');
      const target = await cli([...common(join(dir, 'target')), '--targets', 'q,attn']);
      expect(target.stderr).toContain("error[E_BAD_INPUT]: bad input: unknown LoRA target 'attn'");
    },
    TIMEOUT_MS,
  );
});

describe('finetune() (Node API)', () => {
  it(
    'an AbortSignal stops the run with E_ABORTED and keeps a checkpoint that resume finishes',
    async () => {
      const out = join(dir, 'api');
      const options = {
        model: TINY_MODEL_DIR,
        data: DATA,
        outputDir: out,
        rank: 4,
        lr: 1e-2,
        batchSize: 2,
        epochs: 100,
        checkpointEvery: 0,
      };
      const controller = new AbortController();
      const seen: FinetuneProgress[] = [];
      const onProgress = (p: FinetuneProgress) => {
        seen.push(p);
        if (p.step === 5) controller.abort();
      };
      const error = await finetune(options, { onProgress, signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OptNativeError);
      expect((error as OptNativeError).code).toBe('E_ABORTED');
      const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer_state.json'), 'utf8')) as {
        step: number;
      };
      expect(state.step).toBeGreaterThanOrEqual(5);
      expect(state.step).toBeLessThan(200);
      expect(seen[0]).toMatchObject({ step: 1, totalSteps: 200, epoch: 1, checkpointed: false });

      const summary = await finetune({ ...options, resume: true });
      expect(summary).toMatchObject({ steps: 200, resumedFromStep: state.step });
    },
    TIMEOUT_MS,
  );
});
