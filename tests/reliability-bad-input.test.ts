/**
 * The bad-input corpus: hostile or mistaken command lines through the real CLI (a child process each). Every one must
 * fail with the exact code on one `error[E_CODE]: …` line, exit status 1, no stack trace, no help text and an empty
 * stdout. Then the pure converters behind it: numbers, commander/system errors, zod errors, manifest bounds.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ManifestError, expandManifest } from '../ts/bench/manifest.js';
import { toCliError } from '../ts/cli/cli-errors.js';
import { OptNativeError } from '../ts/errors.js';
import { parseInteger, parseNumber, checkSeed } from '../ts/numbers.js';
import { oneLineParseError } from '../ts/parse-error-message.js';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';
import { TINY_GGUF, TINY_MODEL_DIR } from './native-fixtures.js';

const TINY_AUDIO_DIR = join(TINY_MODEL_DIR, '..', 'tiny-qwen2-audio');

const dir = mkdtempSync(join(tmpdir(), 'reliability-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const folder = (name: string, files: Record<string, string | Buffer>) => {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  for (const [fileName, content] of Object.entries(files)) writeFileSync(join(path, fileName), content);
  return path;
};

const tokenizer = join(TINY_MODEL_DIR, 'tokenizer.json');
const generate = (...extra: string[]) => ['generate', '--model', TINY_GGUF, '--tokenizer', tokenizer, ...extra];
const v99 = Buffer.from(readFileSync(TINY_GGUF));
v99.writeUInt32LE(99, 4);
const randomBytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24));

/** A copy of the tiny HF model folder with some of its files replaced. */
const tinyFolder = (name: string, replaced: Record<string, string | Buffer>) => {
  const path = folder(name, {});
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
    copyFileSync(join(TINY_MODEL_DIR, file), join(path, file));
  }
  for (const [fileName, content] of Object.entries(replaced)) writeFileSync(join(path, fileName), content);
  return path;
};
const tinyWeights = readFileSync(join(TINY_MODEL_DIR, 'model.safetensors'));
const tinyConfig = JSON.parse(readFileSync(join(TINY_MODEL_DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
const output = (name: string) => ['--output-dir', join(dir, name)];
const generateFrom = (model: string) => ['generate', '--model', model, '--prompt', 'hi', '--max-tokens', '2'];
const classify = (clip: string) => [
  'classify-audio',
  '--model',
  TINY_AUDIO_DIR,
  '--prompt',
  'Speech?',
  '--labels',
  'A,B',
  clip,
];
const tone = join(TINY_MODEL_DIR, '..', 'logmel', 'tone.wav');
const optimizeJsonl = (command: 'opro' | 'balanced', path: string) =>
  command === 'opro'
    ? [
        'opro',
        '--task',
        `jsonl:${path}`,
        '--evaluator',
        `native:${TINY_MODEL_DIR}`,
        '--test-mode',
        ...output('out-opro'),
      ]
    : ['balanced', '--task', `jsonl:${path}`, '--model', `native:${TINY_MODEL_DIR}`, ...output('out-balanced')];
/** `opro --task bbh:navigate --config <file>` writing into `dir/out-config` if it ever started. */
const oproConfig = (config: string) => ['opro', '--task', 'bbh:navigate', '--config', config, ...output('out-config')];

/** A WAV header (IEEE float unless `format` says otherwise) over `samples` zero bytes. */
function wav(fields: { format?: number; channels?: number; rate?: number; bits?: number; dataBytes?: number }) {
  const { format = 3, channels = 1, rate = 16_000, bits = 32 } = fields;
  const data = Buffer.alloc(8000);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE((rate * channels * bits) / 8, 28);
  header.writeUInt16LE((channels * bits) / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36);
  header.writeUInt32LE(fields.dataBytes ?? data.length, 40);
  return Buffer.concat([header, data]);
}

/** The tiny weights with one tensor's end offset moved past the end of the file. */
function offsetPastEnd(): Buffer {
  const headerLength = Number(tinyWeights.readBigUInt64LE(0));
  const header = JSON.parse(tinyWeights.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { data_offsets: [number, number] }
  >;
  const first = Object.keys(header).find((name) => name !== '__metadata__')!;
  header[first]!.data_offsets[1] += 1e9;
  const json = Buffer.from(JSON.stringify(header).padEnd(headerLength, ' '));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, tinyWeights.subarray(8 + headerLength)]);
}

/** A port something already listens on (for EADDRINUSE). */
async function busyPort(): Promise<{ port: number; close: () => void }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}
const busy = await busyPort();
const manifest = (params: Record<string, unknown>) =>
  file(
    `manifest-${Object.keys(params).join('-')}.json`,
    JSON.stringify({
      tasks: [{ dataset: 'bbh:navigate', optimizer: 'opro', model: 'native:default', optimizer_params: params }],
    }),
  );

const BROKEN_JSONL = '{"input": "a", "target": "b"}\n{"input": "c", "tar\n{"input": "d", "target": "e"}\n';
/** A one-task manifest with `fields` replaced. */
const manifestOf = (fields: Record<string, string>) =>
  file(
    `manifest-${Object.values(fields).join('-')}.json`,
    JSON.stringify({ tasks: [{ dataset: 'bbh:navigate', optimizer: 'opro', model: 'native:default', ...fields }] }),
  );

/** `bench run` with its checkpoint folder inside `dir`, so that a write before the check would show. */
const bench = (config: string) => ['bench', 'run', '--config', config, '--checkpoint-dir', join(dir, 'checkpoints')];

/** [what, argv, exact code]. */
const CORPUS: [string, string[], string][] = [
  ['--max-tokens above u32', generate('--prompt', 'hi', '--max-tokens', '4294967300'), 'E_BAD_INPUT'],
  ['--max-tokens 0', generate('--prompt', 'hi', '--max-tokens', '0'), 'E_BAD_INPUT'],
  ['--max-tokens 1e3', generate('--prompt', 'hi', '--max-tokens', '1e3'), 'E_BAD_INPUT'],
  ['--max-tokens -1', generate('--prompt', 'hi', '--max-tokens=-1'), 'E_BAD_INPUT'],
  ['--seed above 2^64', generate('--prompt', 'hi', '--seed', '18446744073709551616'), 'E_BAD_INPUT'],
  ['--temperature NaN', generate('--prompt', 'hi', '--temperature', 'NaN'), 'E_BAD_INPUT'],
  // An unknown device was the addon's enum error (E_INTERNAL); it is a choice of the flag.
  ['generate --device tpu', generate('--prompt', 'hi', '--device', 'tpu'), 'E_BAD_INPUT'],
  ['classify-audio --device tpu', [...classify(tone), '--device', 'tpu'], 'E_BAD_INPUT'],
  [
    'finetune --device tpu',
    ['finetune', '--model', TINY_MODEL_DIR, '--data', tokenizer, ...output('out-ft'), '--device', 'tpu'],
    'E_BAD_INPUT',
  ],
  ['--temperature -1', generate('--prompt', 'hi', '--temperature=-1'), 'E_BAD_INPUT'],
  ['unknown option', generate('--prompt', 'hi', '--bogus'), 'E_BAD_INPUT'],
  ['missing option argument', generate('--prompt'), 'E_BAD_INPUT'],
  ['missing required option', ['generate', '--model', TINY_GGUF], 'E_BAD_INPUT'],
  ['missing argument', ['models', 'info'], 'E_BAD_INPUT'],
  ['unknown command', ['frobnicate'], 'E_BAD_INPUT'],
  ['excess argument', ['models', 'info', TINY_GGUF, 'extra'], 'E_BAD_INPUT'],
  [
    '--port out of range',
    ['serve', '--model', 'openai-compatible:http://127.0.0.1:9/v1#x', '--port', '70000'],
    'E_BAD_INPUT',
  ],
  ['--max-concurrency 0', ['serve', '--model', 'native:default', '--max-concurrency', '0'], 'E_BAD_INPUT'],
  [
    'port in use (EADDRINUSE)',
    ['serve', '--model', 'openai-compatible:http://127.0.0.1:9/v1#x', '--port', String(busy.port)],
    'E_BAD_INPUT',
  ],
  [
    'unresolvable --host',
    ['serve', '--model', 'openai-compatible:http://127.0.0.1:9/v1#x', '--host', 'no-such-host.invalid'],
    'E_BAD_INPUT',
  ],
  ['a folder as the manifest (EISDIR)', bench(dir), 'E_BAD_INPUT'],
  ['manifest num_iterations 1e12', bench(manifest({ num_iterations: 1e12 })), 'E_BAD_INPUT'],
  ['manifest max_trials 0', bench(manifest({ max_trials: 0 })), 'E_BAD_INPUT'],
  ['models info: GGUF version 99', ['models', 'info', file('v99.gguf', v99)], 'E_MODEL_FORMAT'],
  ['models info: empty file', ['models', 'info', file('empty.gguf', '')], 'E_MODEL_FORMAT'],
  ['models info: random bytes', ['models', 'info', file('random.gguf', randomBytes)], 'E_MODEL_FORMAT'],
  [
    'models info: folder without weights',
    ['models', 'info', folder('no-weights', { 'config.json': '{"model_type":"qwen2"}' })],
    'E_MODEL_NOT_FOUND',
  ],
  [
    'models info: safetensors header not JSON',
    ['models', 'info', folder('bad-header', { 'config.json': '{}', 'model.safetensors': badSafetensors() })],
    'E_MODEL_FORMAT',
  ],
  [
    'models info: config.json not an object',
    ['models', 'info', folder('bad-config', { 'config.json': '[1]', 'model.safetensors': badSafetensors() })],
    'E_MODEL_FORMAT',
  ],
  [
    'generate: GGUF version 99',
    ['generate', '--model', join(dir, 'v99.gguf'), '--tokenizer', tokenizer, '--prompt', 'hi'],
    'E_MODEL_FORMAT',
  ],
  [
    'generate: tokenizer is not a tokenizer',
    ['generate', '--model', TINY_GGUF, '--tokenizer', join(TINY_MODEL_DIR, 'config.json'), '--prompt', 'hi'],
    'E_TOKENIZER',
  ],
  [
    'generate: tokenizer is a folder',
    ['generate', '--model', TINY_GGUF, '--tokenizer', dir, '--prompt', 'hi'],
    'E_TOKENIZER',
  ],
  // HF folders: corrupt safetensors, tokenizer.json and config.json, through the native loader and `models info`.
  ...(['generate', 'models info'] as const).flatMap((via): [string, string[], string][] => {
    const run = (path: string) => (via === 'generate' ? generateFrom(path) : ['models', 'info', path]);
    const name = (what: string) => `${via}: ${what}`;
    const slug = via.replace(' ', '-');
    return [
      [
        name('safetensors cut short'),
        run(tinyFolder(`${slug}-cut`, { 'model.safetensors': tinyWeights.subarray(0, 100_000) })),
        'E_MODEL_FORMAT',
      ],
      [
        name('safetensors of random bytes'),
        run(tinyFolder(`${slug}-random`, { 'model.safetensors': randomBytes })),
        'E_MODEL_FORMAT',
      ],
      [
        name('safetensors offset past the end'),
        run(tinyFolder(`${slug}-offset`, { 'model.safetensors': offsetPastEnd() })),
        'E_MODEL_FORMAT',
      ],
      [
        name('config.json cut short'),
        run(tinyFolder(`${slug}-config-cut`, { 'config.json': '{"model_type": "qwen2", "hidden_size": ' })),
        'E_MODEL_FORMAT',
      ],
      [
        name('config.json hidden_size 0'),
        run(tinyFolder(`${slug}-config-zero`, { 'config.json': JSON.stringify({ ...tinyConfig, hidden_size: 0 }) })),
        'E_MODEL_FORMAT',
      ],
    ];
  }),
  [
    'generate: tokenizer.json in the folder cut short',
    generateFrom(
      tinyFolder('tokenizer-cut', { 'tokenizer.json': '{"version": "1.0", "model": {"type": "BPE", "vocab": ' }),
    ),
    'E_TOKENIZER',
  ],
  [
    'generate: tokenizer.json in the folder is not a tokenizer',
    generateFrom(tinyFolder('tokenizer-other', { 'tokenizer.json': '{"hello": "world"}' })),
    'E_TOKENIZER',
  ],
  // Datasets and tables.
  ['opro: jsonl task with a broken line', optimizeJsonl('opro', file('broken.jsonl', BROKEN_JSONL)), 'E_BAD_INPUT'],
  ['balanced: jsonl task with a broken line', optimizeJsonl('balanced', join(dir, 'broken.jsonl')), 'E_BAD_INPUT'],
  [
    'data manifest: CSV without a label column',
    ['data', 'manifest', file('no-label.csv', `clip_id,path\nc1,${tone}\n`)],
    'E_MISSING_COLUMN',
  ],
  [
    'opro: audio manifest without a label column',
    [
      'opro',
      '--manifest',
      join(dir, 'no-label.csv'),
      '--evaluator',
      `native:${TINY_AUDIO_DIR}`,
      '--test-mode',
      ...output('out-audio'),
    ],
    'E_MISSING_COLUMN',
  ],
  [
    'data manifest: CSV row too short',
    ['data', 'manifest', file('short-row.csv', `clip_id,path,label\nc1,${tone},A\nc2,${tone}\n`)],
    'E_BAD_INPUT',
  ],
  ['data manifest: jsonl with a broken line', ['data', 'manifest', join(dir, 'broken.jsonl')], 'E_BAD_INPUT'],
  [
    'metrics: CSV without the prediction column',
    ['metrics', '--input', file('truth.csv', 'id,truth\n1,A\n'), '--label-col', 'truth', '--pred-col', 'pred'],
    'E_MISSING_COLUMN',
  ],
  [
    'metrics: jsonl with a broken line',
    ['metrics', '--input', join(dir, 'broken.jsonl'), '--label-col', 'a', '--pred-col', 'b'],
    'E_BAD_INPUT',
  ],
  [
    'metrics: random bytes as Parquet',
    ['metrics', '--input', file('random.parquet', randomBytes), '--label-col', 'a', '--pred-col', 'b'],
    'E_BAD_INPUT',
  ],
  // Benchmark manifests (a manifest error lists each issue on its own line).
  ['manifest cut short', bench(file('manifest-cut.json', '{"tasks": [')), 'E_BAD_INPUT'],
  ['manifest in YAML (JSON only)', bench(file('manifest.yaml', 'tasks:\n  - dataset: bbh:navigate\n')), 'E_BAD_INPUT'],
  ['manifest unknown optimizer', bench(manifestOf({ optimizer: 'nope' })), 'E_BAD_INPUT'],
  ['manifest unknown dataset', bench(manifestOf({ dataset: 'nope:thing' })), 'E_BAD_INPUT'],
  ['manifest without tasks', bench(file('manifest-empty.json', '{"seed": 1}')), 'E_BAD_INPUT'],
  // --config files.
  [
    'opro --config: YAML that does not parse',
    oproConfig(file('bad.yaml', 'evaluator: [native:default\n  bad: : x\n')),
    'E_BAD_INPUT',
  ],
  ['opro --config: a list, not an object', oproConfig(file('list.yaml', '- 1\n- 2\n')), 'E_BAD_INPUT'],
  ['opro --config: unknown option', oproConfig(file('unknown.yaml', 'frobnicate: 3\n')), 'E_BAD_INPUT'],
  ['opro --config: num_iterations 1e12', oproConfig(file('range.yaml', 'num_iterations: 1e12\n')), 'E_BAD_INPUT'],
  [
    'teacher-student --config: YAML that does not parse',
    ['teacher-student', '--config', file('ts.yaml', 'fine_tuning:\n  dataset_path: [x\n'), ...output('out-ts')],
    'E_BAD_INPUT',
  ],
  [
    'opro --initial-prompts-json: not JSON',
    [
      'opro',
      '--task',
      'bbh:navigate',
      '--initial-prompts-json',
      file('prompts.json', 'not json\n'),
      ...output('out-ip'),
    ],
    'E_BAD_INPUT',
  ],
  // Audio files with bad headers.
  ['classify-audio: RIFF header cut short', classify(file('cut.wav', wav({}).subarray(0, 22))), 'E_BAD_AUDIO'],
  ['classify-audio: random bytes', classify(file('random.wav', randomBytes)), 'E_BAD_AUDIO'],
  ['classify-audio: zero channels', classify(file('zero-channels.wav', wav({ channels: 0 }))), 'E_BAD_AUDIO'],
  ['classify-audio: 7-bit PCM', classify(file('7-bit.wav', wav({ format: 1, bits: 7 }))), 'E_BAD_AUDIO'],
  ['classify-audio: sample rate 0', classify(file('rate-0.wav', wav({ rate: 0 }))), 'E_BAD_AUDIO'],
  ['classify-audio: data chunk past the end', classify(file('long-data.wav', wav({ dataBytes: 1e9 }))), 'E_BAD_AUDIO'],
  // More numbers out of range.
  ['classify-audio --batch-size 0', [...classify(tone), '--batch-size', '0'], 'E_BAD_INPUT'],
  [
    'classify-audio --max-new-tokens 0',
    [...classify(tone), '--mode', 'generate', '--max-new-tokens', '0'],
    'E_BAD_INPUT',
  ],
  [
    'opro --eval-max-new-tokens 0',
    ['opro', '--task', 'bbh:navigate', '--eval-max-new-tokens', '0', ...output('out-tokens')],
    'E_BAD_INPUT',
  ],
  [
    'balanced --batch-size 1e3',
    ['balanced', '--task', 'bbh:navigate', '--batch-size', '1e3', ...output('out-b')],
    'E_BAD_INPUT',
  ],
  [
    'balanced --max-dollars -1',
    ['balanced', '--task', 'bbh:navigate', '--max-dollars=-1', ...output('out-d')],
    'E_BAD_INPUT',
  ],
  [
    'bench --max-concurrent 0',
    [
      'bench',
      'run',
      '--datasets',
      'bbh:navigate',
      '--optimizers',
      'opro',
      '--models',
      'native:default',
      '--max-concurrent',
      '0',
      '--checkpoint-dir',
      join(dir, 'checkpoints'),
    ],
    'E_BAD_INPUT',
  ],
  [
    'metrics --bootstrap 1e9',
    ['metrics', '--input', join(dir, 'truth.csv'), '--label-col', 'truth', '--pred-col', 'truth', '--bootstrap', '1e9'],
    'E_BAD_INPUT',
  ],
];

/** Manifest validation errors: one line per issue. */
const MULTI_LINE = new Set([
  'manifest num_iterations 1e12',
  'manifest max_trials 0',
  'manifest unknown optimizer',
  'manifest unknown dataset',
  'manifest without tasks',
]);

/** A safetensors file whose 8-byte length is right but whose header is not JSON. */
function badSafetensors(): Buffer {
  const header = Buffer.from('{"a": nope}');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, Buffer.alloc(16)]);
}

