// The addon's Model class through the TypeScript wrapper, on the tiny Qwen2 fixture (golden numbers from HF
// transformers, see scripts/make_qwen2_fixture.py).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeModel } from '../ts/native/text-model.js';
import {
  FIXTURE_BATCH_PROMPTS,
  FIXTURE_CHOICES,
  FIXTURE_PROMPT,
  TINY_GGUF,
  TINY_MODEL_DIR,
  readReferenceTensors,
} from './native-fixtures.js';
import { ggufDecodeReadBytes } from '../ts/models/gguf-header.js';

const reference = readReferenceTensors();

describe('NativeModel on the tiny Qwen2 fixture', () => {
  let model: NativeModel;

  beforeAll(async () => {
    model = await NativeModel.load(TINY_MODEL_DIR);
  });
  afterAll(() => model.dispose());

  it('reports what was loaded', () => {
    expect(model.info()).toMatchObject({
      architecture: 'qwen2',
      format: 'safetensors',
      contextLength: 128,
      vocabSize: 260,
      hiddenSize: 64,
      numLayers: 2,
      device: 'cpu',
      dtype: 'f32',
    });
    // f32 weights a decode step reads: 2 layers of (q, k, v with biases, o, gate, up, down, 2 norms), the final
    // norm and the tied head (260 × 64); hidden 64, kv 32, intermediate 96.
    const perLayer = 64 * 64 + 64 + 2 * (64 * 32 + 32) + 64 * 64 + 3 * 64 * 96 + 2 * 64;
    expect(model.info().decodeReadBytes).toBe(4 * (2 * perLayer + 64 + 260 * 64));
  });

  it('tokenizes like the reference tokenizer', async () => {
    expect(await model.tokenize(FIXTURE_PROMPT)).toEqual(reference.get('prompt_ids'));
    expect(await model.countTokens(FIXTURE_PROMPT)).toBe(FIXTURE_PROMPT.length); // byte-level, no merges
    expect(await model.tokenize('<|im_start|>')).toEqual([257]);
  });

  it('generates the reference greedy tokens', async () => {
    const result = await model.generate({ prompt: FIXTURE_PROMPT, maxTokens: 10 });
    expect(result.tokenIds).toEqual(reference.get('decode_tokens'));
    expect(result.usage).toEqual({ promptTokens: 24, completionTokens: 10 });
    expect(result.finishReason).toBe('length');
  });

  it('streams the same text, piece by piece, as an async iterator', async () => {
    const whole = await model.generate({ prompt: FIXTURE_PROMPT, maxTokens: 10 });
    const stream = model.stream({ prompt: FIXTURE_PROMPT, maxTokens: 10 });
    const pieces: string[] = [];
    for await (const piece of stream) pieces.push(piece);
    expect(pieces.join('')).toBe(whole.text);
    expect(pieces.length).toBeGreaterThan(1);
    expect((await stream.result).tokenIds).toEqual(whole.tokenIds);
  });

  it('batches: each row equals its own greedy generation', async () => {
    const requests = FIXTURE_BATCH_PROMPTS.map((prompt) => ({ prompt, maxTokens: 6 }));
    const batch = await model.generateBatch(requests);
    const single = [];
    for (const request of requests) single.push(await model.generate(request));
    expect(batch.map((row) => row.tokenIds)).toEqual(single.map((row) => row.tokenIds));
  });

  it('scores choices like the reference (sums of token log-probs, softmax over choices)', async () => {
    const scored = await model.scoreChoices({ prompt: FIXTURE_PROMPT, choices: FIXTURE_CHOICES });
    const expected = reference.get('choice_logprob_sums')!;
    scored.choices.forEach((choice, index) => expect(choice.logprob).toBeCloseTo(expected[index]!, 3));
    const exps = expected.map(Math.exp);
    const total = exps.reduce((sum, value) => sum + value, 0);
    scored.choices.forEach((choice, index) => expect(choice.probability).toBeCloseTo(exps[index]! / total, 4));
    expect(scored.best).toBe(expected.indexOf(Math.max(...expected)));
  });

  it('refuses a request with both or neither of messages/prompt (E_BAD_INPUT)', async () => {
    await expect(model.generate({ maxTokens: 2 })).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
    await expect(
      model.generate({ prompt: 'x', messages: [{ role: 'user', content: 'x' }], maxTokens: 2 }),
    ).rejects.toMatchObject({ code: 'E_BAD_INPUT' });
  });

  it('aborts: an already-aborted signal and one aborted mid-generation both give E_ABORTED', async () => {
    await expect(
      model.generate({ prompt: FIXTURE_PROMPT, maxTokens: 5 }, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'E_ABORTED' });
    const controller = new AbortController();
    const stream = model.stream({ prompt: 'x', maxTokens: 100 }, { signal: controller.signal });
    const pieces: string[] = [];
    const reading = (async () => {
      for await (const piece of stream) {
        pieces.push(piece);
        if (pieces.length === 2) controller.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ code: 'E_ABORTED' });
    await expect(stream.result).rejects.toMatchObject({ code: 'E_ABORTED' });
    // The model is still usable afterwards.
    expect((await model.generate({ prompt: FIXTURE_PROMPT, maxTokens: 10 })).tokenIds).toEqual(
      reference.get('decode_tokens'),
    );
  });

  it('keeps the event loop free while generating (timers tick during the call)', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    const generation = model.generate({ prompt: 'x', maxTokens: 100 });
    let ticksBeforeEnd = -1;
    const done = generation.then(() => (ticksBeforeEnd = ticks));
    await done;
    clearInterval(timer);
    // A blocked loop would run no timer callback until the promise settles.
    expect(ticksBeforeEnd).toBeGreaterThan(0);
  });
});

