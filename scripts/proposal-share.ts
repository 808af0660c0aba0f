// Measures the share of usable candidates per optimizer call: for each proposal style (the OPRO meta-prompt, the
// variation prompt), sample the optimizer model N times on a task and screen what it writes as OPRO does.
// Resumable (rows already in --out are skipped).
//   npx tsx scripts/proposal-share.ts --task bbh:navigate --model native:default --samples 8 \
//     --out runs/proposals/navigate-05b.jsonl
import { parseArgs } from 'node:util';
import { createLanguageModel } from '../ts/index.js';
import { SeededRandom } from '../ts/random.js';
import { defaultBaselinePrompt } from '../ts/optimizers/opro/config.js';
import { buildMetaPrompt, buildVariationPrompt, parseCandidates } from '../ts/optimizers/opro/meta-prompt.js';
import { copyIndexOf, sanitizeCandidate } from '../ts/optimizers/opro/sanitize.js';
import { loadTextTask } from '../ts/tasks/text-task.js';
import '../ts/llm/native-provider.js';
import { openResumableJsonl } from './resumable-jsonl.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string' },
    model: { type: 'string', default: 'native:default' },
    samples: { type: 'string', default: '8' },
    temperature: { type: 'string', default: '1.0' },
    styles: { type: 'string', default: 'opro,variation' },
    out: { type: 'string' },
  },
});
if (!values.task || !values.out) throw new Error('pass --task and --out');
const output = openResumableJsonl(values.out);
const task = await loadTextTask(values.task, { sizes: { train: 20, validation: 20, test: 5 } });
const model = await createLanguageModel(values.model);
const baseline = defaultBaselinePrompt(task.labels);
const copySources = copyIndexOf([...task.splits.train, ...task.splits.validation]);
const rules = { minChars: 10, maxChars: 300, requiredWords: task.requiredLabelWords, copySources };

function requestFor(style: string, sample: number): string {
  if (style === 'variation')
    return buildVariationPrompt({ taskDescription: task.description, instruction: baseline, maxChars: 300 });
  const exemplars = new SeededRandom(sample).sample(task.splits.train, 3);
  return buildMetaPrompt({
    taskDescription: task.description,
    scoredInstructions: [{ prompt: baseline, reward: 0.5 }],
    exemplars,
    requiredWords: task.requiredLabelWords,
    maxChars: 300,
  });
}

for (const style of values.styles.split(',')) {
  for (let sample = 0; sample < Number(values.samples); sample += 1) {
    const key = JSON.stringify([values.model, values.task, style, values.temperature, sample]);
    if (output.done.has(key)) continue;
    const started = performance.now();
    const reply = await model.generate({
      messages: [{ role: 'user', content: requestFor(style, sample) }],
      temperature: Number(values.temperature),
      maxTokens: 160,
      seed: sample,
    });
    const candidates = parseCandidates(reply.text).map((raw) => sanitizeCandidate(raw, rules));
    const usable = candidates.filter((outcome) => outcome.ok).map((outcome) => outcome.prompt);
    const row = {
      key,
      model: values.model,
      task: values.task,
      style,
      sample,
      usable: usable.length > 0,
      first_usable: usable[0] ?? null,
      reasons: candidates.flatMap((outcome) => (outcome.ok ? [] : [outcome.reason])),
      seconds: (performance.now() - started) / 1000,
    };
    output.append(row);
    console.log(`${style} #${sample} usable=${row.usable} ${row.first_usable ?? row.reasons.join('; ')}`);
  }
}
await model.dispose?.();