/** Runs `tasks` at most `limit` at a time (the machine is shared; each is a Node process). */
async function limited<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < tasks.length; index = next++) results[index] = await tasks[index]!();
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

describe(`the bad-input corpus (${CORPUS.length} command lines)`, () => {
  it('each fails with its exact code, exit 1, one error line, no stack or help, empty stdout', async () => {
    const before = readdirSync(dir).sort();
    const outcomes = await limited(
      4,
      CORPUS.map(
        ([, args]) =>
          () =>
            runCli(SOURCE_CLI_ARGS, args),
      ),
    );
    busy.close();
    const summary = outcomes.map((outcome, index) => {
      const [what, , code] = CORPUS[index]!;
      const lines = outcome.stderr.trimEnd().split('\n');
      return {
        what,
        exit: outcome.code,
        stdout: outcome.stdout,
        code: /^error\[(E_[A-Z_]+)\]: \S/.exec(lines[0] ?? '')?.[1] ?? `no code in: ${outcome.stderr.slice(0, 300)}`,
        oneLine: lines.length === 1,
        stack: /^\s+at /m.test(outcome.stderr),
        help: outcome.stderr.includes('Usage:'),
        expected: code,
      };
    });
    expect(summary).toEqual(
      summary.map(({ what, expected }) => ({
        what,
        exit: 1,
        stdout: '',
        code: expected,
        oneLine: !MULTI_LINE.has(what), // a manifest error lists each issue on its own line
        stack: false,
        help: false,
        expected,
      })),
    );
    // Nothing was written next to the inputs.
    expect(readdirSync(dir).sort()).toEqual(before);
  }, 600_000);
});

