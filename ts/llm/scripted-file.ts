import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { OptNativeError } from '../errors.js';
import { ScriptedLanguageModel } from './scripted.js';
import type { GenerateRequest } from './types.js';

/**
 * Test-only model string `scripted:<path-to-json>`: a stateless script, so that CLI tests (and resumed runs) get the
 * same reply for the same request. Each rule matches when the last user message contains all of its strings; the
 * first matching rule replies, else `default`. `delayMs` slows every call (to kill a run mid-way in tests).
 * Choices are scored from the same reply: the choice it names first scores 0, the others -5 (so `score` evaluation
 * picks what the script would have answered).
 */
const scriptSchema = z
  .object({
    modelId: z.string().default('scripted-file'),
    rules: z
      .array(
        z
          .object({
            contains: z.union([z.string(), z.array(z.string())]),
            reply: z.string().optional(),
            error: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    default: z.string().default(''),
    delayMs: z.number().int().nonnegative().default(0),
  })
  .strict();

export type ModelScript = z.infer<typeof scriptSchema>;

function replyFor(script: ModelScript, request: GenerateRequest): string {
  const content = request.messages[request.messages.length - 1]?.content ?? '';
  for (const rule of script.rules) {
    const needles = Array.isArray(rule.contains) ? rule.contains : [rule.contains];
    if (!needles.every((needle) => content.includes(needle))) continue;
    if (rule.error !== undefined) throw new OptNativeError('E_PROVIDER', rule.error);
    return rule.reply ?? '';
  }
  return script.default;
}

/** Log-probabilities of the choices: 0 for the one the reply names first (as a whole word), -5 for the rest. */
export function scriptedChoiceLogprobs(reply: string, choices: readonly string[]): number[] {
  const positions = choices.map((choice) => {
    const escaped = choice.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const match = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').exec(reply);
    return match ? match.index : Infinity;
  });
  const first = Math.min(...positions);
  return positions.map((position) => (position === first && first !== Infinity ? 0 : -5));
}

/** Builds the scripted model a JSON script file describes. */
export function loadScriptedModelFile(path: string): ScriptedLanguageModel {
  let script: ModelScript;
  try {
    script = scriptSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new OptNativeError('E_BAD_INPUT', `bad model script ${path}: ${(error as Error).message}`, { cause: error });
  }
  return new ScriptedLanguageModel({
    modelId: script.modelId,
    respond: async (request) => {
      if (script.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, script.delayMs));
      return replyFor(script, request);
    },
    scoreChoices: (request) => scriptedChoiceLogprobs(replyFor(script, request), request.choices),
  });
}
