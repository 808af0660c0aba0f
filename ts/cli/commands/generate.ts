// `opt-native generate`: one completion from a local model, streamed to stdout.
import type { Command } from 'commander';
import { localModelSpec } from '../../llm/model-string.js';
import { loadNativeLanguageModel, type NativeLanguageModel } from '../../llm/native-provider.js';
import type { ChatMessage, GenerateRequest, GenerateResult } from '../../llm/types.js';
import { createProgressBar } from '../../models/progress.js';
import { integerFlag, numberFlag, seedFlag } from '../../numbers.js';
import { deviceOption } from '../task-options.js';

interface GenerateCommandOptions {
  model: string;
  tokenizer?: string;
  prompt: string;
  system?: string;
  maxTokens: number;
  temperature: number;
  seed?: number;
  device: 'cpu' | 'cuda';
  json?: boolean;
}

function buildRequest(options: GenerateCommandOptions, signal: AbortSignal): GenerateRequest {
  const messages: ChatMessage[] = [];
  if (options.system !== undefined) messages.push({ role: 'system', content: options.system });
  messages.push({ role: 'user', content: options.prompt });
  return {
    messages,
    maxTokens: options.maxTokens,
    temperature: options.temperature,
    seed: options.seed,
    signal,
  };
}

function usageLine(result: GenerateResult, seconds: number): string {
  const { promptTokens, completionTokens } = result.usage;
  const rate = seconds > 0 ? (completionTokens / seconds).toFixed(1) : '?';
  return (
    `[usage] prompt ${promptTokens} tokens, completion ${completionTokens} tokens, ` +
    `finish ${result.finishReason}, ${seconds.toFixed(2)} s (${rate} tok/s)`
  );
}

async function runGenerate(options: GenerateCommandOptions): Promise<void> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  const bar = createProgressBar(`pull ${options.model}`);
  let model: NativeLanguageModel | undefined;
  try {
    model = await loadNativeLanguageModel(localModelSpec(options.model), {
      tokenizerPath: options.tokenizer,
      device: options.device,
      onProgress: bar.update,
      signal: controller.signal,
    });
    bar.stop();
    const request = buildRequest(options, controller.signal);
    const started = performance.now();
    if (options.json) {
      const result = await model.generate(request);
      const seconds = (performance.now() - started) / 1000;
      console.log(JSON.stringify({ ...result, seconds }, null, 2));
      return;
    }
    const stream = model.stream(request);
    for await (const chunk of stream) process.stdout.write(chunk.delta);
    const result = await stream.result;
    process.stdout.write('\n');
    console.error(usageLine(result, (performance.now() - started) / 1000));
  } finally {
    bar.stop();
    process.off('SIGINT', onInterrupt);
    await model?.dispose();
  }
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Generate a completion with a local Qwen model (native addon), streamed to stdout')
    .requiredOption(
      '--model <path|id>',
      'a .gguf file, an HF folder, a cached or downloadable Org/Name, or default (native: in front is optional; ?adapter=DIR adds a PEFT LoRA adapter)',
    )
    .option('--tokenizer <path>', 'tokenizer.json (default: next to the weights, else the bundled Qwen2.5 one)')
    .requiredOption('--prompt <text>', 'the user message')
    .option('--system <text>', 'a system message')
    .option('--max-tokens <n>', 'maximum new tokens (1 to 2^32-1)', integerFlag('--max-tokens', { min: 1 }), 256)
    .option('--temperature <t>', '0 = greedy (0 to 2)', numberFlag('--temperature', { min: 0, max: 2 }), 0)
    .option('--seed <s>', 'sampling seed (0 to 2^53-1)', seedFlag('--seed'))
    .addOption(deviceOption())
    .option('--json', 'print the result as JSON instead of streaming')
    .action(runGenerate);
}
