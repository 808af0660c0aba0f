/** US dollars per million tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/**
 * List prices of common hosted models (USD per 1M tokens). Local models (native, a local vLLM) cost 0. Override or
 * extend with `Budget({ prices })` — providers change prices, so a run should pin what it assumed.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'claude-3-5-haiku-latest': { inputPerMillion: 0.8, outputPerMillion: 4 },
  'claude-sonnet-4-0': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-opus-4-0': { inputPerMillion: 15, outputPerMillion: 75 },
};

/** Cost in dollars of one call; models missing from the table cost 0 (local models). */
export function costOfCall(
  prices: Readonly<Record<string, ModelPrice>>,
  modelId: string,
  usage: { promptTokens: number; completionTokens: number },
): number {
  const price = prices[modelId];
  if (!price) return 0;
  return (usage.promptTokens * price.inputPerMillion + usage.completionTokens * price.outputPerMillion) / 1_000_000;
}
