export { loadDataset, parseDatasetSpec, registerDatasetLoader, registeredDatasetPrefixes } from './registry.js';
export { listBbhTasks } from './bbh.js';
export { DATASETS_ROOT_ENV, resolveDatasetsRoot } from './root.js';
export { SeededRandom, deriveSeed } from '../random.js';
export * from './types.js';
