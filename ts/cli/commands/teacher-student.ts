// `opt-native teacher-student`: MIPROv2 with a teacher model on Minigrid agent data, the program run by a student,
// graded by the AI-feedback metric; one experiment from flags, or a batch from --config (flags override the file).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { OptNativeError } from '../../errors.js';
import { LanguageModelResolver, checkModelString } from '../../llm/resolver.js';
import { EVENT_LOG_FILE } from '../../run/run-directory.js';
import { seedFlag } from '../../numbers.js';
import {
  HINT_TYPES,
  experimentsFromFile,
  parseSettings,
  runTeacherStudent,
  type TeacherStudentSettings,
} from '../../optimizers/teacher-student/index.js';
import { ENCODINGS } from '../../minigrid/encodings.js';
import { integerOption } from '../task-options.js';
import { checkLoraStudent, trainLoraStudent } from './distill-student.js';

/** Settings named by the flags the user gave (commander leaves the others undefined: defaults live in the schema). */
function givenFlags(command: Command): Record<string, unknown> {
  const values = command.opts() as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(values).filter(
      ([key, value]) =>
        key !== 'config' && key !== 'force' && value !== undefined && command.getOptionValueSource(key) === 'cli',
    ),
  );
}

function experiments(command: Command): TeacherStudentSettings[] {
  const flags = givenFlags(command);
  const config = command.opts().config as string | undefined;
  if (config === undefined) return [parseSettings(flags, 'teacher-student')];
  let text: string;
  try {
    text = readFileSync(config, 'utf8');
  } catch (error) {
    throw new OptNativeError('E_FILE_NOT_FOUND', `cannot read --config ${config}: ${(error as Error).message}`);
  }
  return experimentsFromFile(text, config, flags);
}

/** The files an experiment writes beside its run folder `{name}.run/`. */
const outputFiles = (name: string) => [
  `${name}.json`,
  `${name}_info.json`,
  `${name}_distill.jsonl`,
  `${name}_student_lora`,
];

/**
 * Checks every experiment of the batch before the first one writes anything: model strings, one run folder per
 * experiment, and no file of the user's own (one without this experiment's run folder beside it) replaced unless forced.
 */
function checkExperiments(batch: readonly TeacherStudentSettings[], force: boolean | undefined): void {
  const seen = new Set<string>();
  for (const settings of batch) {
    for (const model of [settings.teacherModel, settings.studentModel]) checkModelString(model);
    if (settings.assessorModel !== 'planner') checkModelString(settings.assessorModel);
    if (settings.distill === 'lora') checkLoraStudent(settings.studentModel);
    const runFolder = resolve(settings.outputDir, `${settings.name}.run`);
    if (seen.has(runFolder)) {
      throw new OptNativeError(
        'E_BAD_INPUT',
        `two experiments would share ${runFolder}: give each its own name or output_dir`,
      );
    }
    seen.add(runFolder);
    if (force || existsSync(join(runFolder, EVENT_LOG_FILE))) continue;
    const foreign = outputFiles(settings.name).filter((file) => existsSync(join(settings.outputDir, file)));
    if (foreign.length > 0) {
      throw new OptNativeError(
        'E_BAD_INPUT',
        `${settings.outputDir} already holds ${foreign.join(', ')} but no ${settings.name}.run: ` +
          'choose another --output-dir or --name, or pass --force to replace them',
      );
    }
  }
}

async function runCommand(this: Command): Promise<void> {
  const batch = experiments(this);
  checkExperiments(batch, this.opts().force as boolean | undefined);
  const resolver = new LanguageModelResolver();
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    for (const settings of batch) {
      const outcome = await runTeacherStudent(settings, {
        resolveModel: (model) => resolver.resolve(model),
        trainStudent: trainLoraStudent,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.kind === 'iteration') process.stderr.write(`[mipro] ${progress.message}\n`);
        },
      });
      for (const line of outcome.printout) console.log(line);
      console.log(`wrote ${outcome.programPath} and ${outcome.infoPath}`);
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    await resolver.disposeAll();
  }
}

