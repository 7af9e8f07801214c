/**
 * Dependency rules of architecture.md §10, checked by `npm test` (scripts/test.mjs, step "deps"):
 *   depcruise --config .dependency-cruiser.cjs bin lib services test bench
 * Layering rules apply to production code; tests (`test/**`, `*.test.ts`) and benchmarks may reach
 * anything, since they exercise the layers from outside. Paths are relative to the repo root.
 */

/** Tests and benchmarks: exempt from the layering rules (not from the `natural` main-entry rule). */
const TEST_OR_BENCH = '(^test/|^bench/|\\.test\\.ts$)';
/** Our own production code (what "imports nothing of ours" means). */
const OURS = '^(lib|services|bin)/';
/** Node built-ins that do I/O: forbidden in pure modules. */
const IO_BUILTINS = '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|tls|child_process|cluster|worker_threads|dns)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'common-imports-nothing-of-ours',
      comment: 'lib/common is the bottom layer: every other module may use it, so it may use none of them.',
      severity: 'error',
      from: { path: '^lib/common/', pathNot: TEST_OR_BENCH },
      to: { path: OURS, pathNot: '^lib/common/' },
    },
    {
      name: 'translog-only-common',
      comment: 'lib/translog depends on lib/common only (plus msgpackr).',
      severity: 'error',
      from: { path: '^lib/translog/', pathNot: TEST_OR_BENCH },
      to: { path: OURS, pathNot: '^lib/(common|translog)/' },
    },
    {
      name: 'segments-only-common',
      comment: 'lib/segments takes analysed terms: it never imports analysis, translog, query or search (only lib/common, lmdb, msgpackr).',
      severity: 'error',
      from: { path: '^lib/segments/', pathNot: TEST_OR_BENCH },
      to: { path: OURS, pathNot: '^lib/(common|segments)/' },
    },
    {
      name: 'query-and-cluster-are-pure',
      comment: 'lib/query and lib/cluster are pure (testable without disk or network): no I/O built-ins, no lmdb/express, no I/O layers of ours.',
      severity: 'error',
      from: { path: '^lib/(query|cluster)/', pathNot: TEST_OR_BENCH },
      to: {
        path: [IO_BUILTINS, '(^|/)node_modules/(lmdb|express|pino)/', '^lib/(segments|translog|search|transport)/', '^(services|bin)/'],
      },
    },
    {
      name: 'search-layers',
      comment:
        'lib/search runs queries over segments: it may use segments, query, analysis and common; also lib/mapping ' +
        '(not in architecture.md: the schema that says how a field is analysed, a sibling of analysis).',
      severity: 'error',
      from: { path: '^lib/search/', pathNot: TEST_OR_BENCH },
      to: { path: OURS, pathNot: '^lib/(search|segments|query|analysis|mapping|common|cluster)/' },
    },
    {
      name: 'search-uses-cluster-types-only',
      comment: "lib/search may name the shard request/result types of lib/cluster's vocabulary (type-only, erased at build), never its code.",
      severity: 'error',
      from: { path: '^lib/search/', pathNot: TEST_OR_BENCH },
      to: { path: '^lib/cluster/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'lib-never-imports-services',
      comment: 'Libraries sit below services and the CLI.',
      severity: 'error',
      from: { path: '^lib/', pathNot: TEST_OR_BENCH },
      to: { path: '^(services|bin)/' },
    },
    {
      name: 'services-never-import-each-other',
      comment: 'Services share only the vocabulary of lib/cluster; the admin page reaches the server by HTTP only.',
      severity: 'error',
      from: { path: '^services/([^/]+)/', pathNot: TEST_OR_BENCH },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'master-owns-no-shard-data',
      comment: 'The master manages cluster state; shard storage and search belong to data nodes.',
      severity: 'error',
      from: { path: '^services/master/', pathNot: TEST_OR_BENCH },
      to: { path: '^lib/(segments|translog|search)/' },
    },
    {
      name: 'natural-only-in-analysis',
      comment: 'natural is an analysis detail.',
      severity: 'error',
      from: { pathNot: ['^lib/analysis/', TEST_OR_BENCH] },
      to: { path: '(^|/)node_modules/natural/' },
    },
    {
      name: 'no-natural-main-entry',
      comment: "natural's main entry loads every module it has (WordNet, classifiers, ...): import the stemmer or tokenizer file you need.",
      severity: 'error',
      from: {},
      to: { path: '(^|/)node_modules/natural/(index\\.js|lib/natural/index\\.js)$' },
    },
    {
      name: 'lmdb-only-in-segments-and-master',
      comment: 'LMDB is the storage of shard segments and of the master state store, nowhere else.',
      severity: 'error',
      from: { pathNot: ['^lib/segments/', '^services/master/', TEST_OR_BENCH] },
      to: { path: '(^|/)node_modules/lmdb/' },
    },
    {
      name: 'express-only-in-coordinator',
      comment: 'The HTTP framework stays in the REST layer.',
      severity: 'error',
      from: { pathNot: ['^services/coordinator/', TEST_OR_BENCH] },
      to: { path: '(^|/)node_modules/(express|@types/express)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    // Type-only imports count too: `import type { Request } from 'express'` outside the coordinator is still a layering leak.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