describe('number parsing (CLI flags)', () => {
  it('accepts strict decimal integers in range and refuses the rest with E_BAD_INPUT', () => {
    expect(parseInteger('--n', '4294967295')).toBe(4294967295);
    expect(parseInteger('--n', ' 7 ', { min: 1 })).toBe(7);
    for (const bad of ['4294967296', '-1', '', '1e3', '0x10', '2.0', '9007199254740993', 'abc']) {
      expect(() => parseInteger('--n', bad)).toThrow(OptNativeError);
    }
    expect(() => parseInteger('--port', '70000', { min: 0, max: 65535 })).toThrow(
      '--port must be an integer from 0 to 65535, got 70000',
    );
    expect(parseNumber('--t', '0.25', { min: 0, max: 2 })).toBe(0.25);
    for (const bad of ['', 'Infinity', 'NaN', '3', '-0.1']) {
      expect(() => parseNumber('--t', bad, { min: 0, max: 2 })).toThrow(OptNativeError);
    }
    expect(checkSeed('seed', 2 ** 53 - 1)).toBe(2 ** 53 - 1);
    expect(() => checkSeed('seed', 2 ** 64)).toThrow('seed must be an integer from 0 to 9007199254740991');
  });
});

describe('errors the CLI did not raise itself get codes', () => {
  it('maps commander usage errors to E_BAD_INPUT and lets --help/--version through', () => {
    const unknown = new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'");
    expect(toCliError(unknown)).toMatchObject({ code: 'E_BAD_INPUT', message: "unknown option '--x' (see --help)" });
    expect(toCliError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBeUndefined();
  });

  it('maps EISDIR, EADDRINUSE and ENOTFOUND (also as the cause of a fetch failure)', () => {
    const system = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(toCliError(system('EISDIR', 'EISDIR: illegal operation on a directory, read'))?.code).toBe('E_BAD_INPUT');
    expect(toCliError(system('EADDRINUSE', 'listen EADDRINUSE 127.0.0.1:80'))?.code).toBe('E_BAD_INPUT');
    const fetchFailed = new TypeError('fetch failed', { cause: system('ENOTFOUND', 'getaddrinfo ENOTFOUND hub') });
    expect(toCliError(fetchFailed)).toMatchObject({
      code: 'E_PROVIDER',
      message: 'the host name does not resolve: getaddrinfo ENOTFOUND hub',
    });
    expect(toCliError(new Error('boom'))?.code).toBe('E_INTERNAL');
  });

  it('flattens parser errors to one line: yaml code frame dropped, newlines of a JSON excerpt escaped', () => {
    const yamlError = (() => {
      try {
        parseYaml('evaluator: [native:default\n  bad: : x\n');
      } catch (error) {
        return error;
      }
    })();
    expect(oneLineParseError(yamlError)).toBe(
      'Implicit keys of flow sequence pairs need to be on a single line at line 1, column 13',
    );
    const jsonError = (() => {
      try {
        JSON.parse('tasks:\n  - x');
      } catch (error) {
        return error;
      }
    })();
    expect(oneLineParseError(jsonError)).toBe(`Unexpected token 'a', "tasks:\\n  - x" is not valid JSON`);
  });

  it('turns a zod error into one readable E_BAD_INPUT line (no issue JSON)', () => {
    const parsed = z.object({ numIterations: z.number().int().min(1) }).safeParse({ numIterations: 'many' });
    const coded = toCliError(parsed.error);
    expect(coded?.code).toBe('E_BAD_INPUT');
    expect(coded?.message).not.toContain('"code"');
    expect(coded?.message).not.toContain('\n');
    expect(coded?.message).toContain('numIterations');
  });
});

describe('manifest numeric bounds', () => {
  const issuesOf = (params: Record<string, unknown>) => {
    try {
      expandManifest({
        tasks: [{ dataset: 'bbh:navigate', optimizer: 'opro', model: 'native:default', optimizer_params: params }],
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ManifestError);
      return (error as ManifestError).issues.map((issue) => issue.message);
    }
    return [];
  };

  it('refuses iterations outside 1..10000 under the name the manifest used, and huge seeds', () => {
    expect(issuesOf({ num_iterations: 1e12 })).toEqual([
      'opro parameters: num_iterations must be an integer from 1 to 10000, got 1000000000000',
    ]);
    expect(issuesOf({ max_trials: 0 })).toEqual([
      'opro parameters: max_trials must be an integer from 1 to 10000, got 0',
    ]);
    expect(issuesOf({ num_iterations: 3 })).toEqual([]);
    expect(() =>
      expandManifest({
        seed: 2 ** 64,
        tasks: [{ dataset: 'bbh:navigate', optimizer: 'opro', model: 'native:default' }],
      }),
    ).toThrow(ManifestError);
  });
});
