import { createHash } from 'node:crypto';
import type { GenerateRequest, ScoreChoicesRequest } from '../llm/types.js';

/** Everything that changes a model's answer. Absent options are written as null so that keys are stable. */
export function cacheKeyMaterial(provider: string, modelId: string, request: GenerateRequest): string {
  return JSON.stringify({
    v: 1,
    provider,
    modelId,
    messages: request.messages.map((message) => [message.role, message.content]),
    temperature: request.temperature ?? null,
    topK: request.topK ?? null,
    topP: request.topP ?? null,
    repetitionPenalty: request.repetitionPenalty ?? null,
    seed: request.seed ?? null,
    maxTokens: request.maxTokens ?? null,
    stop: request.stop ?? null,
    thinkingBudget: request.thinkingBudget ?? null,
    sampleIndex: request.sampleIndex ?? 0,
  });
}

/** SHA-256 of the key material, hex. */
export function responseCacheKey(provider: string, modelId: string, request: GenerateRequest): string {
  return createHash('sha256')
    .update(cacheKeyMaterial(provider, modelId, request))
    .digest('hex');
}

/** Everything that changes a choice scoring: the messages and the choices (scoring has no sampling options). */
export function scoreCacheKeyMaterial(provider: string, modelId: string, request: ScoreChoicesRequest): string {
  return JSON.stringify({
    v: 1,
    kind: 'score',
    provider,
    modelId,
    messages: request.messages.map((message) => [message.role, message.content]),
    choices: request.choices,
  });
}

/** SHA-256 of the scoring key material, hex. */
export function scoreCacheKey(provider: string, modelId: string, request: ScoreChoicesRequest): string {
  return createHash('sha256')
    .update(scoreCacheKeyMaterial(provider, modelId, request))
    .digest('hex');
}
