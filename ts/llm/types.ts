// The LanguageModel interface is defined below every layer (ts/language-model.ts), so that run/ can meter and cache
// model calls; llm/ is where providers and callers find it.
export * from '../language-model.js';
