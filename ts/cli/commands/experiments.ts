import { join } from 'node:path';
import type { Command } from 'commander';
import { runExperiments } from '../../optimizers/balanced/experiments.js';
import { parseWeightPair } from '../../optimizers/balanced/focus.js';
import { buildReportData, configLabel } from '../../report/data.js';
import { formatSummaryTable } from '../../report/text-table.js';
import {
  addSharedBalancedOptions,
  describeRun,
  reportFailedRun,
  progressPrinter,
  runBalancedJob,
  type PreparedBalancedRun,
  type SharedBalancedCliOptions,
} from './balanced.js';

interface ExperimentsCliOptions extends SharedBalancedCliOptions {
  configs: string[];
  sequential?: boolean;
}

/** `opt-native experiments`: one balanced optimization per weight pair, all results in one folder. */
export function registerExperiments(program: Command): void {
  const command = program
    .command('experiments')
    .description('run the balanced optimizer once per accuracy,efficiency weight pair into one results folder');
  addSharedBalancedOptions(command)
    .requiredOption('--configs <pairs...>', 'weight pairs "accuracy,efficiency", e.g. 0.3,0.7 0.5,0.5 0.7,0.3')
    .option('--sequential', 'run the configurations one after another even where the provider allows concurrency')
    .action(async (options: ExperimentsCliOptions) => {
      const configs = options.configs.map(parseWeightPair);
      // Each configuration prints its own progress; the label tells interleaved lines apart.
      const run = async (prepared: PreparedBalancedRun) => {
        const concurrent = prepared.concurrentSafe && !options.sequential;
        const summary = await runExperiments({
          base: prepared.base,
          configs,
          outputDir: prepared.outputDir,
          concurrent,
          progressFor: (weights) => progressPrinter(configLabel(weights)),
          onRunDone: (result) => {
            process.stdout.write(`${describeRun(result)}\n`);
            reportFailedRun(result);
          },
        });
        process.stdout.write(`\n${formatSummaryTable(buildReportData(summary.results).rows)}\n\n`);
        process.stdout.write(
          `${summary.files.length} runs (${concurrent ? 'concurrent' : 'sequential'}) in ${summary.outputDir}\n` +
            `report: opt-native report --results ${summary.outputDir} --output ${join(summary.outputDir, 'report.html')}\n`,
        );
      };
      await runBalancedJob(options, join('runs', 'experiments'), configs, run);
    });
}
