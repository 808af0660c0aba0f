// The `native:` provider: a LanguageModel over the addon's Qwen model (ts/native/text-model.ts).
import { OptNativeError } from '../errors.js';
import { resolveModel, type ResolveOptions } from '../models/resolve.js';
import { checkInteger, checkSeed } from '../numbers.js';
import {
  NativeModel,
  type NativeChatMessage,
  type NativeGenerateOptions,
  type NativeGenerateResult,
  type NativeScoreChoicesResult,
} from '../native/text-model.js';
import { anySignal } from './any-signal.js';
import {
  adaptedModelId,
  adapterSha256,
  checkAdapterHash,
  splitNativeSpec,
  type NativeModelRef,
} from './native-adapter.js';
import { registerNativeLoader } from './registry.js';
import { createModelStream, type ModelStream } from './stream-result.js';
import { textMessages } from './text-messages.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ScoreChoicesRequest,
  type ScoreChoicesResult,
} from './types.js';

/** Default completion length when a request sets no `maxTokens`. */
export const NATIVE_DEFAULT_MAX_TOKENS = 512;

/**
 * A LanguageModel request → the addon's options. `sampleIndex` shifts the seed so repeated samples differ. Integer
 * options are range-checked here (and again in the addon), so nothing wraps at the u32 boundary.
 */
export function toNativeGenerateOptions(request: GenerateRequest): NativeGenerateOptions {
  const seed = request.seed === undefined && request.sampleIndex === undefined ? undefined : (request.seed ?? 0);
  return {
    messages: textMessages(request.messages, 'native'),
    maxTokens: checkInteger('maxTokens', request.maxTokens ?? NATIVE_DEFAULT_MAX_TOKENS, { min: 1 }),
    temperature: request.temperature,
    topK: request.topK === undefined ? undefined : checkInteger('topK', request.topK),
    topP: request.topP,
    repetitionPenalty: request.repetitionPenalty,
    seed: seed === undefined ? undefined : checkSeed('seed', seed + (request.sampleIndex ?? 0)),
    stop: request.stop,
  };
}

function toFinishReason(reason: string): FinishReason {
  return reason === 'stop' || reason === 'length' ? reason : 'other';
}

export function fromNativeGenerateResult(result: NativeGenerateResult, modelId: string): GenerateResult {
  return {
    text: result.text,
    usage: { promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens },
    finishReason: toFinishReason(result.finishReason),
    modelId,
  };
}

/** The addon's scores → a ScoreChoicesResult naming the choices as the request spelled them. */
export function fromNativeScores(
  scored: NativeScoreChoicesResult,
  choices: string[],
  modelId: string,
): ScoreChoicesResult {
  const best = choices[scored.best];
  if (best === undefined) throw new OptNativeError('E_INTERNAL', 'the native scorer returned no best choice');
  return {
    scores: scored.choices.map((choice, index) => ({
      choice: choices[index] ?? choice.text,
      logprob: choice.logprob,
      probability: choice.probability,
      tokenCount: choice.tokenIds.length,
    })),
    best,
    usage: { promptTokens: scored.usage.promptTokens, completionTokens: scored.usage.completionTokens },
    modelId,
  };
}

function nativeMessages(request: ScoreChoicesRequest): NativeChatMessage[] {
  return textMessages(request.messages, 'native');
}

