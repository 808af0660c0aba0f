// `opt-native finetune`: LoRA fine-tuning of a local Qwen2 model on chat JSONL, in the native core (docs/finetune.md).
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { localModelSpec } from '../../llm/model-string.js';
import { baseModelNameOf } from '../../models/default-model.js';
import { createProgressBar } from '../../models/progress.js';
import { resolveModel } from '../../models/resolve.js';
import { finetune, type FinetuneProgress, type FinetuneSummary } from '../../native/finetune.js';
import { integerFlag, numberFlag, seedFlag } from '../../numbers.js';
import { checkOutputFolder } from '../../run/output-folder.js';
import { deviceOption } from '../task-options.js';

interface FinetuneCommandOptions {
  model: string;
  tokenizer?: string;
  data: string;
  outputDir: string;
  evalData?: string;
  epochs?: number;
  lr?: number;
  weightDecay?: number;
  rank?: number;
  alpha?: number;
  dropout?: number;
  rslora?: boolean;
  targets?: string;
  batchSize?: number;
  gradAccum?: number;
  maxSeqLen?: number;
  warmupSteps?: number;
  clip?: number;
  maxSteps?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  bestBy?: 'loss' | 'exact-match';
  seed?: number;
  resume?: boolean;
  force?: boolean;
  device: 'cpu' | 'cuda';
  json?: boolean;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/**
 * `step 12/40 · loss 2.3456 · eval 2.1000 · exact 0.750 · 812 tok/s · ETA 0:00:42`, plus `· checkpoint` when one
 * was written.
 */
export function progressLine(p: FinetuneProgress): string {
  const parts = [
    `step ${p.step}/${p.totalSteps}`,
    `loss ${p.trainLoss.toFixed(4)}`,
    ...(p.evalLoss === undefined || p.evalLoss === null ? [] : [`eval ${p.evalLoss.toFixed(4)}`]),
    ...(p.evalExactMatch === undefined || p.evalExactMatch === null ? [] : [`exact ${p.evalExactMatch.toFixed(3)}`]),
    `${p.tokensPerSecond.toFixed(0)} tok/s`,
    `ETA ${duration(p.etaSeconds)}`,
    ...(p.checkpointed ? ['checkpoint'] : []),
  ];
  return `finetune ${parts.join(' · ')}`;
}

/** One line rewritten in place on a terminal; in logs and pipes a line per eval, checkpoint and the last step. */
function progressWriter(): { onProgress: (p: FinetuneProgress) => void; stop(): void } {
  const tty = process.stderr.isTTY;
  let drawn = false;
  return {
    onProgress: (p) => {
      const line = progressLine(p);
      if (tty) {
        process.stderr.write(`\r${line}\u001b[K`);
        drawn = true;
      } else if (p.checkpointed || p.evalLoss != null || p.step === p.totalSteps) {
        process.stderr.write(`${line}\n`);
      }
    },
    stop: () => {
      if (drawn) process.stderr.write('\n');
      drawn = false;
    },
  };
}

function summaryLines(s: FinetuneSummary): string[] {
  const number = (digits: number) => (v: number | null | undefined) =>
    v === undefined || v === null ? '-' : v.toFixed(digits);
  const [loss, share] = [number(4), number(3)];
  const chosenBy = s.bestBy === 'exact-match' ? 'highest eval exact match' : 'lowest eval loss';
  return [
    `adapter: ${s.outputDir} (adapter_config.json, adapter_model.safetensors, loss_curve.csv/.svg, train_summary.json)`,
    `steps ${s.steps} · train loss ${loss(s.firstTrainLoss)} -> ${loss(s.finalTrainLoss)}` +
      (s.evalExamples === 0
        ? ''
        : ` · eval loss ${loss(s.initialEvalLoss)} -> ${loss(s.finalEvalLoss)} · ` +
          `eval exact match ${share(s.initialEvalExactMatch)} -> ${share(s.finalEvalExactMatch)}`),
    ...(s.bestAdapterDir
      ? [
          `best adapter (step ${s.bestEvalStep}, ${chosenBy}: loss ${loss(s.bestEvalLoss)}, ` +
            `exact match ${share(s.bestEvalExactMatch)}): ${s.bestAdapterDir}`,
        ]
      : []),
    `${s.tokens} tokens · ${s.tokensPerSecond.toFixed(0)} tok/s · ${s.wallSeconds.toFixed(1)} s`,
  ];
}

/** What a finetune run writes into --output-dir (and the `.partial` / `.old` names of its atomic writes). */
const FINETUNE_FILES = [
  'adapter_config.json',
  'adapter_model.safetensors',
  'loss_curve.csv',
  'loss_curve.svg',
  'train_summary.json',
  'checkpoint',
  'best',
];

function isFinetuneFile(name: string): boolean {
  if (FINETUNE_FILES.includes(name)) return true;
  // `loss_curve.partial` (a file's extension replaced), `checkpoint.partial`, `best.old`: left by a kill.
  const stem = /^(.+)\.(?:partial|old)$/.exec(name)?.[1];
  return stem !== undefined && FINETUNE_FILES.some((file) => file === stem || file.replace(/\.[a-z]+$/, '') === stem);
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Not there, not a folder, or not ours to remove: leave it.
  }
}

