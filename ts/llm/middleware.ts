import type { ModelStream } from './stream-result.js';
import type {
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  ScoreChoicesRequest,
  ScoreChoicesResult,
} from './types.js';

/** Which generation method a request came through (for `transformParams`). */
export type GenerateCall = 'generate' | 'stream' | 'generateBatch';

/**
 * What a wrap hook gets: the request (already through this middleware's `transformParams`), the next model inward,
 * and `next`, which calls that model's same method (with the request unless given another, e.g. a new signal).
 */
export interface WrapCall<Request, Result> {
  request: Request;
  model: LanguageModel;
  next: (request?: Request) => Result;
}

/** What a batch hook gets: as `WrapCall`, with the batch's requests; `next` sends a batch on as one call. */
export interface WrapBatchCall<Request, Result> {
  requests: Request[];
  model: LanguageModel;
  next: (requests?: Request[]) => Promise<Result[]>;
}

/**
 * A decorator of one LanguageModel concern (cache, budget, retries, metering, request defaults), written as hooks
 * around the model's methods. Every hook is optional: a method without one goes straight to the next model, so a
 * batch stays one call unless its hook says otherwise. Scorer hooks run only where the wrapped model scores.
 */
export interface LanguageModelMiddleware {
  /** Names the middleware in a wrapped model's chain (see `findMiddleware`). */
  readonly name?: string;
  /** Rewrites each generation request before the wrap hooks and the next model see it; scoring requests pass. */
  transformParams?(request: GenerateRequest, context: { call: GenerateCall; model: LanguageModel }): GenerateRequest;
  wrapGenerate?(call: WrapCall<GenerateRequest, Promise<GenerateResult>>): Promise<GenerateResult>;
  wrapStream?(call: WrapCall<GenerateRequest, ModelStream>): ModelStream;
  wrapGenerateBatch?(call: WrapBatchCall<GenerateRequest, GenerateResult>): Promise<GenerateResult[]>;
  wrapScoreChoices?(call: WrapCall<ScoreChoicesRequest, Promise<ScoreChoicesResult>>): Promise<ScoreChoicesResult>;
  wrapScoreChoicesBatch?(call: WrapBatchCall<ScoreChoicesRequest, ScoreChoicesResult>): Promise<ScoreChoicesResult[]>;
}

/** A model built by `wrapLanguageModel`: the model it wraps and its middleware, outermost first. */
export interface WrappedLanguageModel extends LanguageModel {
  readonly wrapped: LanguageModel;
  readonly middleware: readonly LanguageModelMiddleware[];
}

/**
 * Wraps `model` in `middleware`; the first listed is the outermost: it transforms a request first and sees the
 * result last, and the last listed sits directly on the model. `wrapLanguageModel(m, cache, budget)` is
 * cache(budget(m)): cache hits never reach the budget. The result keeps the model's provider, id and dispose, and
 * offers `scoreChoices` / `scoreChoicesBatch` exactly when the model does.
 */
export function wrapLanguageModel(
  model: LanguageModel,
  ...middleware: LanguageModelMiddleware[]
): WrappedLanguageModel {
  // With no middleware there is still one (pass-through) layer, so the result is never `model` itself.
  const layers = middleware.length > 0 ? middleware : [{}];
  const layered = layers.reduceRight<LanguageModel>(wrapOnce, model);
  return Object.assign(layered, { wrapped: model, middleware: Object.freeze([...middleware]) });
}

/** The middleware called `name` in a wrapped model's chain, outermost first, looking through nested wrappings. */
export function findMiddleware(model: LanguageModel, name: string): LanguageModelMiddleware | undefined {
  for (let current: LanguageModel | undefined = model; current; current = wrappedBy(current)?.wrapped) {
    const found = wrappedBy(current)?.middleware.find((layer) => layer.name === name);
    if (found) return found;
  }
  return undefined;
}

function wrappedBy(model: LanguageModel): WrappedLanguageModel | undefined {
  return 'middleware' in model && 'wrapped' in model ? (model as WrappedLanguageModel) : undefined;
}

/** One layer: `layer`'s hooks around `inner`'s methods. */
function wrapOnce(inner: LanguageModel, layer: LanguageModelMiddleware): LanguageModel {
  const transform = (request: GenerateRequest, call: GenerateCall) =>
    layer.transformParams?.(request, { call, model: inner }) ?? request;
  const wrapped: LanguageModel = {
    specificationVersion: inner.specificationVersion,
    provider: inner.provider,
    modelId: inner.modelId,
    generate: (request) =>
      through(layer.wrapGenerate?.bind(layer), inner, transform(request, 'generate'), (r) => inner.generate(r)),
    stream: (request) =>
      through(layer.wrapStream?.bind(layer), inner, transform(request, 'stream'), (r) => inner.stream(r)),
    generateBatch: (requests) =>
      throughBatch(
        layer.wrapGenerateBatch?.bind(layer),
        inner,
        requests.map((request) => transform(request, 'generateBatch')),
        (batch) => inner.generateBatch(batch),
      ),
  };
  const scoreChoices = inner.scoreChoices?.bind(inner);
  if (scoreChoices) {
    wrapped.scoreChoices = (request) => through(layer.wrapScoreChoices?.bind(layer), inner, request, scoreChoices);
  }
  const scoreChoicesBatch = inner.scoreChoicesBatch?.bind(inner);
  if (scoreChoicesBatch) {
    wrapped.scoreChoicesBatch = (requests) =>
      throughBatch(layer.wrapScoreChoicesBatch?.bind(layer), inner, requests, scoreChoicesBatch);
  }
  if (inner.dispose) wrapped.dispose = inner.dispose.bind(inner);
  return wrapped;
}

function through<Request, Result>(
  hook: ((call: WrapCall<Request, Result>) => Result) | undefined,
  model: LanguageModel,
  request: Request,
  call: (request: Request) => Result,
): Result {
  if (!hook) return call(request);
  return hook({ request, model, next: (changed = request) => call(changed) });
}

function throughBatch<Request, Result>(
  hook: ((call: WrapBatchCall<Request, Result>) => Promise<Result[]>) | undefined,
  model: LanguageModel,
  requests: Request[],
  call: (requests: Request[]) => Promise<Result[]>,
): Promise<Result[]> {
  if (!hook) return call(requests);
  return hook({ requests, model, next: (changed = requests) => call(changed) });
}
