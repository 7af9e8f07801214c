/**
 * The expected-state model of the crash tests: every write a client sent, with what the client learned
 * about it, and the rule for which states are allowed after a crash.
 *
 * The rule (Elasticsearch's durability contract): a write whose response arrived with success is
 * *acknowledged* and must survive a crash. Per `_id`, the acknowledged write with the highest `_seq_no`
 * wins (seq_no order is the order in which the primary applied the writes, under its per-id lock).
 * A write whose response never arrived is *unknown*: it may or may not have happened, but it happens
 * whole (the stored `_source` is exactly the one it sent) and only after every write acknowledged
 * before it on that id, so it may only explain a state *newer* than the last acknowledged one.
 */
import { isDeepStrictEqual } from 'node:util';

/** A document body as the tests write it (every write carries the whole key set, so updates merge to it). */
export type DocSource = Record<string, unknown>;

/** One write, as the client saw it. */
export interface WriteRecord {
  index: string;
  id: string;
  /** What the write does to the document: `index` (PUT, bulk index/create, update with the full doc) or `delete`. */
  effect: 'index' | 'delete';
  /** For `index` effects: the `_source` the document has after this write. */
  source?: DocSource;
  /** How it was sent, for failure messages. */
  via: string;
  outcome: 'acked' | 'unknown';
  seqNo?: number;
  version?: number;
  /** An acknowledged delete of a missing document (`result: not_found`). */
  notFound?: boolean;
}

/** What a real-time GET showed for one id. */
export interface ObservedDoc {
  found: boolean;
  source?: DocSource;
  version?: number;
  seqNo?: number;
}

/** The key of an id within an index. */
export function docKey(index: string, id: string): string {
  return `${index}/${id}`;
}

/** Writes of the current crash cycle, on top of the state verified after the previous restart. */
export class WriteHistory {
  /** State verified after the last restart (absent = never written or not found). */
  private readonly baseline = new Map<string, ObservedDoc>();
  private readonly writes = new Map<string, WriteRecord[]>();
  /** Highest acknowledged seq_no per `index/shard` in earlier cycles: a recovered shard must never hand them out again. */
  private readonly seqNoMaxBefore = new Map<string, number>();
  private readonly seqNoMaxThisCycle = new Map<string, number>();
  private readonly seqNosThisCycle = new Map<string, Map<number, string>>();
  /** Invariant violations seen while recording (duplicate seq_no, seq_no reuse after a restart). */
  readonly violations: string[] = [];
  ackedCount = 0;
  unknownCount = 0;

  constructor(private readonly shardOf: (index: string, id: string) => number) {}

  /** Records one write (called as soon as its outcome is known). */
  record(write: WriteRecord): void {
    const key = docKey(write.index, write.id);
    let list = this.writes.get(key);
    if (!list) this.writes.set(key, (list = []));
    list.push(write);
    if (write.outcome === 'unknown') {
      this.unknownCount++;
      return;
    }
    this.ackedCount++;
    if (write.seqNo === undefined) return;
    const shardKey = `${write.index}/${this.shardOf(write.index, write.id)}`;
    let seen = this.seqNosThisCycle.get(shardKey);
    if (!seen) this.seqNosThisCycle.set(shardKey, (seen = new Map()));
    const previous = seen.get(write.seqNo);
    if (previous !== undefined) {
      this.violations.push(`shard ${shardKey}: _seq_no ${write.seqNo} acknowledged twice (${previous} and ${write.via} ${write.id})`);
    }
    seen.set(write.seqNo, `${write.via} ${write.id}`);
    const before = this.seqNoMaxBefore.get(shardKey);
    if (before !== undefined && write.seqNo <= before) {
      this.violations.push(
        `shard ${shardKey}: _seq_no ${write.seqNo} (${write.via} ${write.id}) reuses a number already acknowledged before the restart (max was ${before}): recovery lost operations`,
      );
    }
    this.seqNoMaxThisCycle.set(shardKey, Math.max(this.seqNoMaxThisCycle.get(shardKey) ?? -1, write.seqNo));
  }