async function runFinetune(options: FinetuneCommandOptions): Promise<void> {
  // A folder of the user's own files is refused before anything is resolved or written (a resume finds its own).
  if (!options.resume) {
    checkOutputFolder(options.outputDir, { command: 'finetune', ownsFile: isFinetuneFile, force: options.force });
  }
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  const folderExisted = existsSync(options.outputDir);
  const bar = createProgressBar(`pull ${options.model}`);
  const progress = progressWriter();
  try {
    const spec = localModelSpec(options.model);
    const resolved = await resolveModel(spec, { onProgress: bar.update, signal: controller.signal });
    bar.stop();
    const summary = await finetune(
      {
        model: resolved.path,
        tokenizerPath: options.tokenizer ?? resolved.tokenizerPath,
        baseModelName: baseModelNameOf(spec),
        data: options.data,
        evalData: options.evalData,
        outputDir: options.outputDir,
        epochs: options.epochs,
        lr: options.lr,
        weightDecay: options.weightDecay,
        rank: options.rank,
        alpha: options.alpha,
        dropout: options.dropout,
        rslora: options.rslora,
        targets: options.targets?.split(','),
        batchSize: options.batchSize,
        gradAccum: options.gradAccum,
        maxSeqLen: options.maxSeqLen,
        warmupSteps: options.warmupSteps,
        clip: options.clip,
        maxSteps: options.maxSteps,
        evalEvery: options.evalEvery,
        checkpointEvery: options.checkpointEvery,
        bestBy: options.bestBy,
        seed: options.seed,
        resume: options.resume,
        device: options.device,
      },
      { onProgress: progress.onProgress, signal: controller.signal },
    );
    progress.stop();
    if (options.json) console.log(JSON.stringify(summary, null, 2));
    else for (const line of summaryLines(summary)) console.log(line);
  } catch (error) {
    // A run that fails before writing anything takes its empty folder back.
    if (!folderExisted) removeIfEmpty(options.outputDir);
    throw error;
  } finally {
    bar.stop();
    progress.stop();
    process.off('SIGINT', onInterrupt);
  }
}

export function registerFinetune(program: Command): void {
  const int = (flag: string) => integerFlag(flag);
  program
    .command('finetune')
    .description('LoRA fine-tuning of a local Qwen2 model on chat JSONL (native core); writes a PEFT adapter')
    .requiredOption('--model <path|id>', 'a .gguf file, an HF folder, a cached or downloadable Org/Name, or default')
    .option('--tokenizer <path>', 'tokenizer.json (default: next to the weights, else the bundled Qwen2.5 one)')
    .requiredOption('--data <file.jsonl>', 'training chats: {"messages": [{role, content}, ...]} a line')
    .requiredOption('--output-dir <dir>', 'where the adapter, checkpoint, loss curve and summary go')
    .option('--eval-data <file.jsonl>', 'held-out chats for the eval loss (default: none)')
    .option('--epochs <n>', 'passes over the data (default 1)', int('--epochs'))
    .option('--lr <x>', 'peak learning rate (default 2e-4)', numberFlag('--lr'))
    .option('--weight-decay <x>', 'AdamW weight decay (default 0)', numberFlag('--weight-decay'))
    .option('--rank <r>', 'LoRA rank (default 8)', int('--rank'))
    .option('--alpha <a>', 'LoRA alpha (default 16)', numberFlag('--alpha'))
    .option('--dropout <p>', 'LoRA dropout in [0, 1) (default 0)', numberFlag('--dropout'))
    .option('--rslora', 'scale by alpha/sqrt(r) instead of alpha/r')
    .option('--targets <list>', 'comma-separated: q,k,v,o,gate,up,down or all (default all)')
    .option('--batch-size <n>', 'examples per micro-batch (default 4)', int('--batch-size'))
    .option('--grad-accum <n>', 'micro-batches per optimizer step (default 1)', int('--grad-accum'))
    .option('--max-seq-len <n>', 'tokens kept of each example (default 1024)', int('--max-seq-len'))
    .option('--warmup-steps <n>', 'linear warm-up steps (default 0)', int('--warmup-steps'))
    .option('--clip <x>', 'global gradient-norm clip, 0 = off (default 1)', numberFlag('--clip'))
    .option('--max-steps <n>', 'stop after this many optimizer steps', int('--max-steps'))
    .option(
      '--eval-every <n>',
      'eval loss every n steps, 0 = only at the start and end (default 50)',
      int('--eval-every'),
    )
    .option(
      '--checkpoint-every <n>',
      'checkpoint every n steps, 0 = only at the end (default 50)',
      int('--checkpoint-every'),
    )
    .addOption(
      new Option('--best-by <metric>', 'which evaluated step best/ keeps (default exact-match)').choices([
        'loss',
        'exact-match',
      ]),
    )
    .option('--seed <s>', 'seeds the adapter init, shuffle and dropout (default 0)', seedFlag('--seed'))
    .option('--resume', 'continue from the checkpoint in --output-dir')
    .option(
      '--force',
      'write into a non-empty --output-dir that holds no finetune run (files of the same name are replaced)',
    )
    .addOption(deviceOption())
    .option('--json', 'print the summary as JSON')
    .action(runFinetune);
}
