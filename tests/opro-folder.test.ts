/**
 * What `opro` does to its output folder: every option is checked before the first write (a refused run leaves the
 * folder as it was, so the same folder then takes a fresh run); a folder of someone else's files is refused unless
 * --force, and even then a foreign cache.sqlite is left untouched; a damaged line in the middle of events.jsonl is
 * skipped with a warning, and the records after it are still replayed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SOURCE_CLI_ARGS, runCli } from './cli-harness.js';

// Child processes compile the CLI with tsx: seconds each on a busy machine.
const CLI_TEST_TIMEOUT_MS = 180_000;

const cli = (args: string[]) => runCli(SOURCE_CLI_ARGS, args);
const dir = mkdtempSync(join(tmpdir(), 'opro-folder-'));

function scriptedModel(): string {
  const path = join(dir, 'model.json');
  const script = {
    modelId: 'scripted-navigator',
    rules: [
      { contains: '<INS>', reply: '<INS>Think carefully, answer Yes or No.</INS> <INS>Reply Yes or No.</INS>' },
      { contains: 'carefully', reply: 'No' },
    ],
    default: 'So the answer is Yes.',
  };
  writeFileSync(path, JSON.stringify(script));
  return `scripted:${path}`;
}

const model = scriptedModel();
const oproArgs = (outputDir: string, extra: string[] = []) => [
  'opro',
  ...['--task', 'bbh:navigate', '--test-mode', '--output-dir', outputDir, '--quiet'],
  ...['--evaluator', model, '--optimizer-llm', model, '--candidates-per-iter', '1', '--num-iterations', '2'],
  ...extra,
];

const listing = (path: string) => (existsSync(path) ? readdirSync(path).sort() : null);

describe('opro output folder', () => {
  it(
    'checks every option before the first write: a refused run leaves the folder untouched',
    async () => {
      const configPath = join(dir, 'bad-config.yaml');
      writeFileSync(configPath, 'top-k: -3\n');
      const typedConfig = (text: string) => {
        const path = join(dir, `typed-${text.length}.yaml`);
        writeFileSync(path, text);
        return path;
      };
      const bad: [string[], RegExp][] = [
        [['--candidates-per-iter', '0'], /^error\[E_BAD_INPUT\]: opro config: candidatesPerIter: /],
        [['--split', 'bogus'], /^error\[E_BAD_INPUT\]: --split must be train, validation \(dev\) or test/],
        [
          ['--initial-prompts-json', join(dir, 'missing.json')],
          /^error\[E_BAD_INPUT\]: cannot read --initial-prompts-json/,
        ],
        // --config values go through the flags' own parsers.
        [['--config', configPath], /^error\[E_BAD_INPUT\]: --config .*bad-config\.yaml: "top-k": --top-k must be/],
        // ... and options without a parser take only the type the flag gives (a string, or true/false).
        [['--config', typedConfig('baseline_prompt: {a: 1}\n')], /: "baseline_prompt" must be a string, got \{"a":1\}/],
        [['--config', typedConfig('low-memory: "yes"\n')], /: "low-memory" must be true or false, got "yes"/],
        // A model string that cannot resolve is refused before the run folder is made.
        [['--evaluator', 'nope:x'], /^error\[E_BAD_INPUT\]: unknown provider "nope" in "nope:x"/],
      ];
      const out = join(dir, 'checked');
      const manifest = join(dir, 'manifest.csv');
      writeFileSync(
        manifest,
        'clip_id,audio_path,label,split\nc0,gone.wav,SPEECH,dev\nc1,gone-too.wav,NON-SPEECH,test\n',
      );
      const audio = ['opro', '--manifest', manifest, '--evaluator', '/models/qwen2-audio', '--output-dir', out];
      const refusedAudio = await cli(audio);
      expect(refusedAudio.code).toBe(1);
      expect(refusedAudio.stderr).toMatch(/^error\[E_FILE_NOT_FOUND\]: .*manifest\.csv: 2 audio files missing/);
      expect(listing(out)).toBeNull();
      for (const [extra, message] of bad) {
        const refused = await cli(oproArgs(out, extra));
        expect(refused.code, extra.join(' ')).toBe(1);
        expect(refused.stderr, extra.join(' ')).toMatch(message);
        expect(listing(out), extra.join(' ')).toBeNull();
      }
      // The folder was never poisoned: a good run starts there afresh.
      const good = await cli(oproArgs(out));
      expect(good.stderr).toBe('');
      expect(good.code).toBe(0);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    "refuses a folder of other files unless --force, and never adds a table to a user's own cache.sqlite",
    async () => {
      const out = join(dir, 'users-folder');
      mkdirSync(out);
      writeFileSync(join(out, 'notes.txt'), 'my notes');
      const user = new Database(join(out, 'cache.sqlite'));
      user.exec("CREATE TABLE mine (x TEXT); INSERT INTO mine VALUES ('kept')");
      user.close();
      const before = listing(out);

      const refused = await cli(oproArgs(out));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^error\[E_BAD_INPUT\]: .* is not empty and holds no opro run \(it holds notes\.txt\)/,
      );
      expect(listing(out)).toEqual(before);

      const forced = await cli(oproArgs(out, ['--force']));
      expect(forced.code).toBe(0);
      expect(forced.stderr).toMatch(/warning: response cache disabled \(.*cache\.sqlite is not a response cache/);
      expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('my notes');
      expect(existsSync(join(out, 'best_prompt.txt'))).toBe(true);
      const reopened = new Database(join(out, 'cache.sqlite'), { readonly: true });
      const tables = reopened.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      reopened.close();
      expect(tables).toEqual([{ name: 'mine' }]);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'resumes past a damaged line in the middle of events.jsonl, keeping the records after it, with a warning',
    async () => {
      const out = join(dir, 'damaged');
      const first = await cli(oproArgs(out));
      expect(first.code).toBe(0);
      const logPath = join(out, 'events.jsonl');
      const lines = readFileSync(logPath, 'utf8').trimEnd().split('\n');
      const steps = lines.filter((line) => line.includes('"type":"step"')).length;
      expect(steps).toBeGreaterThan(3);
      lines[2] = `${lines[2]?.slice(0, 20)}\u0000garbage`;
      writeFileSync(logPath, `${lines.join('\n')}\n`);

      const resumed = await cli(['opro', '--resume', out, '--quiet']);
      expect(resumed.code).toBe(0);
      expect(resumed.stderr).toBe(
        `warning: ${logPath}: skipped 1 damaged line(s) (line 3); kept the ${lines.length - 1} valid records around them\n`,
      );
      expect(resumed.stdout.split('\n').slice(0, 3)).toEqual(first.stdout.split('\n').slice(0, 3));
      // Only the damaged step was redone (its answers came from the cache); every later record was kept.
      const after = readFileSync(logPath, 'utf8').trimEnd().split('\n');
      expect(after.slice(0, lines.length)).toEqual(lines);
      expect(after.slice(lines.length).filter((line) => line.includes('"type":"step"'))).toHaveLength(1);
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
