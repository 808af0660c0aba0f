// A LanguageModel that lives in an ExclusiveResidency (low-memory mode): each call makes its model resident first,
// so the optimizer LLM and the evaluator are never in memory together.
import { OptNativeError } from '../errors.js';
import type { ExclusiveResidency, ResidentLoader } from '../run/exclusive-residency.js';
import { createModelStream, type ModelStream } from './stream-result.js';
import {
  LANGUAGE_MODEL_SPEC_VERSION,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ScoreChoicesRequest,
  type ScoreChoicesResult,
} from './types.js';

type ScoringMethod = 'scoreChoices' | 'scoreChoicesBatch';

/** A reloaded model comes from the same loader as the first, so it scores whenever the first did. */
function scorerOf<M extends ScoringMethod>(model: LanguageModel, method: M): NonNullable<LanguageModel[M]> {
  const scorer = model[method];
  if (!scorer) throw new OptNativeError('E_INTERNAL', `${model.modelId}: the reloaded model has no ${method}`);
  return scorer.bind(model) as NonNullable<LanguageModel[M]>;
}

class ResidentLanguageModel implements LanguageModel {
  readonly specificationVersion = LANGUAGE_MODEL_SPEC_VERSION;
  readonly provider: string;
  readonly modelId: string;
  readonly scoreChoices?: (request: ScoreChoicesRequest) => Promise<ScoreChoicesResult>;
  readonly scoreChoicesBatch?: (requests: ScoreChoicesRequest[]) => Promise<ScoreChoicesResult[]>;

  constructor(
    private readonly residency: ExclusiveResidency,
    private readonly key: string,
    private readonly load: ResidentLoader<LanguageModel>,
    loaded: LanguageModel,
  ) {
    this.provider = loaded.provider;
    this.modelId = loaded.modelId;
    if (loaded.scoreChoices) {
      this.scoreChoices = (request) => this.call((model) => scorerOf(model, 'scoreChoices')(request));
    }
    if (loaded.scoreChoicesBatch) {
      this.scoreChoicesBatch = (requests) => this.call((model) => scorerOf(model, 'scoreChoicesBatch')(requests));
    }
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.call((model) => model.generate(request));
  }

  stream(request: GenerateRequest): ModelStream {
    return createModelStream((emit) =>
      this.call(async (model) => {
        const stream = model.stream(request);
        for await (const chunk of stream) emit(chunk.delta);
        return stream.result;
      }),
    );
  }

  generateBatch(requests: GenerateRequest[]): Promise<GenerateResult[]> {
    return this.call((model) => model.generateBatch(requests));
  }

  dispose(): Promise<void> {
    return this.residency.evict(this.key);
  }

  private call<T>(work: (model: LanguageModel) => Promise<T>): Promise<T> {
    return this.residency.use(this.key, this.load, work);
  }
}

/**
 * Loads the model `key` now (making it the resident one: what it can do, scoring or not, is read off the loaded
 * instance) and returns a LanguageModel that reloads it whenever a call finds another model resident.
 */
export async function residentLanguageModel(
  residency: ExclusiveResidency,
  key: string,
  load: ResidentLoader<LanguageModel>,
): Promise<LanguageModel> {
  const loaded = await residency.use(key, load, (model) => Promise.resolve(model));
  return new ResidentLanguageModel(residency, key, load, loaded);
}
