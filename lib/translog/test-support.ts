/** Helpers shared by the translog's tests: temp dirs, op builders, reading everything back. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Translog } from './translog.js';
import type { TranslogOp } from './types.js';

/** Creates a fresh temp dir; `cleanup` removes every dir made so far. */
export function tempDirs(): { make(): Promise<string>; cleanup(): Promise<void> } {
  const made: string[] = [];
  return {
    async make() {
      const dir = await mkdtemp(join(tmpdir(), 'quarry-translog-'));
      made.push(dir);
      return dir;
    },
    async cleanup() {
      for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An index op with a JSON source of roughly `sourceBytes` bytes. */
export function indexOp(seqNo: number, sourceBytes = 64): TranslogOp {
  const filler = 'x'.repeat(Math.max(0, sourceBytes - 20));
  return {
    type: 'index',
    id: `doc-${seqNo}`,
    seqNo,
    primaryTerm: 1,
    version: 1,
    source: new TextEncoder().encode(JSON.stringify({ n: seqNo, f: filler })),
  };
}

/** A comparable plain form of an op (binary source as hex, absent optional fields dropped). */
export function normalize(op: TranslogOp): Record<string, unknown> {
  const out: Record<string, unknown> = { type: op.type, id: op.id, seqNo: op.seqNo, primaryTerm: op.primaryTerm, version: op.version };
  if (op.source !== undefined) out.source = Buffer.from(op.source.buffer, op.source.byteOffset, op.source.byteLength).toString('hex');
  if (op.routing !== undefined) out.routing = op.routing;
  if (op.reason !== undefined) out.reason = op.reason;
  return out;
}

/** Every op `readOps(fromSeqNo)` returns, normalized. */
export async function readAll(translog: Translog, fromSeqNo?: number): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const op of translog.readOps(fromSeqNo)) out.push(normalize(op));
  return out;
}