/** Indices of the requests grouped by identical choice lists, groups in order of first appearance. */
export function groupByChoices(requests: ScoreChoicesRequest[]): number[][] {
  const groups = new Map<string, number[]>();
  requests.forEach((request, index) => {
    const key = JSON.stringify(request.choices);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  return [...groups.values()];
}

export class NativeLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider = 'native';

  constructor(
    readonly model: NativeModel,
    readonly modelId: string,
  ) {}

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const result = await this.model.generate(toNativeGenerateOptions(request), { signal: request.signal });
    return fromNativeGenerateResult(result, this.modelId);
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream(async (emit) => {
      const tokens = this.model.stream(toNativeGenerateOptions(request), { signal: request.signal });
      for await (const piece of tokens) emit(piece);
      return fromNativeGenerateResult(await tokens.result, this.modelId);
    });
  }

  async generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    if (requests.length === 0) return [];
    const results = await this.model.generateBatch(requests.map(toNativeGenerateOptions), {
      signal: anySignal(requests.map((request) => request.signal)),
    });
    return results.map((result) => fromNativeGenerateResult(result, this.modelId));
  }

  async scoreChoices(request: ScoreChoicesRequest): Promise<ScoreChoicesResult> {
    const scored = await this.model.scoreChoices(
      { messages: nativeMessages(request), choices: request.choices },
      { signal: request.signal },
    );
    return fromNativeScores(scored, request.choices, this.modelId);
  }

  /** One native call per distinct choice list; each shares its prompts' common token prefix. */
  async scoreChoicesBatch(requests: ScoreChoicesRequest[]): Promise<ScoreChoicesResult[]> {
    const results: ScoreChoicesResult[] = new Array(requests.length);
    for (const group of groupByChoices(requests)) {
      const members = group.map((index) => requests[index] as ScoreChoicesRequest);
      const choices = (members[0] as ScoreChoicesRequest).choices;
      const scored = await this.model.scoreChoicesBatch(
        { prompts: members.map((request) => ({ messages: nativeMessages(request) })), choices },
        { signal: anySignal(members.map((request) => request.signal)) },
      );
      group.forEach((requestIndex, k) => {
        const one = scored[k];
        if (!one) throw new OptNativeError('E_INTERNAL', 'the native scorer returned too few results');
        results[requestIndex] = fromNativeScores(one, choices, this.modelId);
      });
    }
    return results;
  }

  dispose(): Promise<void> {
    return this.model.dispose();
  }
}

export interface NativeProviderOptions extends ResolveOptions {
  device?: 'cpu' | 'cuda';
  deviceIndex?: number;
  dtype?: 'f32' | 'f16' | 'bf16';
  /** Dense (safetensors) projections held 4-bit (Q4_0), quantized at load; GGUF weights are quantized already. */
  loadIn4bit?: boolean;
  /** tokenizer.json; default: next to the weights, else the bundled Qwen2.5 tokenizer for GGUF files. */
  tokenizerPath?: string;
}

/**
 * Resolves `spec` (`default`, a path, `Org/Name`, each optionally with `?adapter=DIR`) and loads it as a LanguageModel
 * named `native:<spec>`; with an adapter the name also carries `&sha256=<hash of the adapter weights>`.
 */
export async function loadNativeLanguageModel(
  spec: string | NativeModelRef,
  options: NativeProviderOptions = {},
): Promise<NativeLanguageModel> {
  const ref = typeof spec === 'string' ? splitNativeSpec(spec) : spec;
  const resolved = await resolveModel(ref.model, options);
  const model = await NativeModel.load(resolved.path, {
    device: options.device,
    deviceIndex: options.deviceIndex,
    dtype: options.dtype,
    loadIn4bit: options.loadIn4bit,
    tokenizerPath: options.tokenizerPath ?? resolved.tokenizerPath,
    adapter: ref.adapter,
    signal: options.signal,
  });
  if (ref.adapter === undefined) return new NativeLanguageModel(model, `native:${ref.model}`);
  try {
    const sha256 = await adapterSha256(ref.adapter);
    checkAdapterHash(ref, sha256);
    return new NativeLanguageModel(model, adaptedModelId(ref.model, ref.adapter, sha256));
  } catch (error) {
    await model.dispose();
    throw error;
  }
}

registerNativeLoader((spec, options) =>
  loadNativeLanguageModel(
    { model: 'path' in spec ? spec.path : spec.name, adapter: spec.adapter, sha256: spec.sha256 },
    options as NativeProviderOptions,
  ),
);
