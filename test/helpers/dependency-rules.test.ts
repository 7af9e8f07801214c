/**
 * The dependency rules of .dependency-cruiser.cjs really fire: a scratch tree with one violation per
 * rule is cruised with the real config, and every rule must report (a rule that never fires guards nothing).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from './index.js';

const FILES: Record<string, string> = {
  'lib/common/c.ts': "import { y } from '../translog/t.js'; export const z = y;",
  'lib/translog/t.ts': "import { s } from '../search/s.js'; export const y = s;",
  'lib/search/s.ts': "import { a } from '../../services/coordinator/a.js'; import type { K } from '../cluster/types.js'; export const s: K = a;",
  'lib/search/s2.ts': "import { k } from '../cluster/types.js'; export const s2 = k;",
  'lib/cluster/types.ts': "export type K = number; export const k = 1;",
  'lib/segments/seg.ts': "import { q } from '../query/q.js'; export const g = q;",
  'lib/query/q.ts': "import { open } from 'lmdb'; import * as fs from 'node:fs'; export const q = [open, fs];",
  'lib/analysis/ok.ts': "import { PorterStemmer } from 'natural/lib/natural/stemmers/porter_stemmer.js'; export const p = PorterStemmer;",
  'lib/analysis/main-entry.ts': "import natural from 'natural'; export const n = natural;",
  'lib/cluster/k.ts': "import express from 'express'; export const e = express;",
  'services/master/m.ts': "import { y } from '../../lib/translog/t.js'; import { a } from '../coordinator/a.js'; export const m = [y, a];",
  'services/coordinator/a.ts': "import express from 'express'; export const a = express;",
  'services/data-node/d.ts': "import { PorterStemmer } from 'natural/lib/natural/stemmers/porter_stemmer.js'; export const d = PorterStemmer;",
  'test/anything.ts': "import { open } from 'lmdb'; import express from 'express'; export const t = [open, express];",
};

const EXPECTED_RULES = [
  'common-imports-nothing-of-ours',
  'translog-only-common',
  'segments-only-common',
  'query-and-cluster-are-pure',
  'search-layers',
  'search-uses-cluster-types-only',
  'lib-never-imports-services',
  'services-never-import-each-other',
  'master-owns-no-shard-data',
  'natural-only-in-analysis',
  'no-natural-main-entry',
  'lmdb-only-in-segments-and-master',
  'express-only-in-coordinator',
];

describe('dependency rules', () => {
  it('reports every rule on a tree that breaks each one, and nothing for test files', { timeout: 60_000 }, () => {
    const root = tempDir('quarry-depcruise-');
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    copyFileSync(join(REPO_ROOT, 'tsconfig.json'), join(root, 'tsconfig.json'));
    copyFileSync(join(REPO_ROOT, '.dependency-cruiser.cjs'), join(root, '.dependency-cruiser.cjs'));
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text + '\n');
    }
    const result = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), '--config', '.dependency-cruiser.cjs', '--output-type', 'json', 'lib', 'services', 'test'],
      { cwd: root, encoding: 'utf8' },
    );
    const report = JSON.parse(result.stdout);
    const violations: Array<{ rule: { name: string }; from: string; to: string }> = report.summary.violations;
    const firedRules = new Set(violations.map((v) => v.rule.name));
    expect([...firedRules].sort()).toEqual([...EXPECTED_RULES].sort());
    expect(violations.filter((v) => v.from.startsWith('test/') || v.from === 'lib/analysis/ok.ts' || (v.from === 'lib/search/s.ts' && v.to === 'lib/cluster/types.ts') || v.from === 'services/coordinator/a.ts')).toEqual([]);
  });
});
