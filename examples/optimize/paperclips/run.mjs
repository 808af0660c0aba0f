// The paperclip factory: the model rewrites a script that plays the factory's HTTP API. The factory runs here, on
// a Unix socket mounted into the sandbox, so the script's http://localhost:8000 reaches it and nothing else.
//   npm run build:ts && node examples/optimize/paperclips/run.mjs [--model native:default] [--steps 3]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { optimize, sandbox, sandboxEvaluator } from 'opt-native';
import { createFactory } from './factory.mjs';
import { runSummary } from '../run-summary.mjs';

const here = import.meta.dirname;
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'native:default' },
    steps: { type: 'string', default: '3' },
    proposals: { type: 'string', default: '2' },
  },
});
const read = (name) => readFileSync(join(here, name), 'utf8');
const factory = createFactory();
const service = await sandbox.listenOnServiceSocket(factory.server);
try {
  const f = sandboxEvaluator({
    script: read('evaluate.py'),
    runtime: 'python',
    timeoutMs: 20_000,
    service: { socketPath: service.socketPath, port: 8000 },
  });
  const result = await optimize.run(
    read('task.md'),
    'What is the next script to try such that the factory ends the window with more paperclips?',
    f,
    read('x0.py'),
    {
      model: values.model,
      maxSteps: Number(values.steps),
      proposalsPerStep: Number(values.proposals),
      maxTokens: 500,
      onProgress: (p) =>
        console.error(`[paperclips ${p.iteration}/${p.totalIterations}] best ${p.bestScore} · ${p.message}`),
    },
  );
  console.log(
    JSON.stringify(
      {
        start: result.history[0]?.score ?? null,
        best: result.bestScore,
        ...runSummary(result),
        evaluations: result.evaluations,
        bestX: result.bestX,
      },
      null,
      2,
    ),
  );
} finally {
  await service.close();
}
