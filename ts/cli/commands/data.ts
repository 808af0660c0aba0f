// `opt-native data`: datasets built from recordings on this machine, and a look at audio manifests.
import type { Command } from 'commander';
import { buildSpeechConditions, DEFAULT_CLIPS, DEFAULT_SEED } from '../../audio/build.js';
import { CONDITION_FAMILIES, type ConditionFamily } from '../../audio/conditions.js';
import { loadAudioManifestFile, MANIFEST_FILE, type AudioExample } from '../../datasets/audio-manifest.js';
import { OptNativeError } from '../../errors.js';
import { seedFlag } from '../../numbers.js';
import { checkOutputFolder } from '../../run/output-folder.js';
import { integerOption } from '../task-options.js';
import { registerMinigridData } from './data-minigrid.js';

interface SpeechConditionsOptionValues {
  out: string;
  seed: number;
  clips: number;
  sources?: string[];
  conditions?: string;
  concurrency: number;
  quiet?: boolean;
  force?: boolean;
}

function countBy(examples: readonly AudioExample[], key: (example: AudioExample) => string): string {
  const counts = new Map<string, number>();
  for (const example of examples) counts.set(key(example), (counts.get(key(example)) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([value, count]) => `${value} ${count}`)
    .join(', ');
}

function parseFamilies(list: string | undefined): ConditionFamily[] | undefined {
  if (list === undefined) return undefined;
  const families = list.split(',').map((family) => family.trim());
  const unknown = families.filter((family) => !CONDITION_FAMILIES.includes(family as ConditionFamily));
  if (unknown.length > 0 || families.length === 0) {
    throw new OptNativeError(
      'E_BAD_INPUT',
      `--conditions takes a comma-separated list of ${CONDITION_FAMILIES.join(', ')}; got "${list}"`,
    );
  }
  return families as ConditionFamily[];
}

async function runSpeechConditions(values: SpeechConditionsOptionValues): Promise<void> {
  const families = parseFamilies(values.conditions);
  checkOutputFolder(values.out, {
    command: 'data speech-conditions',
    ownsFile: (name) => name === 'audio' || name === MANIFEST_FILE,
    force: values.force,
  });
  let done = 0;
  const summary = await buildSpeechConditions({
    outDir: values.out,
    seed: values.seed,
    clips: values.clips,
    sourceDirs: values.sources,
    families,
    concurrency: values.concurrency,
    onClip: () => {
      done += 1;
      if (!values.quiet && process.stderr.isTTY) process.stderr.write(`\r${done}/${values.clips} clips`);
    },
  });
  if (!values.quiet && process.stderr.isTTY) process.stderr.write('\n');
  for (const split of ['dev', 'test'] as const) {
    const clips = summary.clips[split];
    console.log(
      `${split}: ${clips.SPEECH + clips['NON-SPEECH']} clips (SPEECH ${clips.SPEECH}, NON-SPEECH ${clips['NON-SPEECH']}) ` +
        `from ${summary.sourceRecordings[split]} source recordings`,
    );
  }
  console.log(`manifest: ${summary.manifestPath}`);
}

async function runManifestSummary(path: string): Promise<void> {
  const dataset = await loadAudioManifestFile(path);
  console.log(`${dataset.manifestPath}: labels ${dataset.labels.join(', ')}`);
  for (const split of ['train', 'validation', 'test'] as const) {
    const examples = dataset[split];
    if (examples.length === 0) continue;
    console.log(`${split}: ${examples.length} clips (${countBy(examples, (example) => example.target)})`);
  }
  const all = [...dataset.train, ...dataset.validation, ...dataset.test];
  for (const column of dataset.conditionColumns) {
    console.log(`  ${column}: ${countBy(all, (example) => example.conditions[column] ?? '')}`);
  }
}

export function registerData(program: Command): void {
  const data = program
    .command('data')
    .description(
      'build audio datasets from installed recordings and planner-labelled Minigrid data; inspect manifests',
    );
  data
    .command('speech-conditions')
    .description('speech / non-speech clips under SNR, duration, band-limiting, reverb and level conditions')
    .requiredOption('--out <dir>', 'output folder (audio/*.wav and conditions_manifest_split.parquet)')
    .option('--seed <n>', 'seed of every choice (same seed, same bytes)', seedFlag('--seed'), DEFAULT_SEED)
    .option('--clips <n>', 'number of clips (half dev, half test)', integerOption('--clips'), DEFAULT_CLIPS)
    .option('--sources <dir...>', 'folders of recordings (default: the Debian/npm install paths)')
    .option('--conditions <list>', `condition families to vary (default: all of ${CONDITION_FAMILIES.join(',')})`)
    .option('--concurrency <n>', 'parallel sox pipelines', integerOption('--concurrency'), 2)
    .option('--quiet', 'no progress on stderr')
    .option('--force', 'write into a folder that holds other files')
    .action(runSpeechConditions);
  data
    .command('manifest <file>')
    .description('check an audio manifest (Parquet/CSV/TSV/JSONL) and print its splits, labels and conditions')
    .action(runManifestSummary);
  registerMinigridData(data);
}