describe('NativeModel loading and lifecycle', () => {
  it('loads the GGUF twin of the fixture with an explicit tokenizer and generates the same tokens', async () => {
    const model = await NativeModel.load(TINY_GGUF, { tokenizerPath: join(TINY_MODEL_DIR, 'tokenizer.json') });
    expect(model.info()).toMatchObject({ format: 'gguf', vocabSize: 260 });
    // The same bytes as llama.cpp reads from the file: every tensor (the head is tied to the embedding table).
    expect(model.info().decodeReadBytes).toBe(await ggufDecodeReadBytes(TINY_GGUF));
    const result = await model.generate({ prompt: FIXTURE_PROMPT, maxTokens: 10 });
    expect(result.tokenIds).toEqual(reference.get('decode_tokens'));
    await model.dispose();
  });

  it('says E_MODEL_NOT_FOUND for a missing file and E_MODEL_FORMAT for a corrupt one', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'opt-native-native-'));
    await expect(NativeModel.load(join(folder, 'missing.gguf'))).rejects.toMatchObject({
      code: 'E_MODEL_NOT_FOUND',
    });
    const corrupt = join(folder, 'corrupt.gguf');
    await writeFile(corrupt, Buffer.from('GGUF\x03\x00\x00\x00 truncated header'));
    await expect(
      NativeModel.load(corrupt, { tokenizerPath: join(TINY_MODEL_DIR, 'tokenizer.json') }),
    ).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
  });

  it('fails every call after dispose with E_MODEL_DISPOSED', async () => {
    const model = await NativeModel.load(TINY_MODEL_DIR);
    await model.dispose();
    expect(() => model.info()).toThrow(expect.objectContaining({ code: 'E_MODEL_DISPOSED' }));
    await expect(model.generate({ prompt: 'x', maxTokens: 2 })).rejects.toMatchObject({ code: 'E_MODEL_DISPOSED' });
    await expect(model.tokenize('x')).rejects.toMatchObject({ code: 'E_MODEL_DISPOSED' });
  });
});
