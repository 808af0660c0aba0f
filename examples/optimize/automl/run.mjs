// AutoML on the digits data: the model rewrites make_model(); each x is fitted in the sandbox (Debian
// python3-sklearn) and selected on a validation split; the best x's test accuracy is measured once at the end.
//   npm run build:ts && node examples/optimize/automl/run.mjs [--model native:default] [--steps 3]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { optimize, sandbox, sandboxEvaluator } from 'opt-native';
import { runSummary } from '../run-summary.mjs';

const here = import.meta.dirname;
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'native:default' },
    steps: { type: 'string', default: '3' },
    proposals: { type: 'string', default: '2' },
    'run-dir': { type: 'string' },
  },
});
const read = (name) => readFileSync(join(here, name), 'utf8');
const limits = { timeoutMs: 60_000, memoryBytes: 1024 * 1024 * 1024 };
const f = sandboxEvaluator({ script: read('evaluate.py'), runtime: 'python', ...limits });

const result = await optimize.run(
  read('task.md'),
  'What is the next make_model() code to try such that the validation accuracy is higher?',
  f,
  read('x0.py'),
  {
    model: values.model,
    maxSteps: Number(values.steps),
    proposalsPerStep: Number(values.proposals),
    maxTokens: 400,
    runDir: values['run-dir'],
    onProgress: (p) => console.error(`[automl ${p.iteration}/${p.totalIterations}] best ${p.bestScore} · ${p.message}`),
  },
);
const test = await sandbox.runPython(read('final_test.py'), { ...limits, files: { 'x.txt': result.bestX } });
const testAccuracy = test.exitCode === 0 ? JSON.parse(test.stdout.trim()).test_accuracy : `failed: ${test.stderr}`;
console.log(
  JSON.stringify(
    {
      startValidation: result.history[0]?.score ?? null,
      bestValidation: result.bestScore,
      bestTest: testAccuracy,
      ...runSummary(result),
      evaluations: result.evaluations,
      bestX: result.bestX,
    },
    null,
    2,
  ),
);
