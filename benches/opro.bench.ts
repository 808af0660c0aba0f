// OPRO's orchestration overhead: a 3-iteration run (1 baseline + 9 candidates, each scored on the 75 validation
// examples of bbh:navigate) on a zero-latency scripted model, against a plain-TS loop that scores the same 10 prompts
// directly. The difference is what OPRO adds per run (meta-prompts, sanitization, memory, output files), and with a
// RunDirectory the cost of the fsync'd event log that makes runs resumable.
//   npx tsx benches/opro.bench.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { ScriptedLanguageModel } from '../ts/llm/scripted.js';
import type { GenerateRequest } from '../ts/llm/types.js';
import { OproOptimizer } from '../ts/optimizers/opro/index.js';
import { RunDirectory } from '../ts/run/run-directory.js';
import { exactAnswersMatch } from '../ts/tasks/answers.js';
import { loadTextTask } from '../ts/tasks/text-task.js';

const CANDIDATES = Array.from({ length: 9 }, (_, index) => `Candidate ${index}: think carefully, answer Yes or No.`);
const BASELINE = 'Answer the question with exactly one of: No, Yes.';

function scriptedModel(): ScriptedLanguageModel {
  const proposals = CANDIDATES.map((prompt) => `<INS>${prompt}</INS>`).join(' ');
  return new ScriptedLanguageModel({
    respond: (request: GenerateRequest) => {
      const content = request.messages[0]?.content ?? '';
      if (content.includes('<INS>')) return proposals;
      return content.length % 2 === 0 ? 'Yes' : 'No';
    },
  });
}

const task = await loadTextTask('bbh:navigate');
const valset = task.splits.validation;
const config = { numIterations: 3, candidatesPerIter: 3, earlyStopping: 10, baselinePrompt: BASELINE };
const scratch = mkdtempSync(join(tmpdir(), 'opro-bench-'));
let runIndex = 0;

async function optimize(withRunDirectory: boolean): Promise<void> {
  const model = scriptedModel();
  const runDir = withRunDirectory ? RunDirectory.create(join(scratch, `run-${runIndex++}`)) : undefined;
  const result = await new OproOptimizer(config).optimize({
    task,
    trainset: task.splits.train,
    valset,
    model,
    optimizerModel: model,
    metric: task.metric,
    seed: 42,
    runDir,
  });
  runDir?.close();
  if (result.records.filter((record) => record.status === 'evaluated').length !== 10) throw new Error('bad run');
}

async function plainLoop(): Promise<void> {
  const model = scriptedModel();
  let correct = 0;
  for (const prompt of [BASELINE, ...CANDIDATES]) {
    for (const example of valset) {
      const reply = await model.generate({
        messages: [{ role: 'user', content: `${prompt}\n\nQ: ${example.input}\nA:` }],
      });
      if (exactAnswersMatch(reply.text, example.target)) correct += 1;
    }
  }
  if (correct < 0) throw new Error('unreachable');
}

const bench = new Bench({ time: 3000, warmupTime: 500 });
bench
  .add('plain loop: 10 prompts × 75 examples', plainLoop)
  .add('OPRO, 3 iterations, no run directory', () => optimize(false))
  .add('OPRO, 3 iterations, RunDirectory (fsync per step)', () => optimize(true));
await bench.run();
console.table(bench.table());
rmSync(scratch, { recursive: true, force: true });