export function registerTeacherStudent(program: Command): void {
  const count = (flag: string, min = 0) => integerOption(flag, { min });
  program
    .command('teacher-student')
    .description(
      'Optimize a Minigrid agent program with MIPROv2 on a teacher model, run it on a student, grade with AI feedback',
    )
    .option('--config <file>', 'batch file (YAML or JSON): fine_tuning: {dataset_path, defaults, models: [...]}')
    .option('--dataset-path <dir>', 'folder of train/dev/test.jsonl from `opt-native data minigrid`')
    .option('--teacher-model <model>', 'model that runs MIPROv2 (task and prompt model)')
    .option('--student-model <model>', 'model that runs the optimized program')
    .option('--assessor-model <model>', 'judge of non-optimal actions: a model string, or planner (default)')
    .addOption(new Option('--hint-type <type>', 'hint given with each state (default action)').choices([...HINT_TYPES]))
    .addOption(new Option('--encoding-type <type>', 'observation encoding of the dataset').choices([...ENCODINGS]))
    .option(
      '--samples-per-category <k>',
      'at most k train/dev states per expert action',
      count('--samples-per-category', 1),
    )
    .option(
      '--max-bootstrapped-demos <n>',
      'teacher traces per demo set (default 1)',
      count('--max-bootstrapped-demos'),
    )
    .option('--max-labeled-demos <n>', 'labelled demos per demo set (default 4)', count('--max-labeled-demos'))
    .option('--minibatch-size <n>', 'states per minibatch trial (default 35)', count('--minibatch-size', 1))
    .addOption(new Option('--auto <preset>', 'MIPROv2 preset (default light)').choices(['light', 'medium', 'heavy']))
    .option('--output-dir <dir>', 'where {name}.json, {name}_info.json and the run folder go')
    .option('--name <name>', 'experiment name (default program)')
    .option('--dev-size <n>', 'dev states candidates are scored on (default all)', count('--dev-size', 1))
    .option(
      '--proposer-max-tokens <n>',
      'completion budget of the proposer (default 400)',
      count('--proposer-max-tokens', 16),
    )
    .option('--eval-size <n>', 'held-out states scored (default 100)', count('--eval-size', 1))
    .option('--episodes <n>', 'closed-loop episodes on held-out seeds (default 10)', count('--episodes'))
    .option('--episode-max-steps <n>', 'step limit of an episode (default 30)', count('--episode-max-steps', 1))
    .option(
      '--max-regret <n>',
      'planner judge: reasonable when regret <= n and not fatal (default 1)',
      count('--max-regret'),
    )
    .addOption(
      new Option(
        '--distill <kind>',
        'export 1.0-scored student traces (jsonl, the default), also train a LoRA adapter of a native student on them ' +
          'and score it (lora), or neither (none)',
      ).choices(['jsonl', 'lora', 'none']),
    )
    .addOption(
      new Option(
        '--distill-from <source>',
        "whose 1.0-scored train traces are distilled (default student), or the planner's labels (planner)",
      ).choices(['student', 'teacher', 'planner']),
    )
    .option(
      '--distill-size <n>',
      'train states the planner labels for --distill-from planner (default 120)',
      count('--distill-size', 1),
    )
    .option('--distill-epochs <n>', 'epochs of the lora distillation (default 2)', count('--distill-epochs', 1))
    .option('--no-teacher-baseline', "skip the teacher's zero-shot score")
    .option('--max-tokens <n>', 'completion budget of the agent (default 96)', count('--max-tokens', 8))
    .option('--seed <n>', 'seed of sampling and search (default 0)', seedFlag('--seed'))
    .option('--force', 'replace files of the same names in --output-dir that no earlier run of this experiment wrote')
    .action(runCommand);
}
