// `opt-native classify-audio`: label audio files with the native Qwen2-Audio model under a text prompt.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { NativeAudioModel, type AudioClassifyMode, type AudioClipResult } from '../../native/audio-model.js';
import { deviceOption, integerOption } from '../task-options.js';

interface ClassifyAudioValues {
  model: string;
  lora?: string;
  prompt: string;
  labels: string[];
  mode: AudioClassifyMode;
  maxNewTokens: number;
  device: 'cpu' | 'cuda';
  batchSize: number;
  json?: boolean;
}

function labelList(value: string): string[] {
  const labels = value
    .split(',')
    .map((label) => label.trim())
    .filter((label) => label.length > 0);
  if (labels.length === 0) throw new InvalidArgumentError('expected comma-separated labels, e.g. SPEECH,NON-SPEECH');
  return labels;
}

function textLine(file: string, result: AudioClipResult): string {
  const probabilities = result.probabilities
    ? ` ${Object.entries(result.probabilities)
        .map(([label, p]) => `${label}=${p.toFixed(4)}`)
        .join(' ')}`
    : ` ${JSON.stringify(result.raw)}`;
  return `${file}\t${result.label ?? 'UNKNOWN'}${probabilities}`;
}

async function runClassifyAudio(files: string[], values: ClassifyAudioValues): Promise<void> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  const model = await NativeAudioModel.load(values.model, {
    lora: values.lora,
    device: values.device,
    signal: controller.signal,
  });
  try {
    const results: AudioClipResult[] = [];
    for (let start = 0; start < files.length; start += values.batchSize) {
      const batch = files.slice(start, start + values.batchSize);
      const answers = await model.classifyClips(batch, values.prompt, {
        labels: values.labels,
        mode: values.mode,
        maxNewTokens: values.maxNewTokens,
        signal: controller.signal,
      });
      results.push(...answers);
      answers.forEach((answer, index) => {
        if (answer.truncated) {
          console.error(`warning: ${batch[index]} is longer than 30 s: only its first 30 s were classified`);
        }
      });
      if (!values.json) answers.forEach((answer, index) => console.log(textLine(batch[index] as string, answer)));
    }
    if (values.json) {
      const clips = results.map((result, index) => ({ file: files[index], ...result }));
      console.log(JSON.stringify({ model: values.model, mode: values.mode, labels: values.labels, clips }, null, 2));
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    await model.dispose();
  }
}

export function registerClassifyAudio(program: Command): void {
  program
    .command('classify-audio')
    .description('Label audio files (WAV/FLAC/MP3/OGG) with a local Qwen2-Audio model (native addon)')
    .argument('<files...>', 'audio files')
    .requiredOption('--model <path>', 'Qwen2-Audio HF folder (config.json, safetensors, tokenizer.json)')
    .option('--lora <path>', 'PEFT LoRA adapter folder, merged at load')
    .requiredOption('--prompt <text>', 'the question asked about each clip')
    .requiredOption('--labels <list>', 'comma-separated labels, e.g. SPEECH,NON-SPEECH', labelList)
    .addOption(
      new Option('--mode <mode>', 'score: label log-probabilities; generate: greedy answer normalized to a label')
        .choices(['score', 'generate'])
        .default('score'),
    )
    .option(
      '--max-new-tokens <n>',
      'tokens generated per clip in generate mode',
      integerOption('--max-new-tokens', { min: 1 }),
      8,
    )
    .addOption(deviceOption())
    .option('--batch-size <n>', 'clips per native call', integerOption('--batch-size', { min: 1 }), 16)
    .option('--json', 'print every clip as JSON (label, raw text, probabilities, usage)')
    .action((files: string[], values: ClassifyAudioValues) => runClassifyAudio(files, values));
}
