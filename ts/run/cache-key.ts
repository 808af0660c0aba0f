import { createHash } from 'node:crypto';
import type { ChatMessage, GenerateRequest, ScoreChoicesRequest } from '../language-model.js';

const audioDigests = new WeakMap<Float32Array, string>();

/** SHA-256 of a clip's samples, hex; computed once per array (every candidate prompt hears the same clips). */
function audioDigest(samples: Float32Array): string {
  let digest = audioDigests.get(samples);
  if (digest === undefined) {
    digest = createHash('sha256')
      .update(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength))
      .digest('hex');
    audioDigests.set(samples, digest);
  }
  return digest;
}

/** Role and content, and the digest of the clip when the message carries one (text keys keep their old form). */
function messageKey(message: ChatMessage): string[] {
  const text = [message.role, message.content];
  return message.audio === undefined ? text : [...text, `audio:${audioDigest(message.audio)}`];
}

/** Everything that changes a model's answer. Absent options are written as null so that keys are stable. */
export function cacheKeyMaterial(provider: string, modelId: string, request: GenerateRequest): string {
  return JSON.stringify({
    v: 1,
    provider,
    modelId,
    messages: request.messages.map(messageKey),
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
    messages: request.messages.map(messageKey),
    choices: request.choices,
  });
}

/** SHA-256 of the scoring key material, hex. */
export function scoreCacheKey(provider: string, modelId: string, request: ScoreChoicesRequest): string {
  return createHash('sha256')
    .update(scoreCacheKeyMaterial(provider, modelId, request))
    .digest('hex');
}
