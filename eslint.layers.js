/**
 * The layers of ts/, lowest first (docs/architecture.md): a folder may import from its own layer and the layers below,
 * never from one above. Each folder gets a `no-restricted-imports` rule naming the folders above it.
 */
export const LAYERS = [
  ['run', 'models', 'datasets', 'minigrid', 'sandbox'],
  ['llm', 'native', 'metrics'],
  ['tasks', 'audio'],
  ['optimizers', 'optimize'],
  ['bench', 'report', 'serve'],
  ['cli'],
];

/**
 * Upward imports allowed for one file each: file → the higher folders it may still import. Empty since issue 12
 * moved the last ones; a new entry needs a written reason.
 */
export const KNOWN_UPWARD_IMPORTS = {};

function restriction(folder, forbidden, subject = `ts/${folder}/ sits below`) {
  return [
    'error',
    {
      patterns: [
        {
          group: forbidden.map((name) => `**/${name}/**`),
          message: `${subject} ${forbidden.join(', ')} in the layer order (docs/architecture.md): import downward only.`,
        },
      ],
    },
  ];
}

/**
 * Flat-config blocks: one for the files directly in ts/ (errors.ts, language-model.ts, …: the base every layer
 * imports, which imports no folder; index.ts, the public API, is the top), one per folder, then one per known
 * exception (which replaces its folder's rule).
 */
export function layerRules(exceptions = KNOWN_UPWARD_IMPORTS) {
  const blocks = [
    {
      files: ['ts/*.ts'],
      ignores: ['ts/index.ts'],
      rules: { 'no-restricted-imports': restriction('', LAYERS.flat(), 'the files directly in ts/ sit below') },
    },
  ];
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
  for (const [file, allowed] of Object.entries(exceptions)) {
    const folder = file.split('/')[1];
    const forbidden = above(layerOf(folder)).filter((name) => !allowed.includes(name));
    blocks.push({ files: [file], rules: { 'no-restricted-imports': restriction(folder, forbidden) } });
  }
  return blocks;
}
