/**
 * The evaluators of examples/optimize, run in the real sandbox on their x0 and on known answers: exact scores
 * (hand-checked against ground_truth.py), feedback the model can act on, and the factory reached only via socket.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxEvaluator } from '../ts/optimize/sandbox-evaluator.js';
import { listenOnServiceSocket } from '../ts/sandbox/service.js';

const EXAMPLES = join(import.meta.dirname, '..', 'examples', 'optimize');
const read = (path: string) => readFileSync(join(EXAMPLES, path), 'utf8');
const evaluatorOf = (example: string, timeoutMs = 30_000) =>
  sandboxEvaluator({ script: read(`${example}/evaluate.py`), timeoutMs, memoryBytes: 1024 * 1024 * 1024 });

describe('examples/optimize evaluators', () => {
  it('linear regression: x0 and the least-squares optimum (ground_truth.py: w=3.0175 b=6.4789 mse=4.7809)', async () => {
    const f = evaluatorOf('linear-regression');
    expect((await f(read('linear-regression/x0.txt'))).score).toBe(905.3744);
    expect((await f('3.0175, 6.4789')).score).toBeCloseTo(4.7809, 3);
    expect((await f('w = 3')).feedback).toContain('exactly two numbers');
  });

  it('TSP: x0, the Held-Karp optimum (352.533) and an invalid tour', async () => {
    const f = evaluatorOf('tsp');
    expect((await f(read('tsp/x0.txt'))).score).toBe(648.883);
    expect((await f('0, 5, 9, 1, 3, 4, 6, 2, 8, 7')).score).toBe(352.533);
    expect(await f('0, 1, 1')).toEqual({
      score: 10000,
      feedback: 'not a tour of cities 0-9 each once: missing cities [2, 3, 4, 5, 6, 7, 8, 9]; repeated cities [1]',
    });
  });

  it('AutoML: x0 is scored on the validation split with Debian scikit-learn inside the sandbox', async () => {
    const f = evaluatorOf('automl', 60_000);
    const start = await f(read('automl/x0.py'));
    expect(start.score).toBeGreaterThan(0.9);
    expect(start.score).toBeLessThan(1);
    expect(start.feedback).toMatch(/^validation accuracy 0\.\d{4} with LogisticRegression/);
    await expect(f('def make_model():\n    return None')).rejects.toMatchObject({ code: 'E_EVALUATOR' });
  });

  it('paperclips: the factory is reached through the socket; machines beat making by hand', async () => {
    const { createFactory } = (await import(join(EXAMPLES, 'paperclips', 'factory.mjs'))) as {
      createFactory: () => { server: import('node:net').Server };
    };
    const service = await listenOnServiceSocket(createFactory().server);
    try {
      const f = sandboxEvaluator({
        script: read('paperclips/evaluate.py'),
        timeoutMs: 20_000,
        service: { socketPath: service.socketPath, port: 8000 },
      });
      const [byHand, withMachines] = await Promise.all([
        f(read('paperclips/x0.py')),
        f(`import urllib.request, urllib.error
def call(path):
    try:
        return urllib.request.urlopen(urllib.request.Request(BASE + path, method="POST")).status
    except urllib.error.HTTPError as error:
        return error.code
for _ in range(10):
    call("/make")
while call("/buy") == 200 or call("/make") == 200:
    pass`),
      ]);
      expect(byHand).toEqual({ score: 3, feedback: '3 paperclips and 0 machines at the end of the window' });
      expect(withMachines.score).toBeGreaterThan(50);
    } finally {
      await service.close();
    }
  });
});
