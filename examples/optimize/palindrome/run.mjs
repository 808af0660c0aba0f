// The rubric example: the model rewrites a sentence to score higher with an LLM judge on "is a palindrome". A
// deterministic palindrome check is recorded beside every judged candidate, to show where the judge is wrong (the
// original's judge rated a non-palindrome 10/10).
//   npm run build:ts && node examples/optimize/palindrome/run.mjs [--model native:default] [--steps 3]
import { parseArgs } from 'node:util';
import { createLanguageModel, llmScorer, optimize } from 'opt-native';
import { runSummary } from '../run-summary.mjs';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'native:default' },
    judge: { type: 'string' },
    steps: { type: 'string', default: '3' },
    proposals: { type: 'string', default: '2' },
    samples: { type: 'string', default: '1' },
  },
});
const RUBRIC =
  'The candidate must be a palindrome: it reads the same forwards and backwards, ignoring case, spaces and ' +
  'punctuation. 10 = a perfect palindrome that is also a meaningful English sentence; 0 = not a palindrome.';

/** The ground truth beside the judge. */
export function isPalindrome(text) {
  const letters = text.toLowerCase().replace(/[^a-z0-9]/g, '');
  return letters.length > 0 && letters === [...letters].reverse().join('');
}

const model = await createLanguageModel(values.model);
const judgeModel = values.judge ? await createLanguageModel(values.judge) : model;
/** The judge's calls happen inside f, outside the optimizer's usage: counted here. */
const judgeUsage = { calls: 0, tokens: 0 };
const countedJudge = {
  ...judgeModel,
  generate: async (request) => {
    const reply = await judgeModel.generate(request);
    judgeUsage.calls += 1;
    judgeUsage.tokens += reply.usage.promptTokens + reply.usage.completionTokens;
    return reply;
  },
};
const judge = llmScorer(RUBRIC, { model: countedJudge, samples: Number(values.samples) });
const judged = [];
const f = async (x) => {
  const verdict = await judge(x.trim());
  judged.push({ x: x.trim(), judge: verdict.score, palindrome: isPalindrome(x) });
  return verdict;
};
try {
  const result = await optimize.run(
    `Write one English sentence. ${RUBRIC}`,
    'What is the next sentence to try such that the judge scores it higher?',
    f,
    'The cat sat on the mat.',
    {
      model,
      maxSteps: Number(values.steps),
      proposalsPerStep: Number(values.proposals),
      maxTokens: 200,
      onProgress: (p) =>
        console.error(`[palindrome ${p.iteration}/${p.totalIterations}] best ${p.bestScore} · ${p.message}`),
    },
  );
  const wronglyRatedHigh = judged.filter((entry) => !entry.palindrome && entry.judge >= 8).length;
  console.log(
    JSON.stringify(
      {
        start: result.history[0]?.score ?? null,
        best: result.bestScore,
        bestX: result.bestX,
        bestIsPalindrome: isPalindrome(result.bestX),
        nonPalindromesJudged8OrMore: wronglyRatedHigh,
        judged,
        ...runSummary(result),
        judgeCalls: judgeUsage.calls,
        judgeTokens: judgeUsage.tokens,
      },
      null,
      2,
    ),
  );
} finally {
  await model.dispose?.();
  if (judgeModel !== model) await judgeModel.dispose?.();
}
