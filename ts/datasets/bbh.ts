import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OptNativeError } from '../errors.js';
import { isRecord, readDatasetFile } from './read.js';
import { resolveDatasetsRoot } from './root.js';
import { partitionExamples } from './split.js';
import type { DatasetLoadOptions, DatasetSplits, Example } from './types.js';

/** The BBH task files present under <root>/bbh (names without .json). */
export async function listBbhTasks(datasetsRoot?: string): Promise<string[]> {
  const entries = await readdir(join(resolveDatasetsRoot(datasetsRoot), 'bbh'));
  return entries
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

function parseBbhFile(text: string, path: string, task: string): Example[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OptNativeError('E_BAD_INPUT', `${path} is not valid JSON`, { cause: error });
  }
  const examples = isRecord(parsed) ? parsed.examples : undefined;
  if (!Array.isArray(examples)) throw new OptNativeError('E_BAD_INPUT', `${path} has no "examples" array`);
  return examples.map((example, index) => {
    if (!isRecord(example) || typeof example.input !== 'string' || typeof example.target !== 'string') {
      throw new OptNativeError('E_BAD_INPUT', `${path} example ${index} lacks string "input" and "target"`);
    }
    return { id: `bbh-${task}-${index}`, input: example.input, target: example.target };
  });
}

const OPTION_LETTER = /^\([A-R]\)$/;

/**
 * Drops the rare malformed example of a multiple-choice task: movie_recommendation has one whose target is the text
 * "Monsters, Inc" split across two options, which no letter answers. A task is multiple choice when nearly all of
 * its targets are option letters.
 */
export function withoutMalformedChoices(examples: readonly Example[]): Example[] {
  const letters = examples.filter((example) => OPTION_LETTER.test(example.target.trim()));
  const nearlyAll = letters.length >= examples.length * 0.95;
  return nearlyAll ? letters : examples.slice();
}

/** BIG-Bench Hard: one file a task, cut into train / validation / test by a seeded shuffle. */
export async function loadBbh(task: string, options: DatasetLoadOptions): Promise<DatasetSplits> {
  if (!/^[a-z0-9_]+$/.test(task)) {
    throw new OptNativeError('E_BAD_INPUT', `BBH task names look like "navigate" or "word_sorting", got "${task}"`);
  }
  const path = join(resolveDatasetsRoot(options.datasetsRoot), 'bbh', `${task}.json`);
  let text: string;
  try {
    text = await readDatasetFile(path);
  } catch (error) {
    if (error instanceof OptNativeError && error.code === 'E_FILE_NOT_FOUND') {
      const known = await listBbhTasks(options.datasetsRoot).catch(() => []);
      const hint = known.length > 0 ? `; known tasks: ${known.join(', ')}` : '';
      throw new OptNativeError('E_FILE_NOT_FOUND', `${error.message}${hint}`, { cause: error });
    }
    throw error;
  }
  const examples = withoutMalformedChoices(parseBbhFile(text, path, task));
  const splits = partitionExamples(`bbh:${task}`, examples, options);
  return { name: `bbh:${task}`, defaultMetric: 'exact_match', ...splits };
}
