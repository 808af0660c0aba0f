import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDataset, registerDatasetLoader, resolveDatasetsRoot } from '../ts/datasets/index.js';
import { SeededRandom, deriveSeed } from '../ts/random.js';

const ids = (examples: readonly { id: string }[]) => examples.map((example) => example.id);

describe('datasets root', () => {
  const saved = process.env.OPT_NATIVE_DATASETS;
  afterEach(() => {
    if (saved === undefined) delete process.env.OPT_NATIVE_DATASETS;
    else process.env.OPT_NATIVE_DATASETS = saved;
  });

  it('defaults to <repo>/../shared/datasets, then the env variable, then the option', () => {
    delete process.env.OPT_NATIVE_DATASETS;
    expect(resolveDatasetsRoot()).toBe(join(__dirname, '..', '..', 'shared', 'datasets'));
    process.env.OPT_NATIVE_DATASETS = '/tmp/elsewhere';
    expect(resolveDatasetsRoot()).toBe('/tmp/elsewhere');
    expect(resolveDatasetsRoot('/tmp/option')).toBe('/tmp/option');
  });

  it('reports a missing file with E_FILE_NOT_FOUND and the path', async () => {
    await expect(loadDataset('gsm8k', { datasetsRoot: '/nonexistent/root' })).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
      message: expect.stringContaining('/nonexistent/root/gsm8k/train.jsonl'),
    });
  });
});

