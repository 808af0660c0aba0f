/**
 * The layers of ts/, lowest first (docs/architecture.md): a folder may import from its own layer and the layers below,
 * never from one above. Each folder gets a `no-restricted-imports` rule naming the folders above it.
 */
export const LAYERS = [
  ['run', 'models', 'datasets', 'minigrid'],
  ['llm', 'native', 'metrics'],
  ['tasks', 'data'],
  ['optimizers'],
  ['bench', 'report', 'serve'],
  ['cli'],
];

/**
 * Upward imports that predate the rule, each allowed for its file only until it is moved (issue 12): file → the
 * higher folders it may still import. New entries need a reason; the list should only shrink.
 */
export const KNOWN_UPWARD_IMPORTS = {
  // LanguageModel usage types: the run controls meter model calls.
  'ts/run/budget.ts': ['llm'],
  'ts/run/cache-key.ts': ['llm'],
  'ts/run/cache.ts': ['llm'],
  // The audio evaluator implements the optimizers' PromptEvaluator seam; audio is to move into one folder.
  'ts/data/audio-evaluator.ts': ['optimizers'],
  'ts/datasets/audio-manifest.ts': ['data'],
  'ts/native/audio-model.ts': ['data'],
  // GSM8K's answer parsing lives with the task metrics.
  'ts/datasets/gsm8k.ts': ['tasks'],
};

function restriction(folder, forbidden) {
  return [
    'error',
    {
      patterns: [
        {
          group: forbidden.map((name) => `**/${name}/**`),
          message: `ts/${folder}/ sits below ${forbidden.join(', ')} in the layer order (docs/architecture.md): import downward only.`,
        },
      ],
    },
  ];
}

/** Flat-config blocks: one per folder, then one per known exception (which replaces its folder's rule). */
export function layerRules() {
  const blocks = [];
  const above = (index) => LAYERS.slice(index + 1).flat();
  const layerOf = (folder) => LAYERS.findIndex((layer) => layer.includes(folder));
  for (const [index, layer] of LAYERS.entries()) {
    for (const folder of layer) {
      if (above(index).length === 0) continue;
      blocks.push({
        files: [`ts/${folder}/**/*.ts`],
        rules: { 'no-restricted-imports': restriction(folder, above(index)) },
      });
    }
  }
  for (const [file, allowed] of Object.entries(KNOWN_UPWARD_IMPORTS)) {
    const folder = file.split('/')[1];
    const forbidden = above(layerOf(folder)).filter((name) => !allowed.includes(name));
    blocks.push({ files: [file], rules: { 'no-restricted-imports': restriction(folder, forbidden) } });
  }
  return blocks;
}
