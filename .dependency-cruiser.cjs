/**
 * The rooms of src/ and which way the arrows run (docs/architecture.md, "Layers"). A folder may
 * import folders of lower layers only — never one of its own layer or above — and no module may
 * take part in an import cycle. `npm run deps` checks it; .ci/run runs it.
 */
const LAYERS = [
  ['core'], // clock, errors, ids, cursors: no imports from src
  ['config', 'profiles', 'event-types', 'verify', 'web'],
  ['db', 'rules', 'tracing'], // rules: fan-out, filters, retry schedule, attempt budget (pure); tracing: OpenTelemetry
  ['security', 'queue'], // queue: the queue's SQL (claim, record, release)
  ['endpoints'], // endpoint validation
  ['store'], // SQL per resource
  ['publish'], // publishing: validation, fan-out, its statements, the handoff's port
  ['metrics'],
  ['delivery'], // the dispatcher and its parts
  ['api'],
  ['client', 'server'],
  ['cli'],
];

const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i])));

const layerRules = [...rank].map(([folder, i]) => {
  const notBelow = [...rank].filter(([other, j]) => other !== folder && j >= i).map(([other]) => other);
  return {
    name: `layer-${folder}`,
    comment: `src/${folder} may import only folders of lower layers (.dependency-cruiser.cjs)`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: `^src/(${notBelow.join('|')})/` },
  };
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: two modules that cannot be understood one without the other',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'unknown-folder',
      comment: 'every folder of src/ has a layer in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${[...rank.keys()].join('|')})/|^src/index\\.ts$` },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
