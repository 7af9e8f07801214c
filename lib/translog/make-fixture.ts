/**
 * Writes the frozen format-v1 fixture read by format.test.ts: `npx tsx lib/translog/make-fixture.ts`.
 * Run it only when deliberately adding a new format version (to a new fixtures/ directory): the v1
 * fixture must stay as it is, so a change that breaks reading old translogs fails a test.
 */
import { rm } from 'node:fs/promises';
import { Translog } from './translog.js';
import type { TranslogOp } from './types.js';

/** The ops stored in the fixture, in order. */
export const FIXTURE_V1_OPS: TranslogOp[] = [
  { type: 'index', id: 'doc-1', seqNo: 0, primaryTerm: 1, version: 1, source: new TextEncoder().encode('{"title":"hello"}') },
  { type: 'index', id: 'ünï-çødé-😀', seqNo: 1, primaryTerm: 1, version: 3, source: new Uint8Array([0, 255, 1, 254]), routing: 'r1' },
  { type: 'delete', id: 'doc-1', seqNo: 2, primaryTerm: 2, version: 2 },
  { type: 'noop', id: '', seqNo: 3, primaryTerm: 2, version: 1, reason: 'filling a gap' },
  { type: 'index', id: 'big', seqNo: 2 ** 40, primaryTerm: 2 ** 33, version: Number.MAX_SAFE_INTEGER, source: new Uint8Array(300).fill(7) },
];
export const FIXTURE_V1_UUID = 'fixture-v1-0000-0000-000000000001';
export const FIXTURE_V1_DIR = new URL('./fixtures/v1/', import.meta.url).pathname;

if (process.argv[1]?.endsWith('make-fixture.ts')) {
  await rm(FIXTURE_V1_DIR, { recursive: true, force: true });
  const translog = await Translog.open(FIXTURE_V1_DIR, { translogUuid: FIXTURE_V1_UUID });
  translog.add(FIXTURE_V1_OPS[0]);
  translog.add(FIXTURE_V1_OPS[1]);
  await translog.rollGeneration();
  for (const op of FIXTURE_V1_OPS.slice(2)) translog.add(op);
  translog.setGlobalCheckpoint(3);
  await translog.close();
}