  /** Every key ever written or verified, so verification also sees ids untouched this cycle. */
  keys(): string[] {
    return [...new Set([...this.baseline.keys(), ...this.writes.keys()])].sort();
  }

  /** Acknowledged writes on one id, oldest first, for failure messages. */
  writesOf(key: string): WriteRecord[] {
    return this.writes.get(key) ?? [];
  }

  /**
   * Checks one observed document against the rule; returns a violation message, or undefined when
   * the state is allowed.
   */
  check(key: string, observed: ObservedDoc): string | undefined {
    const writes = this.writes.get(key) ?? [];
    const acked = writes.filter((w) => w.outcome === 'acked' && w.seqNo !== undefined).sort((a, b) => a.seqNo! - b.seqNo!);
    // An acked write without a seq_no cannot be ordered: it is only as good as an unknown one.
    const unknown = writes.filter((w) => w.outcome === 'unknown' || w.seqNo === undefined);
    const last = acked.at(-1);
    const expected: ObservedDoc = last
      ? { found: last.effect === 'index', source: last.source, version: last.version, seqNo: last.seqNo }
      : (this.baseline.get(key) ?? { found: false });
    const describe = (doc: ObservedDoc): string =>
      doc.found ? `found _seq_no=${doc.seqNo} _version=${doc.version} _source=${JSON.stringify(doc.source)}` : 'not found';
    const context = (): string =>
      `expected (${last ? `last acked: ${last.via}` : 'baseline'}) ${describe(expected)}; observed ${describe(observed)}; writes this cycle: ` +
      writes.map((w) => `${w.via}:${w.effect}:${w.outcome}${w.seqNo !== undefined ? `@${w.seqNo}/v${w.version}` : ''}`).join(', ');

    for (let i = 1; i < acked.length; i++) {
      const previous = acked[i - 1]!;
      const current = acked[i]!;
      if (!previous.notFound && !current.notFound && previous.version !== undefined && current.version !== undefined && current.version <= previous.version) {
        return `${key}: _version did not increase with _seq_no (${previous.seqNo}/v${previous.version} then ${current.seqNo}/v${current.version}); ${context()}`;
      }
    }

    if (observed.found) {
      if (expected.found && observed.seqNo === expected.seqNo) {
        if (observed.version !== expected.version || !isDeepStrictEqual(observed.source, expected.source)) {
          return `${key}: same _seq_no as the last acknowledged write but different content; ${context()}`;
        }
        return undefined;
      }
      const newer = expected.seqNo === undefined || (observed.seqNo !== undefined && observed.seqNo > expected.seqNo);
      if (!newer) return `${key}: acknowledged write lost (state is older than the last acknowledged write); ${context()}`;
      if (unknown.some((w) => w.effect === 'index' && isDeepStrictEqual(w.source, observed.source))) return undefined;
      return `${key}: state matches neither the last acknowledged write nor any in-flight write (partial or phantom write); ${context()}`;
    }
    if (!expected.found) return undefined;
    if (unknown.some((w) => w.effect === 'delete')) return undefined;
    return `${key}: acknowledged document missing after restart; ${context()}`;
  }

  /** Starts a new cycle: the verified states become the baseline, and this cycle's seq_nos become "before". */
  nextCycle(observed: Map<string, ObservedDoc>): void {
    this.baseline.clear();
    for (const [key, doc] of observed) this.baseline.set(key, doc);
    this.writes.clear();
    for (const [shardKey, seqNo] of this.seqNoMaxThisCycle) {
      this.seqNoMaxBefore.set(shardKey, Math.max(this.seqNoMaxBefore.get(shardKey) ?? -1, seqNo));
    }
    this.seqNoMaxThisCycle.clear();
    this.seqNosThisCycle.clear();
  }
}
