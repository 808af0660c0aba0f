// Pairs two `opt-native evaluate --output-csv` files of the same task split (e.g. a base model and the same model
// with a fine-tuned adapter) by example id and prints both scores and the paired gain with its 95 % bootstrap
// interval, scored as the task scores (balanced accuracy for word labels, accuracy otherwise).
//   npx tsx scripts/paired-csv.ts --task bbh:boolean_expressions runs/ft2/base.csv runs/ft2/final.csv
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pairedBootstrap, splitScoreOf, type ScoredOutcomes } from '../ts/tasks/bootstrap.js';
import { loadTextTask } from '../ts/tasks/text-task.js';

/** RFC 4180 fields of one CSV text (quoted fields may hold commas, quotes and newlines). */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\n') {
      records.push([...record, field]);
      record = [];
      field = '';
    } else if (char !== '\r') field += char;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

/** id -> { target, correct } of one predictions file. */
function outcomesById(file: string): Map<string, { target: string; correct: boolean }> {
  const [header, ...rows] = csvRecords(readFileSync(file, 'utf8'));
  const column = (name: string) => {
    const index = header?.indexOf(name) ?? -1;
    if (index < 0) throw new Error(`${file}: no "${name}" column`);
    return index;
  };
  const [id, target, correct] = [column('id'), column('target'), column('correct')];
  return new Map(rows.map((row) => [row[id] ?? '', { target: row[target] ?? '', correct: row[correct] === '1' }]));
}

const { values, positionals } = parseArgs({
  options: { task: { type: 'string' }, resamples: { type: 'string', default: '2000' } },
  allowPositionals: true,
});
const [baselineFile, candidateFile] = positionals;
if (!values.task || !baselineFile || !candidateFile) {
  throw new Error('usage: paired-csv.ts --task TASK BASELINE.csv CANDIDATE.csv');
}
const baseline = outcomesById(baselineFile);
const candidate = outcomesById(candidateFile);
const ids = [...baseline.keys()].filter((id) => candidate.has(id));
if (ids.length !== baseline.size || ids.length !== candidate.size) {
  throw new Error(`the files share ${ids.length} ids of ${baseline.size} and ${candidate.size}: not the same split`);
}
const outcomes = (byId: typeof baseline): ScoredOutcomes => ({
  targets: ids.map((id) => byId.get(id)?.target ?? ''),
  correct: ids.map((id) => byId.get(id)?.correct ?? false),
});
const task = await loadTextTask(values.task, { sizes: { train: 1, validation: 1, test: 1 } });
const paired = pairedBootstrap(outcomes(baseline), outcomes(candidate), splitScoreOf(task), {
  resamples: Number(values.resamples),
});
const signed = (v: number) => (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(3);
console.log(`${ids.length} paired examples, ${paired.resamples} resamples`);
console.log(
  `baseline  ${paired.baseline.toFixed(3)} [${paired.baselineInterval.low.toFixed(3)}, ${paired.baselineInterval.high.toFixed(3)}]`,
);
console.log(
  `candidate ${paired.candidate.toFixed(3)} [${paired.candidateInterval.low.toFixed(3)}, ${paired.candidateInterval.high.toFixed(3)}]`,
);
console.log(
  `gain      ${signed(paired.gain)} [${signed(paired.gainInterval.low)}, ${signed(paired.gainInterval.high)}]`,
);