describe('SeededRandom', () => {
  it('is deterministic per seed and shuffles to a permutation', () => {
    const items = Array.from({ length: 50 }, (_, index) => index);
    const first = new SeededRandom(42).shuffle(items);
    expect(new SeededRandom(42).shuffle(items)).toEqual(first);
    expect(new SeededRandom(43).shuffle(items)).not.toEqual(first);
    expect([...first].sort((a, b) => a - b)).toEqual(items);
    expect(first).not.toEqual(items);
  });

  it('derives distinct stable child seeds', () => {
    expect(deriveSeed(1, 'a')).toBe(deriveSeed(1, 'a'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(2, 'a'));
  });
});

describe('bbh loader', () => {
  it('splits one file 20/30/50 by default, disjoint, and the same for the same seed', async () => {
    const first = await loadDataset('bbh:navigate', { seed: 7 });
    expect(first.name).toBe('bbh:navigate');
    expect(first.defaultMetric).toBe('exact_match');
    expect([first.train.length, first.validation.length, first.test.length]).toEqual([50, 75, 125]);
    const all = new Set([...ids(first.train), ...ids(first.validation), ...ids(first.test)]);
    expect(all.size).toBe(250);
    const again = await loadDataset('bbh:navigate', { seed: 7 });
    expect(ids(again.validation)).toEqual(ids(first.validation));
    const other = await loadDataset('bbh:navigate', { seed: 8 });
    expect(ids(other.validation)).not.toEqual(ids(first.validation));
    expect(first.train[0]).toMatchObject({ target: expect.stringMatching(/^(Yes|No)$/) });
  });

  it('honours explicit sizes and test mode, and refuses more than the file holds', async () => {
    const sized = await loadDataset('bbh:navigate', { sizes: { train: 3, validation: 10, test: 20 } });
    expect([sized.train.length, sized.validation.length, sized.test.length]).toEqual([3, 10, 20]);
    const smoke = await loadDataset('bbh:navigate', { testMode: true, sizes: { train: 100 } });
    expect([smoke.train.length, smoke.validation.length, smoke.test.length]).toEqual([5, 5, 5]);
    await expect(loadDataset('bbh:navigate', { sizes: { train: 200, validation: 100 } })).rejects.toMatchObject({
      code: 'E_BAD_INPUT',
    });
  });

  it('drops the malformed example of a multiple-choice task, so every target is an option letter', async () => {
    // movie_recommendation.json has 250 examples; one has the target "Monsters, Inc" instead of a letter.
    const splits = await loadDataset('bbh:movie_recommendation', { seed: 42 });
    const all = [...splits.train, ...splits.validation, ...splits.test];
    expect(all).toHaveLength(249);
    expect(all.every((example) => /^\([A-E]\)$/.test(example.target))).toBe(true);
    // A word-label task keeps every example.
    const navigate = await loadDataset('bbh:navigate', { seed: 42 });
    expect(navigate.train.length + navigate.validation.length + navigate.test.length).toBe(250);
  });

  it('names the known tasks when one is missing', async () => {
    await expect(loadDataset('bbh:no_such_task')).rejects.toMatchObject({
      code: 'E_FILE_NOT_FOUND',
      message: expect.stringContaining('navigate'),
    });
  });
});

describe('gsm8k loader', () => {
  it('draws validation and train from train.jsonl and keeps test.jsonl as test', async () => {
    const data = await loadDataset('gsm8k', { sizes: { train: 10, validation: 4, test: 6 }, seed: 3 });
    expect(data.defaultMetric).toBe('numeric_match');
    expect([data.train.length, data.validation.length, data.test.length]).toEqual([10, 4, 6]);
    expect(data.train.every((example) => example.id.startsWith('gsm8k-train-'))).toBe(true);
    expect(data.test.every((example) => example.id.startsWith('gsm8k-test-'))).toBe(true);
    const overlap = ids(data.train).filter((id) => ids(data.validation).includes(id));
    expect(overlap).toEqual([]);
    const again = await loadDataset('gsm8k', { sizes: { train: 10, validation: 4, test: 6 }, seed: 3 });
    expect(ids(again.train)).toEqual(ids(data.train));
  });

  it('uses 200 validation examples, the rest of train.jsonl and all of test.jsonl by default', async () => {
    const data = await loadDataset('gsm8k');
    expect([data.train.length, data.validation.length, data.test.length]).toEqual([7273, 200, 1319]);
    // test.jsonl line 1: Janet's ducks, "#### 18"
    expect(data.test[0]).toMatchObject({ id: 'gsm8k-test-0', target: '18' });
    // Its worked solution, without the <<16-3-4=9>> calculator annotations and the #### line.
    expect(data.test[0]?.rationale).toBe(
      'Janet sells 16 - 3 - 4 = 9 duck eggs a day.\nShe makes 9 * 2 = $18 every day at the farmer\u2019s market.',
    );
    expect(data.train.every((example) => example.rationale && !/<<|####/.test(example.rationale))).toBe(true);
    // Targets are canonical numbers: "#### 1,080" becomes "1080".
    expect(data.train.some((example) => example.target.includes(','))).toBe(false);
  });
});

describe('jsonl loader and the registry', () => {
  const folder = mkdtempSync(join(tmpdir(), 'opt-native-jsonl-'));
  const path = join(folder, 'rows.jsonl');
  writeFileSync(
    path,
    Array.from({ length: 20 }, (_, index) => JSON.stringify({ key: `k${index}`, q: `question ${index}`, a: index }))
      .join('\n')
      .concat('\n'),
  );

  it('maps fields, detects numeric targets and splits', async () => {
    const data = await loadDataset(`jsonl:${path}`, {
      inputField: 'q',
      targetField: 'a',
      idField: 'key',
      sizes: { train: 4, validation: 6 },
    });
    expect(data.defaultMetric).toBe('numeric_match');
    expect([data.train.length, data.validation.length, data.test.length]).toEqual([4, 6, 10]);
    const first = [...data.train, ...data.validation, ...data.test].find((example) => example.id === 'k3');
    expect(first).toEqual({ id: 'k3', input: 'question 3', target: '3' });
  });

  it('reports a missing field with E_MISSING_COLUMN', async () => {
    await expect(loadDataset(`jsonl:${path}`)).rejects.toMatchObject({ code: 'E_MISSING_COLUMN' });
  });

  it('refuses unknown prefixes and duplicate registrations, accepts new families', async () => {
    await expect(loadDataset('imagenet')).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
    expect(() => registerDatasetLoader('bbh', async () => Promise.reject(new Error('x')))).toThrow(/already/);
    registerDatasetLoader('fixed-test', async (argument) => ({
      name: `fixed-test:${argument}`,
      defaultMetric: 'exact_match',
      train: [],
      validation: [{ id: 'a', input: 'i', target: 't' }],
      test: [],
    }));
    expect((await loadDataset('fixed-test:x')).name).toBe('fixed-test:x');
  });
});
